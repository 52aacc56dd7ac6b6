//! The `net` namespace.

use crate::RpcContext;
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;

/// net_* methods.
#[rpc(server, namespace = "net")]
pub trait NetApi {
    /// The chain id as a decimal string.
    #[method(name = "version")]
    fn version(&self) -> RpcResult<String>;
    /// True when the node takes part in the peer-to-peer network.
    #[method(name = "listening")]
    fn listening(&self) -> RpcResult<bool>;
    /// Peers that completed the Status handshake.
    #[method(name = "peerCount")]
    fn peer_count(&self) -> RpcResult<alloy_primitives::U64>;
}

/// The net namespace.
pub struct Net(pub RpcContext);

impl NetApiServer for Net {
    fn version(&self) -> RpcResult<String> {
        Ok(self.0.chain.chain_id().to_string())
    }

    fn listening(&self) -> RpcResult<bool> {
        Ok(self.0.net.is_some())
    }

    fn peer_count(&self) -> RpcResult<alloy_primitives::U64> {
        let n = self.0.net.as_ref().map_or(0, |n| n.peer_count());
        Ok(alloy_primitives::U64::from(n))
    }
}
