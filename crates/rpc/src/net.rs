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
    /// Always true: the node serves requests.
    #[method(name = "listening")]
    fn listening(&self) -> RpcResult<bool>;
    /// Zero: the node has no peer-to-peer network yet.
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
        Ok(true)
    }

    fn peer_count(&self) -> RpcResult<alloy_primitives::U64> {
        Ok(alloy_primitives::U64::ZERO)
    }
}
