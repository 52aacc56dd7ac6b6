//! `scion-bench`: a load tool for any Ethereum JSON-RPC endpoint (Scion, anvil, …). It
//! pre-signs ETH transfers from the standard dev key, submits them with eth_sendRawTransaction,
//! waits until every receipt is available, and prints transactions per second.

mod load;
mod read;

use alloy_primitives::{hex, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use clap::Parser;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde_json::Value;
use std::time::Duration;

/// Dev account 0 of the standard test mnemonic: funded on Scion's dev chain and on anvil.
pub(crate) const DEV_KEY0: &str =
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

#[derive(Parser)]
#[command(about = "Load for any Ethereum JSON-RPC endpoint: transfers to receipts, or reads")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// ETH transfers from eth_sendRawTransaction to mined receipt.
    Transfers(Args),
    /// eth_call (an ERC-20's balanceOf, or a contract that reads a storage slot) or
    /// eth_getBalance, for a duration.
    Read(ReadArgs),
}

#[derive(clap::Args)]
pub(crate) struct ReadArgs {
    /// JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    pub(crate) rpc: String,
    /// Concurrent connections.
    #[arg(long, default_value_t = 16)]
    pub(crate) concurrency: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 10)]
    pub(crate) seconds: u64,
    /// `call` or `balance`.
    #[arg(long, default_value = "call")]
    pub(crate) method: String,
    /// With `call`: balanceOf on this ERC-20 (a forge artifact whose constructor takes the
    /// initial supply) instead of the built-in slot reader.
    #[arg(long)]
    pub(crate) erc20: Option<std::path::PathBuf>,
    /// A label for the output line.
    #[arg(long, default_value = "node")]
    pub(crate) label: String,
}

#[derive(clap::Args)]
struct Args {
    /// JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    rpc: String,
    /// Number of transactions measured.
    #[arg(long, default_value_t = 1000)]
    count: u64,
    /// Senders (fresh keys funded from dev key 0 before the clock starts).
    #[arg(long, default_value_t = 1)]
    senders: usize,
    /// Concurrent connections submitting.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Transactions per JSON-RPC batch.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// ERC-20 transfers instead of ETH transfers: a forge artifact (JSON) of a token whose
    /// constructor takes the initial supply, minted to the deployer.
    #[arg(long)]
    erc20: Option<std::path::PathBuf>,
    /// Send every ETH transfer to a new address, so that each one creates an account (state
    /// growth and memory measurements).
    #[arg(long = "fresh-recipients")]
    fresh_recipients: bool,
    /// A label for the output line.
    #[arg(long, default_value = "node")]
    label: String,
}

/// The initial supply minted to the deployer of an `--erc20` token.
pub(crate) const TOKEN_SUPPLY: u128 = 10u128.pow(30);

/// Init code of the token in forge artifact `path`, with [`TOKEN_SUPPLY`] as the constructor's
/// argument.
pub(crate) fn token_init(path: &std::path::Path) -> eyre::Result<Bytes> {
    let art: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let code = art["bytecode"]["object"]
        .as_str()
        .or_else(|| art["bytecode"].as_str());
    let code = code.ok_or_else(|| eyre::eyre!("{} has no bytecode", path.display()))?;
    let mut init = hex::decode(code)?;
    init.extend_from_slice(&U256::from(TOKEN_SUPPLY).to_be_bytes::<32>());
    Ok(init.into())
}

pub(crate) fn hex_u(v: &Value) -> eyre::Result<u128> {
    let s = v
        .as_str()
        .ok_or_else(|| eyre::eyre!("expected a hex quantity, got {v}"))?;
    Ok(u128::from_str_radix(s.trim_start_matches("0x"), 16)?)
}

#[tokio::main]
async fn main() -> eyre::Result<()> {
    match Cli::parse().command {
        Command::Transfers(a) => transfers(a).await,
        Command::Read(a) => read::read(a).await,
    }
}

async fn transfers(args: Args) -> eyre::Result<()> {
    let clients: Vec<HttpClient> = (0..args.concurrency.max(1))
        .map(|_| {
            HttpClientBuilder::default()
                .request_timeout(Duration::from_secs(600))
                .build(&args.rpc)
        })
        .collect::<Result<_, _>>()?;
    let client = &clients[0];
    let dev: PrivateKeySigner = DEV_KEY0.parse()?;
    let p = load::pricing(client).await?;
    let token = match &args.erc20 {
        None => None,
        Some(path) => Some(load::deploy(client, &dev, p, token_init(path)?).await?),
    };
    let keys = load::sender_keys(args.senders.max(1))?;
    let per = args.count / keys.len() as u64 + 1;
    load::fund(
        client,
        &dev,
        p,
        &keys,
        U256::from(10u128.pow(18)),
        token.map(|t| (t, per)),
    )
    .await?;
    let work = load::workload(&keys, p, args.count, token, args.fresh_recipients)?;
    let r = load::submit(&clients, work, args.batch, &args.label).await?;
    let mut lat = r.latencies.clone();
    lat.sort();
    let pct = |q: f64| {
        lat.get(((lat.len().max(1) - 1) as f64 * q) as usize)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    let secs = r.elapsed.as_secs_f64();
    println!(
        "{}: {} {} from {} senders, concurrency {}, batch {}: all receipts in {:.2}s, {} blocks, {:.0} tx/s, {:.1} Mgas/s, submit p50 {:.2} ms p99 {:.2} ms",
        args.label,
        r.txs,
        if token.is_some() { "ERC-20 transfers" } else { "ETH transfers" },
        keys.len(),
        args.concurrency,
        args.batch,
        secs,
        r.blocks,
        r.txs as f64 / secs,
        r.gas as f64 / secs / 1e6,
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}
