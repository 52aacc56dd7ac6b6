//! Scion's Ethereum JSON-RPC server: jsonrpsee over HTTP and WebSocket on one port, one file
//! per namespace, and every error mapped to its JSON-RPC code once, in `error.rs`.
//!
//! Where to start: [`module`] registers every namespace; eth.rs is the core of `eth_*` and
//! names the files that hold the rest; convert.rs turns stored blocks into their JSON shapes.

mod admin;
pub mod cache;
pub mod convert;
mod debug;
mod dev;
pub mod error;
mod eth;
mod eth_blocks;
mod eth_proof;
mod eth_sign;
mod mnr;
mod net;
mod notify;
pub mod pubsub;
mod simulate;
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
    /// Wakes the dev miner when automine is switched on (it also wakes for every transaction
    /// that enters the pool, through the chain's PendingTx event).
    pub new_tx: Arc<Notify>,
    /// Serve the `mnr` merge-mining namespace.
    pub mining: bool,
    /// Limits that keep one client from starving the others.
    pub limits: RpcLimits,
    /// Dev controls (evm_*, anvil_*); `None` outside --dev.
    pub dev: Option<Arc<DevState>>,
    /// Recently read blocks, for receipt lookups.
    pub blocks: Arc<cache::BlockCache>,
    /// The peer-to-peer network; `None` when the node runs alone (`--no-p2p`, or `--dev`
    /// without peers).
    pub net: Option<scion_p2p::NetworkHandle>,
    /// Serve the `admin` namespace (`--rpc.admin`).
    pub admin: bool,
}

/// State behind the dev methods.
#[derive(Debug, Default)]
pub struct DevState {
    /// Seal a block as soon as transactions are pending.
    pub automine: std::sync::atomic::AtomicBool,
    /// Accounts eth_sendTransaction may send from without their key.
    pub impersonated: parking_lot::Mutex<std::collections::HashSet<alloy_primitives::Address>>,
    /// evm_snapshot ids → the block number they saved.
    pub snapshots: parking_lot::Mutex<std::collections::BTreeMap<u64, u64>>,
}

impl DevState {
    /// Dev state with automine on.
    pub fn new() -> Self {
        let s = Self::default();
        s.automine.store(true, std::sync::atomic::Ordering::Relaxed);
        s
    }
}

/// Limits on what one client may ask, each with a command-line flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcLimits {
    /// Largest request body, in bytes.
    pub max_request_body: u32,
    /// Most requests in one batch.
    pub max_batch: u32,
    /// Most blocks one eth_getLogs may scan.
    pub max_log_range: u64,
    /// Most logs one eth_getLogs may return.
    pub max_logs: usize,
    /// Most subscriptions on one WebSocket connection.
    pub max_subscriptions: u32,
    /// Most filters installed at once.
    pub max_filters: usize,
    /// Origins allowed by CORS; `*` allows any.
    pub cors: Vec<String>,
}

impl Default for RpcLimits {
    fn default() -> Self {
        Self {
            max_request_body: 10 * 1024 * 1024,
            max_batch: 1_000,
            max_log_range: 10_000,
            max_logs: 10_000,
            max_subscriptions: 1_024,
            max_filters: 10_000,
            cors: vec!["*".into()],
        }
    }
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
        eth_blocks::EthBlocksApiServer::into_rpc(eth_blocks::EthBlocks(ctx.clone()))
            .remove_context(),
        eth_proof::EthProofApiServer::into_rpc(eth_proof::EthProof(ctx.clone())).remove_context(),
        eth_sign::EthSignApiServer::into_rpc(eth_sign::EthSign(ctx.clone())).remove_context(),
        net::NetApiServer::into_rpc(net::Net(ctx.clone())).remove_context(),
        web3::Web3ApiServer::into_rpc(web3::Web3).remove_context(),
        txpool::TxpoolApiServer::into_rpc(txpool::Txpool(ctx.clone())).remove_context(),
        debug::DebugApiServer::into_rpc(debug::Debug(ctx.clone())).remove_context(),
        simulate::EthSimulateApiServer::into_rpc(simulate::EthSimulate(ctx.clone()))
            .remove_context(),
    ];
    if ctx.dev.is_some() {
        parts.push(dev::DevApiServer::into_rpc(dev::Dev(ctx.clone())).remove_context());
    }
    if ctx.admin {
        parts.push(admin::AdminApiServer::into_rpc(admin::Admin(ctx.clone())).remove_context());
    }
    if ctx.mining {
        parts.push(mnr::MnrApiServer::into_rpc(mnr::Mnr(ctx.clone())).remove_context());
    }
    let filters = std::sync::Arc::new(pubsub::Filters::new(
        ctx.limits.max_filters,
        pubsub::FILTER_TTL,
    ));
    let events = pubsub::start(&ctx.chain, filters.clone());
    let pubsub = pubsub::EthPubSub {
        ctx,
        filters,
        events,
    };
    parts.push(pubsub::EthPubSubApiServer::into_rpc(pubsub).remove_context());
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
    let limits = ctx.limits.clone();
    let cors = if limits.cors.iter().any(|o| o == "*") {
        tower_http::cors::CorsLayer::permissive()
    } else {
        let origins: Vec<_> = limits.cors.iter().filter_map(|o| o.parse().ok()).collect();
        tower_http::cors::CorsLayer::new()
            .allow_origin(tower_http::cors::AllowOrigin::list(origins))
            .allow_methods([http::Method::POST, http::Method::GET, http::Method::OPTIONS])
            .allow_headers([http::header::CONTENT_TYPE])
    };
    let config = ServerConfig::builder()
        .max_request_body_size(limits.max_request_body)
        .max_response_body_size(u32::MAX)
        .max_subscriptions_per_connection(limits.max_subscriptions)
        .set_batch_request_config(jsonrpsee::server::BatchRequestConfig::Limit(
            limits.max_batch,
        ))
        .build();
    let server = Server::builder()
        .set_config(config)
        .set_http_middleware(
            tower::ServiceBuilder::new()
                .layer(cors)
                .layer(notify::NotificationLayer),
        )
        .build(addr)
        .await
        .map_err(|e| err(&e))?;
    let local = server.local_addr().map_err(|e| err(&e))?;
    Ok((local, server.start(module(ctx))))
}
