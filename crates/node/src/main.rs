//! The `scion` command line.

use clap::{Parser, Subcommand};
use scion_node::NodeConfig;
use scion_types::ChainSpec;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// jemalloc, as reth uses: glibc's per-thread arenas returned freed EVM buffers to the kernel
/// on almost every eth_call (madvise with TLB shootdowns, 16% of CPU under read load).
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "scion",
    version,
    about = "Scion: a merge-mined smart-contract sidechain for Bitcoin"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a node.
    Node(NodeArgs),
    /// Merge-mine against a node's mnr_ endpoint, as a pool would.
    Miner(MinerArgs),
    /// Run a peg federator: relay Bitcoin headers, register peg-ins, sign and broadcast peg-outs.
    Federator(FederatorArgs),
    /// Write canonical blocks to a file (concatenated RLP, as geth does).
    Export(ExportArgs),
    /// Import blocks from a file, validating and executing each.
    Import(ImportArgs),
    /// Inspect the database.
    #[command(subcommand)]
    Db(DbCommand),
}

#[derive(Subcommand)]
enum DbCommand {
    /// Entries, pages and bytes of every table.
    Stats(ChainArgs),
}

#[derive(clap::Args)]
struct ChainArgs {
    /// Dev chain: instant mining, the test-mnemonic accounts funded.
    #[arg(long)]
    dev: bool,
    /// Genesis file (geth format plus a `scion` section); the dev genesis with --dev.
    #[arg(long)]
    genesis: Option<PathBuf>,
    /// Data directory [default: ~/.scion/<network>].
    #[arg(long)]
    datadir: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ExportArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// First block.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// Last block [default: the head].
    #[arg(long)]
    to: Option<u64>,
    /// Output file.
    file: PathBuf,
}

#[derive(clap::Args)]
struct ImportArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// Input file.
    file: PathBuf,
}

/// The chain spec and data directory the flags name.
fn chain_spec(a: ChainArgs) -> eyre::Result<(ChainSpec, PathBuf)> {
    let spec = match (&a.genesis, a.dev) {
        (Some(path), _) => ChainSpec::from_file(path)?,
        (None, true) => ChainSpec::dev(),
        (None, false) => {
            eyre::bail!("a genesis file is required without --dev (use --genesis PATH)")
        }
    };
    let datadir = a.datadir.unwrap_or_else(|| default_datadir(&spec));
    Ok((spec, datadir))
}

fn open_chain(a: ChainArgs, durable: bool) -> eyre::Result<scion_chain::Chain> {
    let (spec, datadir) = chain_spec(a)?;
    Ok(scion_chain::Chain::open_with(&datadir, spec, durable)?)
}

fn default_datadir(spec: &ChainSpec) -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| ".".into());
    home.join(".scion").join(&spec.params.network)
}

#[derive(clap::Args)]
struct MinerArgs {
    /// The node's JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    rpc: String,
    /// Which submit method to use.
    #[arg(long, value_enum, default_value = "partial")]
    submit: scion_node::miner::SubmitForm,
    /// Stop after this many blocks became the head.
    #[arg(long)]
    blocks: Option<u64>,
    /// A number that makes this miner's coinbases unique among miners.
    #[arg(long, default_value_t = 1)]
    id: u64,
    /// Other transactions in each Bitcoin block.
    #[arg(long = "other-txs", default_value_t = 3)]
    other_txs: usize,
}

#[derive(clap::Args)]
struct FederatorArgs {
    /// The Scion node's JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    rpc: String,
    /// Bitcoin Core's JSON-RPC URL, e.g. http://user:password@127.0.0.1:8332 (needs -txindex).
    #[arg(long = "btc-rpc")]
    btc_rpc: String,
    /// File with the federator's secp256k1 key in hex; must not be readable by others.
    #[arg(long = "key-file")]
    key_file: PathBuf,
    /// Where progress is kept (default ~/.scion/federator).
    #[arg(long)]
    datadir: Option<PathBuf>,
    /// Milliseconds between rounds.
    #[arg(long = "poll-ms", default_value_t = 1000)]
    poll_ms: u64,
    /// Seconds between updateCollections calls.
    #[arg(long = "update-every", default_value_t = 30)]
    update_every: u64,
}

#[derive(clap::Args)]
struct NodeArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// JSON-RPC (HTTP and WebSocket) listen address.
    #[arg(long = "http.addr", default_value = "127.0.0.1")]
    http_addr: IpAddr,
    /// JSON-RPC port.
    #[arg(long = "http.port", default_value_t = 8545)]
    http_port: u16,
    /// Also seal a block every N seconds (dev).
    #[arg(long = "block-time")]
    block_time: Option<u64>,
    /// Serve merge-mining work (mnr_getWork, mnr_submit*) to miners and pools (on in dev).
    #[arg(long)]
    mining: bool,
    /// Rebuild mining work every N seconds even when nothing changed.
    #[arg(long = "mining.refresh", default_value_t = 5)]
    mining_refresh: u64,
    /// Largest JSON-RPC request body, in bytes.
    #[arg(long = "rpc.max-request-size", default_value_t = 10 * 1024 * 1024)]
    max_request_body: u32,
    /// Most requests in one JSON-RPC batch.
    #[arg(long = "rpc.max-batch", default_value_t = 1_000)]
    max_batch: u32,
    /// Most blocks one eth_getLogs may scan.
    #[arg(long = "rpc.max-logs-range", default_value_t = 10_000)]
    max_log_range: u64,
    /// Most logs one eth_getLogs may return.
    #[arg(long = "rpc.max-logs", default_value_t = 10_000)]
    max_logs: usize,
    /// Most subscriptions on one WebSocket connection.
    #[arg(long = "rpc.max-subscriptions", default_value_t = 1_024)]
    max_subscriptions: u32,
    /// Most filters installed at once.
    #[arg(long = "rpc.max-filters", default_value_t = 10_000)]
    max_filters: usize,
    /// Origins allowed by CORS, comma-separated; `*` allows any.
    #[arg(long = "http.corsdomain", default_value = "*", value_delimiter = ',')]
    cors: Vec<String>,
    /// Serve the admin namespace (admin_nodeInfo, admin_peers, admin_addPeer, admin_removePeer).
    #[arg(long = "rpc.admin")]
    rpc_admin: bool,
    /// Peer-to-peer listen address [default: 0.0.0.0; 127.0.0.1 with --dev].
    #[arg(long = "p2p.addr")]
    p2p_addr: Option<IpAddr>,
    /// Peer-to-peer TCP port; 0 picks a free one [default: 30333].
    #[arg(long = "p2p.port")]
    p2p_port: Option<u16>,
    /// Peers to dial at start, as multiaddrs (/ip4/1.2.3.4/tcp/30333/p2p/<peer id>), comma-separated.
    #[arg(long, value_delimiter = ',')]
    bootnodes: Vec<String>,
    /// Peers to stay connected to (redialed when they drop); each needs /p2p/<peer id>.
    #[arg(long = "static-peers", value_delimiter = ',')]
    static_peers: Vec<String>,
    /// Most connected peers; a quarter of the slots are kept for outbound dials.
    #[arg(long = "max-peers", default_value_t = 50)]
    max_peers: u32,
    /// Dial only the bootnodes and static peers (no DHT discovery, no peers from earlier runs).
    #[arg(long = "no-discovery")]
    no_discovery: bool,
    /// The node key file [default: <datadir>/p2p/node.key, created on first run].
    #[arg(long = "p2p.key-file")]
    p2p_key_file: Option<PathBuf>,
    /// Run alone, without the peer-to-peer network.
    #[arg(long = "no-p2p")]
    no_p2p: bool,
    /// Dev: do not seal blocks here; they come from peers or from `scion miner` (mnr_).
    #[arg(long = "no-automine")]
    no_automine: bool,
}

/// The network configuration the flags ask for; `--dev` stays alone unless a network flag is
/// given.
fn p2p_config(
    a: &NodeArgs,
    dev: bool,
    datadir: &std::path::Path,
) -> eyre::Result<Option<scion_p2p::P2pConfig>> {
    let asked = a.p2p_addr.is_some()
        || a.p2p_port.is_some()
        || !a.bootnodes.is_empty()
        || !a.static_peers.is_empty();
    if a.no_p2p || (dev && !asked) {
        return Ok(None);
    }
    let default_ip = if dev {
        IpAddr::from([127, 0, 0, 1])
    } else {
        IpAddr::from([0, 0, 0, 0])
    };
    let ip = a.p2p_addr.unwrap_or(default_ip);
    let listen =
        scion_p2p::Multiaddr::from(ip).with(scion_p2p::Protocol::Tcp(a.p2p_port.unwrap_or(30333)));
    let mut c = scion_p2p::P2pConfig::new(datadir, listen);
    let parse = |list: &[String], what: &str| -> eyre::Result<Vec<scion_p2p::Multiaddr>> {
        list.iter()
            .map(|s| {
                s.parse()
                    .map_err(|e| eyre::eyre!("{what} {s:?} is not a multiaddr: {e}"))
            })
            .collect()
    };
    c.bootnodes = parse(&a.bootnodes, "bootnode")?;
    c.static_peers = parse(&a.static_peers, "static peer")?;
    if a.max_peers == 0 {
        eyre::bail!("--max-peers must be at least 1");
    }
    c.max_peers = a.max_peers;
    c.no_discovery = a.no_discovery;
    if let Some(k) = &a.p2p_key_file {
        c.key_file = k.clone();
    }
    Ok(Some(c))
}

fn node_config(mut a: NodeArgs) -> eyre::Result<NodeConfig> {
    let dev = a.chain.dev;
    let chain = std::mem::replace(
        &mut a.chain,
        ChainArgs {
            dev,
            genesis: None,
            datadir: None,
        },
    );
    let (spec, datadir) = chain_spec(chain)?;
    let p2p = p2p_config(&a, dev, &datadir)?;
    if a.block_time == Some(0) {
        eyre::bail!("--block-time must be at least 1 second");
    }
    Ok(NodeConfig {
        datadir,
        http_addr: SocketAddr::new(a.http_addr, a.http_port),
        spec,
        dev,
        block_time: a.block_time.map(Duration::from_secs),
        mining: a.mining,
        work_refresh: Duration::from_secs(a.mining_refresh.max(1)),
        rpc_limits: scion_rpc::RpcLimits {
            max_request_body: a.max_request_body,
            max_batch: a.max_batch,
            max_log_range: a.max_log_range,
            max_logs: a.max_logs,
            max_subscriptions: a.max_subscriptions,
            max_filters: a.max_filters,
            cors: a.cors,
        },
        p2p,
        automine: !a.no_automine,
        rpc_admin: a.rpc_admin,
    })
}

#[tokio::main]
async fn main() -> eyre::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Node(args) => {
            let config = node_config(args)?;
            tracing::info!(datadir = %config.datadir.display(), chain_id = config.spec.chain_id, "starting");
            let node = scion_node::spawn(config).await?;
            let head = node.chain.head();
            tracing::info!(url = %node.http_url(), head = head.number, "JSON-RPC listening (HTTP and WebSocket)");
            if let Some(net) = &node.network {
                for addr in net.listen_addrs() {
                    tracing::info!(%addr, peer_id = %net.peer_id(), "p2p node address");
                }
            }
            tokio::signal::ctrl_c().await?;
            tracing::info!("shutting down");
            node.stop().await;
        }
        Command::Export(a) => {
            let chain = open_chain(a.chain, true)?;
            let n = scion_node::export::export(&chain, &a.file, a.from, a.to)?;
            println!("exported {n} blocks to {}", a.file.display());
        }
        Command::Db(DbCommand::Stats(a)) => {
            let (spec, datadir) = chain_spec(a)?;
            if !datadir.join("mdbx.dat").exists() {
                eyre::bail!("no database in {}", datadir.display());
            }
            let chain = scion_chain::Chain::open_with(&datadir, spec, true)?;
            let (tables, used) = chain.store().table_stats()?;
            println!(
                "{:<16} {:>12} {:>6} {:>10} {:>12}",
                "table", "entries", "depth", "pages", "MiB"
            );
            let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
            for t in &tables {
                println!(
                    "{:<16} {:>12} {:>6} {:>10} {:>12.1}",
                    t.name,
                    t.entries,
                    t.depth,
                    t.pages,
                    mib(t.bytes)
                );
            }
            let total: u64 = tables.iter().map(|t| t.bytes).sum();
            println!(
                "tables {:.1} MiB; data file in use {:.1} MiB",
                mib(total),
                mib(used)
            );
        }
        Command::Import(a) => {
            // Blocks are flushed to disk once, at the end (or on error): an interrupted import
            // keeps a consistent earlier head and can be run again.
            let chain = open_chain(a.chain, false)?;
            let start = std::time::Instant::now();
            let s = scion_node::export::import(&chain, &a.file)?;
            let secs = start.elapsed().as_secs_f64();
            println!(
                "imported {} blocks ({} known): {} transactions, {} gas in {:.2}s ({:.1} Mgas/s); head {}",
                s.imported,
                s.known,
                s.transactions,
                s.gas,
                secs,
                s.gas as f64 / secs.max(1e-9) / 1e6,
                chain.head().number
            );
        }
        Command::Federator(a) => {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            let config = scion_node::federator::FederatorConfig {
                rpc: a.rpc,
                btc_rpc: a.btc_rpc,
                key_file: a.key_file,
                datadir: a
                    .datadir
                    .unwrap_or_else(|| home.join(".scion").join("federator")),
                poll: std::time::Duration::from_millis(a.poll_ms),
                update_every: std::time::Duration::from_secs(a.update_every),
            };
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = stop.clone();
            let worker =
                tokio::task::spawn_blocking(move || scion_node::federator::run(config, &flag));
            tokio::select! {
                r = worker => r??,
                _ = tokio::signal::ctrl_c() => {
                    tracing::info!("shutting down");
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
        Command::Miner(a) => {
            let config = scion_node::miner::MinerConfig {
                rpc: a.rpc,
                submit: a.submit,
                blocks: a.blocks,
                id: a.id,
                other_txs: a.other_txs,
            };
            let stats = scion_node::miner::run(config).await?;
            use scion_node::miner::MinerStats as S;
            println!(
                "submitted {} solutions: {} imported as best, {} other, {:.1} blocks/s",
                stats.submitted,
                stats.best,
                stats.other,
                stats.best as f64 / stats.elapsed.as_secs_f64().max(1e-9)
            );
            println!(
                "mnr_getWork latency ms: p50 {:.2} p99 {:.2}; submit-to-imported latency ms: p50 {:.2} p99 {:.2}",
                S::percentile_ms(&stats.get_work, 50.0),
                S::percentile_ms(&stats.get_work, 99.0),
                S::percentile_ms(&stats.submit, 50.0),
                S::percentile_ms(&stats.submit, 99.0)
            );
        }
    }
    Ok(())
}
