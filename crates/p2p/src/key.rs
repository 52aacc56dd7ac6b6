//! The node's identity and memory across restarts: an ed25519 key in `<datadir>/p2p/node.key`
//! (the 32-byte secret in hex, mode 0600, created on first run) and the peers it knew
//! (`<datadir>/p2p/peers.json`).

use crate::P2pError;
use libp2p::identity::Keypair;
use libp2p::{Multiaddr, PeerId};
use std::io::Write;
use std::path::Path;

/// Loads the node key from `path`, or creates it there (mode 0600) if the file is absent.
pub fn load_or_create(path: &Path) -> Result<Keypair, P2pError> {
    let io = |e: std::io::Error| P2pError::Key {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mut bytes =
                alloy_primitives::hex::decode(text.trim()).map_err(|e| P2pError::Key {
                    path: path.to_path_buf(),
                    reason: format!("not hex: {e}"),
                })?;
            if bytes.len() != 32 {
                return Err(P2pError::Key {
                    path: path.to_path_buf(),
                    reason: format!("{} bytes, expected a 32-byte ed25519 secret", bytes.len()),
                });
            }
            Keypair::ed25519_from_bytes(&mut bytes).map_err(|e| P2pError::Key {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let keypair = libp2p::identity::ed25519::Keypair::generate();
            let secret = alloy_primitives::hex::encode(keypair.secret().as_ref());
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(path).map_err(io)?;
            f.write_all(secret.as_bytes()).map_err(io)?;
            f.sync_all().map_err(io)?;
            Ok(keypair.into())
        }
        Err(e) => Err(io(e)),
    }
}

/// A peer this node was connected to, and where.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KnownPeer {
    /// Its id.
    pub peer_id: String,
    /// Addresses it was reached at.
    pub addrs: Vec<String>,
}

/// Reads the known peers; a missing or unreadable file is an empty list (and a warning).
pub fn load_peers(path: &Path) -> Vec<(PeerId, Vec<Multiaddr>)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return vec![];
    };
    let peers: Vec<KnownPeer> = match serde_json::from_str(&text) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable known-peers file");
            return vec![];
        }
    };
    peers
        .into_iter()
        .filter_map(|p| {
            let id = p.peer_id.parse().ok()?;
            let addrs = p.addrs.iter().filter_map(|a| a.parse().ok()).collect();
            Some((id, addrs))
        })
        .collect()
}

/// Writes the known peers atomically (a temporary file, then a rename).
pub fn save_peers(path: &Path, peers: &[(PeerId, Vec<Multiaddr>)]) -> Result<(), P2pError> {
    let list: Vec<KnownPeer> = peers
        .iter()
        .map(|(id, addrs)| KnownPeer {
            peer_id: id.to_string(),
            addrs: addrs.iter().map(|a| a.to_string()).collect(),
        })
        .collect();
    let io = |e: std::io::Error| P2pError::Key {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let text = serde_json::to_string_pretty(&list).map_err(|e| P2pError::Key {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_created_once_with_mode_0600_and_then_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p2p").join("node.key");
        let first = load_or_create(&path).expect("create");
        let second = load_or_create(&path).expect("load");
        assert_eq!(first.public().to_peer_id(), second.public().to_peer_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "abcd").expect("write");
        let err = load_or_create(&path).expect_err("a 2-byte key");
        assert!(err.to_string().contains("expected a 32-byte"), "{err}");
    }

    #[test]
    fn known_peers_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("peers.json");
        assert!(load_peers(&path).is_empty());
        let id = Keypair::generate_ed25519().public().to_peer_id();
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/30303".parse().expect("addr");
        save_peers(&path, &[(id, vec![addr.clone()])]).expect("save");
        assert_eq!(load_peers(&path), vec![(id, vec![addr])]);
        std::fs::write(&path, "not json").expect("write");
        assert!(load_peers(&path).is_empty());
    }
}
