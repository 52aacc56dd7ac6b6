//! What the rest of the node sees of the network: [`NetworkHandle`], the state the RPC reads
//! and the commands it sends to the swarm's task.

use crate::{NetInfo, P2pError, SyncProgress};
use libp2p::{multiaddr::Protocol, Multiaddr, PeerId};
use parking_lot::RwLock;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// What the RPC (and the node) may ask of the network's task.
#[derive(Debug)]
pub enum Command {
    /// Dial a peer (admin_addPeer).
    AddPeer(Multiaddr, oneshot::Sender<Result<(), P2pError>>),
    /// Disconnect a peer (admin_removePeer); answers whether it was connected.
    RemovePeer(PeerId, oneshot::Sender<bool>),
    /// Stop the task; answered once the swarm and the import threads are gone.
    Shutdown(oneshot::Sender<()>),
}

/// The network as the rest of the node sees it: its state to read, and commands.
#[derive(Debug, Clone)]
pub struct NetworkHandle {
    pub(crate) commands: mpsc::Sender<Command>,
    pub(crate) info: Arc<RwLock<NetInfo>>,
    pub(crate) peer_id: PeerId,
}

impl NetworkHandle {
    /// Our peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// A snapshot of peers, listen addresses and sync progress.
    pub fn info(&self) -> NetInfo {
        self.info.read().clone()
    }

    /// Handshaken peers.
    pub fn peer_count(&self) -> usize {
        self.info.read().peers.len()
    }

    /// Set while a sync runs.
    pub fn syncing(&self) -> Option<SyncProgress> {
        self.info.read().syncing
    }

    /// Where the node listens, each address ending in `/p2p/<peer id>`.
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        self.info.read().listen.clone()
    }

    /// Dials `addr`.
    pub async fn add_peer(&self, addr: &str) -> Result<(), P2pError> {
        let addr: Multiaddr =
            addr.parse()
                .map_err(|e: libp2p::multiaddr::Error| P2pError::BadAddress {
                    addr: addr.into(),
                    reason: e.to_string(),
                })?;
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::AddPeer(addr, tx))
            .await
            .map_err(|_| P2pError::Stopped)?;
        rx.await.map_err(|_| P2pError::Stopped)?
    }

    /// Disconnects the peer with this id (or the `/p2p/<id>` of this multiaddr).
    pub async fn remove_peer(&self, peer: &str) -> Result<bool, P2pError> {
        let id = peer_id_of(peer).ok_or_else(|| P2pError::BadAddress {
            addr: peer.into(),
            reason: "neither a peer id nor a multiaddr ending in /p2p/<peer id>".into(),
        })?;
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::RemovePeer(id, tx))
            .await
            .map_err(|_| P2pError::Stopped)?;
        rx.await.map_err(|_| P2pError::Stopped)
    }

    /// Stops the network's task and waits until it no longer uses the chain.
    pub async fn stop(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Shutdown(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// The peer id a string names: a bare id, or a multiaddr's `/p2p/` part.
pub fn peer_id_of(s: &str) -> Option<PeerId> {
    if let Ok(id) = s.parse::<PeerId>() {
        return Some(id);
    }
    let addr: Multiaddr = s.parse().ok()?;
    addr.iter().find_map(|p| match p {
        Protocol::P2p(id) => Some(id),
        _ => None,
    })
}
