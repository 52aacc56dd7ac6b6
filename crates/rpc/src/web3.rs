//! The `web3` namespace.

use alloy_primitives::{keccak256, Bytes, B256};
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;

/// web3_* methods.
#[rpc(server, namespace = "web3")]
pub trait Web3Api {
    /// Client name and version.
    #[method(name = "clientVersion")]
    fn client_version(&self) -> RpcResult<String>;
    /// Keccak-256 of the input.
    #[method(name = "sha3")]
    fn sha3(&self, data: Bytes) -> RpcResult<B256>;
}

/// The web3 namespace.
pub struct Web3;

impl Web3ApiServer for Web3 {
    fn client_version(&self) -> RpcResult<String> {
        Ok(crate::client_version())
    }

    fn sha3(&self, data: Bytes) -> RpcResult<B256> {
        Ok(keccak256(&data))
    }
}
