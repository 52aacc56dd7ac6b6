//! The Scion node: a plain `NodeConfig`, and `spawn` that opens the chain, starts the JSON-RPC
//! server and, in dev mode, the block producer. The `scion` binary turns its CLI into a
//! `NodeConfig`; tests build one with `NodeConfig::dev()`.

pub mod export;
pub mod federator;
pub mod miner;

use alloy_primitives::Address;
use alloy_signer_local::coins_bip39::English;
use alloy_signer_local::{MnemonicBuilder, PrivateKeySigner};
use scion_chain::Chain;
use scion_rpc::RpcContext;
use scion_types::ChainSpec;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The dev accounts (standard test mnemonic, indexes 0–19), listed by eth_accounts in dev.
const DEV_ACCOUNTS: &str = include_str!("../../../genesis/dev-accounts.txt");

/// Everything a node needs to start.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Where the database lives.
    pub datadir: PathBuf,
    /// JSON-RPC listen address (HTTP and WebSocket); port 0 picks a free port.
    pub http_addr: SocketAddr,
    /// The chain.
    pub spec: ChainSpec,
    /// Dev mode: instant mining and the dev accounts.
    pub dev: bool,
    /// Also seal a block every this often, transactions or not.
    pub block_time: Option<Duration>,
    /// Serve merge-mining work (`mnr_*`) to external miners; always on in dev.
    pub mining: bool,
    /// How often to rebuild mining work even when nothing changed.
    pub work_refresh: Duration,
    /// JSON-RPC limits.
    pub rpc_limits: scion_rpc::RpcLimits,
    /// The peer-to-peer network; `None` runs the node alone.
    pub p2p: Option<scion_p2p::P2pConfig>,
    /// Dev: seal blocks here (instantly, and every `block_time`). Off on all but one node of
    /// a networked dev chain, whose blocks then come from peers or from `scion miner`.
    pub automine: bool,
    /// Serve the `admin` namespace.
    pub rpc_admin: bool,
}

impl NodeConfig {
    /// A dev node on 127.0.0.1 with a free port, storing in `datadir`.
    pub fn dev(datadir: PathBuf) -> Self {
        Self {
            datadir,
            http_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            spec: ChainSpec::dev(),
            dev: true,
            block_time: None,
            mining: true,
            work_refresh: Duration::from_secs(5),
            rpc_limits: scion_rpc::RpcLimits::default(),
            p2p: None,
            automine: true,
            rpc_admin: false,
        }
    }

    /// A dev node that also joins a network on 127.0.0.1 (a free port), dialing `bootnodes`.
    pub fn dev_networked(datadir: PathBuf, bootnodes: Vec<scion_p2p::Multiaddr>) -> Self {
        let mut p2p = scion_p2p::P2pConfig::new(&datadir, loopback_any_port());
        p2p.bootnodes = bootnodes;
        Self {
            p2p: Some(p2p),
            rpc_admin: true,
            ..Self::dev(datadir)
        }
    }
}

/// `/ip4/127.0.0.1/tcp/0`.
pub fn loopback_any_port() -> scion_p2p::Multiaddr {
    scion_p2p::Multiaddr::empty()
        .with(scion_p2p::Protocol::Ip4(std::net::Ipv4Addr::LOCALHOST))
        .with(scion_p2p::Protocol::Tcp(0))
}

/// The dev accounts' addresses.
pub fn dev_accounts() -> Vec<Address> {
    DEV_ACCOUNTS
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// The standard test mnemonic of anvil and Hardhat.
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// The dev accounts' keys, derived from [`DEV_MNEMONIC`] (m/44'/60'/0'/0/i) and checked
/// against the addresses funded in the dev genesis.
pub fn dev_signers() -> eyre::Result<Vec<PrivateKeySigner>> {
    let expected = dev_accounts();
    let mut out = Vec::with_capacity(expected.len());
    for (i, want) in expected.iter().enumerate() {
        let signer = MnemonicBuilder::<English>::default()
            .phrase(DEV_MNEMONIC)
            .index(i as u32)?
            .build()?;
        eyre::ensure!(
            signer.address() == *want,
            "dev key {i} derives {}, genesis funds {want}",
            signer.address()
        );
        out.push(signer);
    }
    Ok(out)
}

/// A running node.
pub struct Node {
    /// The chain.
    pub chain: Arc<Chain>,
    /// Where JSON-RPC listens.
    pub rpc_addr: SocketAddr,
    /// The peer-to-peer network, when the node takes part in one.
    pub network: Option<scion_p2p::NetworkHandle>,
    server: jsonrpsee::server::ServerHandle,
    miner: Option<JoinHandle<()>>,
    refresher: Option<JoinHandle<()>>,
}

impl Node {
    /// The HTTP URL of the JSON-RPC endpoint.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.rpc_addr)
    }

    /// Stops serving and producing blocks.
    pub async fn stop(self) {
        for task in [self.miner, self.refresher].into_iter().flatten() {
            task.abort();
            // Wait until the task is gone, so nothing of this node uses the chain afterwards.
            let _ = task.await;
        }
        if let Some(net) = &self.network {
            net.stop().await;
        }
        let _ = self.server.stop();
        self.server.stopped().await;
    }
}

/// Starts a node.
pub async fn spawn(config: NodeConfig) -> eyre::Result<Node> {
    let spec = config.spec.clone();
    let datadir = config.datadir.clone();
    let chain = tokio::task::spawn_blocking(move || Chain::open(&datadir, spec)).await??;
    let chain = Arc::new(chain);
    let network = match config.p2p.clone() {
        Some(p2p) => Some(scion_p2p::spawn(chain.clone(), p2p).await?),
        None => None,
    };
    let new_tx = Arc::new(Notify::new());
    // The dev miner wakes for every transaction the pool takes, from the RPC or from peers.
    let wake = new_tx.clone();
    chain.subscribe(Box::new(move |event| {
        if matches!(event, scion_chain::ChainEvent::PendingTx(_)) {
            wake.notify_one();
        }
    }));
    let dev = config.dev.then(|| Arc::new(scion_rpc::DevState::new()));
    let ctx = RpcContext {
        chain: chain.clone(),
        dev_signers: if config.dev { dev_signers()? } else { vec![] },
        new_tx: new_tx.clone(),
        mining: config.mining || config.dev,
        limits: config.rpc_limits.clone(),
        dev: dev.clone(),
        blocks: Default::default(),
        net: network.clone(),
        admin: config.rpc_admin,
    };
    let (rpc_addr, server) = scion_rpc::start(config.http_addr, ctx).await?;
    let miner = dev
        .clone()
        .filter(|_| config.automine)
        .map(|d| tokio::spawn(dev_miner(chain.clone(), new_tx, config.block_time, d)));
    // In dev, work is rebuilt on demand (getWork, new transactions, --block-time).
    let refresher = (config.mining && !config.dev)
        .then(|| tokio::spawn(refresh_work(chain.clone(), config.work_refresh)));
    Ok(Node {
        chain,
        rpc_addr,
        network,
        server,
        miner,
        refresher,
    })
}

/// Rebuilds the mining work every `every`, so miners see fresh timestamps and transactions.
async fn refresh_work(chain: Arc<Chain>, every: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let c = chain.clone();
        match tokio::task::spawn_blocking(move || c.build_template(None)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "rebuilding mining work"),
            Err(e) => tracing::warn!(error = %e, "mining work task"),
        }
    }
}

/// Seals a block whenever transactions are pending, and every `block_time` if set.
async fn dev_miner(
    chain: Arc<Chain>,
    new_tx: Arc<Notify>,
    block_time: Option<Duration>,
    dev: Arc<scion_rpc::DevState>,
) {
    let mut ticker = block_time.map(|t| {
        let mut i = tokio::time::interval_at(tokio::time::Instant::now() + t, t);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });
    loop {
        let mut force = false;
        tokio::select! {
            _ = new_tx.notified() => {}
            _ = async {
                match ticker.as_mut() {
                    Some(t) => { t.tick().await; }
                    None => std::future::pending::<()>().await,
                }
            } => { force = true; }
        }
        loop {
            let c = chain.clone();
            let pending = tokio::task::spawn_blocking(move || c.has_pending()).await;
            let pending = match pending {
                Ok(Ok(p)) => p,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "reading the pool");
                    false
                }
                Err(e) => {
                    tracing::error!(error = %e, "pool task failed");
                    false
                }
            };
            let automine = dev.automine.load(std::sync::atomic::Ordering::Relaxed);
            if !force && (!pending || !automine) {
                break;
            }
            force = false;
            let c = chain.clone();
            match tokio::task::spawn_blocking(move || c.mine_block(None)).await {
                Ok(Ok(b)) => tracing::info!(
                    number = b.header.number,
                    txs = b.tx_hashes.len(),
                    gas = b.header.gas_used,
                    hash = %b.header.hash(),
                    "sealed block"
                ),
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "sealing a block failed");
                    break;
                }
                Err(e) => {
                    tracing::error!(error = %e, "sealing task failed");
                    break;
                }
            }
        }
    }
}
