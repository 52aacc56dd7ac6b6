//! The `admin` namespace (behind `--rpc.admin`), in geth's shapes: the node's identity and
//! listen address, its peers, and dialing or dropping a peer.

use crate::{error, RpcContext};
use jsonrpsee::core::{async_trait, RpcResult};
use jsonrpsee::proc_macros::rpc;
use serde_json::{json, Value};

/// admin_* methods.
#[rpc(server, namespace = "admin")]
pub trait AdminApi {
    /// The node's peer id, listen addresses and chain, as geth's `admin_nodeInfo`.
    #[method(name = "nodeInfo")]
    fn node_info(&self) -> RpcResult<Value>;
    /// Handshaken peers, as geth's `admin_peers`.
    #[method(name = "peers")]
    fn peers(&self) -> RpcResult<Vec<scion_p2p::PeerInfo>>;
    /// Dials a peer given as a multiaddr (`/ip4/…/tcp/…/p2p/<peer id>`).
    #[method(name = "addPeer")]
    async fn add_peer(&self, addr: String) -> RpcResult<bool>;
    /// Disconnects a peer given by id or multiaddr; false when it was not connected.
    #[method(name = "removePeer")]
    async fn remove_peer(&self, peer: String) -> RpcResult<bool>;
}

/// The admin namespace.
pub struct Admin(pub RpcContext);

impl Admin {
    fn net(&self) -> RpcResult<&scion_p2p::NetworkHandle> {
        self.0
            .net
            .as_ref()
            .ok_or_else(|| error::server("the peer-to-peer network is off on this node"))
    }
}

#[async_trait]
impl AdminApiServer for Admin {
    fn node_info(&self) -> RpcResult<Value> {
        let net = self.net()?;
        let info = net.info();
        let chain = &self.0.chain;
        let head = chain.head();
        let td = chain
            .total_difficulty(head.hash())
            .map_err(error::chain)?
            .unwrap_or_default();
        let genesis = chain.canonical_hash(0).map_err(error::chain)?;
        let listen = info.listen.first().map(|a| a.to_string());
        let port = info.tcp_port();
        Ok(json!({
            "id": info.peer_id,
            "name": crate::client_version(),
            "enode": listen,
            "listenAddr": listen,
            "listenAddrs": info.listen.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            "ports": { "listener": port },
            "protocols": {
                "scion": {
                    "network": chain.chain_id(),
                    "genesis": genesis,
                    "head": head.hash(),
                    "number": head.number,
                    "totalDifficulty": td,
                }
            }
        }))
    }

    fn peers(&self) -> RpcResult<Vec<scion_p2p::PeerInfo>> {
        Ok(self.net()?.info().peers)
    }

    async fn add_peer(&self, addr: String) -> RpcResult<bool> {
        self.net()?.add_peer(&addr).await.map_err(error::p2p)?;
        Ok(true)
    }

    async fn remove_peer(&self, peer: String) -> RpcResult<bool> {
        self.net()?.remove_peer(&peer).await.map_err(error::p2p)
    }
}
