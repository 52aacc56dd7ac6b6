//! Scion's peer-to-peer network on rust-libp2p (NETWORK.md is the design): TCP + Noise +
//! Yamux, gossipsub for blocks and transactions, request/response for the Status handshake
//! and for headers and bodies, identify, ping, a private Kademlia DHT, connection limits and a
//! block list.
//!
//! Start at [`spawn`]: it builds the swarm (`service.rs`, the task's loop) and returns a
//! [`NetworkHandle`] (`handle.rs`) that the RPC reads and commands. `requests.rs` serves and
//! answers the request/response protocols, `gossip.rs` blocks and transactions, `info.rs` what
//! the RPC reads. One tokio task owns the swarm and never executes a block: imports go to one
//! import thread behind a bounded queue ([`importer`]), served reads and transaction checks to
//! `spawn_blocking`. [`wire`] and [`codec`] are the bytes on the wire, [`sync`] follows the
//! heaviest chain (`fill.rs` fetches from every peer ahead of us), [`peers`] scores and bans
//! peers (`scoring.rs`: gossipsub's own mesh score), [`key`] keeps the node's identity across
//! restarts.

// Everything here handles what peers send: no silent overflow, no panicking index.
#![cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::as_conversions
    )
)]

pub mod codec;
mod fill;
mod gossip;
mod handle;
pub mod importer;
mod info;
pub mod key;
pub mod peers;
mod requests;
mod scoring;
mod serve;
pub mod service;
pub mod sync;
pub mod wire;

pub use handle::{peer_id_of, Command, NetworkHandle};
pub use libp2p::multiaddr::Protocol;
pub use libp2p::{Multiaddr, PeerId};
pub use service::spawn;

use serde::Serialize;
use std::path::PathBuf;

/// Errors of the network crate.
#[derive(Debug, thiserror::Error)]
pub enum P2pError {
    /// The node key file could not be read or written, or is malformed.
    #[error("node key {path}: {reason}")]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A multiaddr given by the operator is not one.
    #[error("bad peer address {addr:?}: {reason}")]
    BadAddress {
        /// What was given.
        addr: String,
        /// Why it is refused.
        reason: String,
    },
    /// The swarm could not be built or could not listen.
    #[error("starting the network: {0}")]
    Start(String),
    /// The network task is gone (the node is shutting down).
    #[error("the network task has stopped")]
    Stopped,
}

/// How the node takes part in the network.
#[derive(Debug, Clone)]
pub struct P2pConfig {
    /// The address to listen on, as a multiaddr (`/ip4/127.0.0.1/tcp/0` picks a free port).
    pub listen: Multiaddr,
    /// Where the node key lives (`<datadir>/p2p/node.key` by default).
    pub key_file: PathBuf,
    /// Where known peers are kept across restarts (`<datadir>/p2p/peers.json`).
    pub peers_file: PathBuf,
    /// Peers to dial at start, found further through the DHT.
    pub bootnodes: Vec<Multiaddr>,
    /// Peers to stay connected to: redialed whenever they drop.
    pub static_peers: Vec<Multiaddr>,
    /// Most connected peers; a quarter of the slots (at least one) are kept for outbound dials.
    pub max_peers: u32,
    /// Dial only the peers given (no DHT, no known peers from earlier runs).
    pub no_discovery: bool,
}

impl P2pConfig {
    /// Defaults for a node storing in `datadir`, listening on `listen`.
    pub fn new(datadir: &std::path::Path, listen: Multiaddr) -> Self {
        Self {
            listen,
            key_file: datadir.join("p2p").join("node.key"),
            peers_file: datadir.join("p2p").join("peers.json"),
            bootnodes: vec![],
            static_peers: vec![],
            max_peers: 50,
            no_discovery: false,
        }
    }
}

/// One connected peer, as `admin_peers` shows it (geth's shape).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PeerInfo {
    /// The peer id.
    pub id: String,
    /// Its client, from identify.
    pub name: String,
    /// Where the connection goes.
    pub network: PeerNetwork,
    /// Its last Status, once the handshake is done.
    pub protocols: serde_json::Value,
}

/// The connection's ends.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PeerNetwork {
    /// Our end.
    pub local_address: String,
    /// Its end.
    pub remote_address: String,
    /// True when it dialed us.
    pub inbound: bool,
    /// True for a static peer.
    #[serde(rename = "static")]
    pub is_static: bool,
}

/// A peer banned now.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Banned {
    /// Its peer id.
    pub id: String,
    /// The fault that banned it.
    pub reason: String,
}

/// Sync progress, for `eth_syncing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SyncProgress {
    /// Our head when this sync started.
    pub starting_block: u64,
    /// Our head now.
    pub current_block: u64,
    /// The head we are syncing to.
    pub highest_block: u64,
}

/// What the network shows the RPC.
#[derive(Debug, Clone, Default)]
pub struct NetInfo {
    /// Our peer id.
    pub peer_id: String,
    /// Where we listen, each with `/p2p/<peer id>`.
    pub listen: Vec<Multiaddr>,
    /// Handshaken peers.
    pub peers: Vec<PeerInfo>,
    /// Set while a sync runs.
    pub syncing: Option<SyncProgress>,
    /// Peers banned now, with the fault that banned each.
    pub banned: Vec<Banned>,
    /// Connections dropped because the peer was of another network (chain id or genesis).
    pub other_network_drops: u64,
}

impl NetInfo {
    /// The TCP port of the first listen address.
    pub fn tcp_port(&self) -> Option<u16> {
        self.listen.first().and_then(|a| {
            a.iter().find_map(|p| match p {
                libp2p::multiaddr::Protocol::Tcp(port) => Some(port),
                _ => None,
            })
        })
    }
}
