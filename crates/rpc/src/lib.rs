//! Scion's Ethereum JSON-RPC server: jsonrpsee over HTTP and WebSocket on one port, one file
//! per namespace, and every error mapped to its JSON-RPC code once, in `error.rs`.

pub mod convert;
pub mod error;
mod eth;
mod eth_ext;
mod mnr;
mod net;
mod txpool;
mod web3;

pub use eth::{EthApiServer, SUGGESTED_TIP};

use jsonrpsee::server::{RpcModule, Server, ServerConfig, ServerHandle};
use scion_chain::Chain;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::Notify;

/// What every namespace shares.
#[derive(Clone)]
pub struct RpcContext {
    /// The chain.
    pub chain: Arc<Chain>,
    /// Keys the node signs with for eth_sign / eth_sendTransaction (the dev keys in --dev);
    /// their addresses are what eth_accounts lists.
    pub dev_signers: Vec<alloy_signer_local::PrivateKeySigner>,
    /// Woken when a transaction enters the pool (the dev miner waits on it).
    pub new_tx: Arc<Notify>,
    /// Serve the `mnr` merge-mining namespace.
    pub mining: bool,
}

/// Errors of the RPC crate.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The server could not start.
    #[error("starting the RPC server on {addr}: {reason}")]
    Start {
        /// The address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
}

/// `scion/v<version>/<os>-<arch>`.
pub fn client_version() -> String {
    format!(
        "scion/v{}/{}-{}",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Every namespace in one module.
pub fn module(ctx: RpcContext) -> RpcModule<()> {
    let mut m = RpcModule::new(());
    // Method names are unique across namespaces, so merging cannot fail.
    let mut parts = vec![
        eth::EthApiServer::into_rpc(eth::Eth(ctx.clone())).remove_context(),
        eth_ext::EthExtApiServer::into_rpc(eth_ext::EthExt(ctx.clone())).remove_context(),
        net::NetApiServer::into_rpc(net::Net(ctx.clone())).remove_context(),
        web3::Web3ApiServer::into_rpc(web3::Web3).remove_context(),
        txpool::TxpoolApiServer::into_rpc(txpool::Txpool(ctx.clone())).remove_context(),
    ];
    if ctx.mining {
        parts.push(mnr::MnrApiServer::into_rpc(mnr::Mnr(ctx)).remove_context());
    }
    for part in parts {
        if let Err(e) = m.merge(part) {
            tracing::error!(error = %e, "duplicate RPC method");
        }
    }
    m
}

/// Starts HTTP and WebSocket on `addr`; returns the bound address and the server handle.
pub async fn start(
    addr: SocketAddr,
    ctx: RpcContext,
) -> Result<(SocketAddr, ServerHandle), RpcError> {
    let err = |e: &dyn std::fmt::Display| RpcError::Start {
        addr,
        reason: e.to_string(),
    };
    let cors = tower_http::cors::CorsLayer::permissive();
    let config = ServerConfig::builder()
        .max_request_body_size(10 * 1024 * 1024)
        .build();
    let server = Server::builder()
        .set_config(config)
        .set_http_middleware(tower::ServiceBuilder::new().layer(cors))
        .build(addr)
        .await
        .map_err(|e| err(&e))?;
    let local = server.local_addr().map_err(|e| err(&e))?;
    Ok((local, server.start(module(ctx))))
}
