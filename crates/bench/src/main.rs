//! `scion-bench`: a load tool for any Ethereum JSON-RPC endpoint (Scion, anvil, …). It
//! pre-signs ETH transfers from the standard dev key, submits them with eth_sendRawTransaction,
//! waits until every receipt is available, and prints transactions per second.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{hex, Address, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use clap::Parser;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Dev account 0 of the standard test mnemonic: funded on Scion's dev chain and on anvil.
const DEV_KEY0: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

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
    /// eth_call (a contract that reads a storage slot) or eth_getBalance, for a duration.
    Read(ReadArgs),
}

#[derive(clap::Args)]
struct ReadArgs {
    /// JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    rpc: String,
    /// Concurrent connections.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// `call` or `balance`.
    #[arg(long, default_value = "call")]
    method: String,
    /// A label for the output line.
    #[arg(long, default_value = "node")]
    label: String,
}

#[derive(clap::Args)]
struct Args {
    /// JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    rpc: String,
    /// Number of transfers.
    #[arg(long, default_value_t = 1000)]
    count: u64,
    /// Concurrent submitters (transactions still come from one sender, in nonce order per
    /// submitter).
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// A label for the output line.
    #[arg(long, default_value = "node")]
    label: String,
}

fn hex_u(v: &Value) -> eyre::Result<u128> {
    let s = v
        .as_str()
        .ok_or_else(|| eyre::eyre!("expected a hex quantity, got {v}"))?;
    Ok(u128::from_str_radix(s.trim_start_matches("0x"), 16)?)
}

#[tokio::main]
async fn main() -> eyre::Result<()> {
    match Cli::parse().command {
        Command::Transfers(a) => transfers(a).await,
        Command::Read(a) => read(a).await,
    }
}

/// Init code that stores 42 in slot 0 and deploys `PUSH1 0 SLOAD PUSH1 0 MSTORE PUSH1 32
/// PUSH1 0 RETURN`: every eth_call reads a storage slot, as balanceOf does.
const SLOT_READER_INIT: &str = "0x602a600055600b6011600039600b6000f360005460005260206000f3";

async fn read(args: ReadArgs) -> eyre::Result<()> {
    let setup: HttpClient = HttpClientBuilder::default().build(&args.rpc)?;
    let key: PrivateKeySigner = DEV_KEY0.parse()?;
    let target = if args.method == "call" {
        let chain_id = hex_u(
            &setup
                .request::<Value, _>("eth_chainId", rpc_params![])
                .await?,
        )? as u64;
        let nonce = hex_u(
            &setup
                .request::<Value, _>(
                    "eth_getTransactionCount",
                    rpc_params![key.address(), "pending"],
                )
                .await?,
        )? as u64;
        let gas_price = hex_u(
            &setup
                .request::<Value, _>("eth_gasPrice", rpc_params![])
                .await?,
        )?;
        let tx = TxEip1559 {
            chain_id,
            nonce,
            gas_limit: 200_000,
            max_fee_per_gas: gas_price * 4,
            max_priority_fee_per_gas: 1_000_000_000.min(gas_price),
            to: TxKind::Create,
            input: hex::decode(SLOT_READER_INIT)?.into(),
            ..Default::default()
        };
        let sig = key.sign_hash_sync(&tx.signature_hash())?;
        let env = TxEnvelope::from(tx.into_signed(sig));
        let raw = format!("0x{}", hex::encode(env.encoded_2718()));
        setup
            .request::<Value, _>("eth_sendRawTransaction", rpc_params![raw])
            .await?;
        let receipt = loop {
            let r: Value = setup
                .request("eth_getTransactionReceipt", rpc_params![*env.tx_hash()])
                .await?;
            if !r.is_null() {
                break r;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let contract = receipt["contractAddress"]
            .as_str()
            .ok_or_else(|| eyre::eyre!("no contract: {receipt}"))?
            .to_string();
        let out: Value = setup
            .request(
                "eth_call",
                rpc_params![serde_json::json!({"to": contract}), "latest"],
            )
            .await?;
        eyre::ensure!(hex_u(&out)? == 42, "the reader returned {out}");
        contract
    } else {
        key.address().to_string()
    };
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        // One client, and so one connection, per worker.
        let client: HttpClient = HttpClientBuilder::default().build(&args.rpc)?;
        let (method, target) = (args.method.clone(), target.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let r: Result<Value, _> = if method == "call" {
                    client
                        .request(
                            "eth_call",
                            rpc_params![serde_json::json!({"to": target}), "latest"],
                        )
                        .await
                } else {
                    client
                        .request("eth_getBalance", rpc_params![target.clone(), "latest"])
                        .await
                };
                r?;
                lat.push(t.elapsed());
            }
            Ok::<_, eyre::Report>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len().max(1) - 1) as f64 * p) as usize)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    println!(
        "{}: eth_{} at {} connections: {} requests in {}s, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
        args.label,
        if args.method == "call" {
            "call"
        } else {
            "getBalance"
        },
        args.concurrency,
        all.len(),
        args.seconds,
        all.len() as f64 / args.seconds as f64,
        pct(0.50),
        pct(0.99)
    );
    Ok(())
}

async fn transfers(args: Args) -> eyre::Result<()> {
    let client: HttpClient = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(120))
        .build(&args.rpc)?;
    let key: PrivateKeySigner = DEV_KEY0.parse()?;
    let chain_id = hex_u(
        &client
            .request::<Value, _>("eth_chainId", rpc_params![])
            .await?,
    )? as u64;
    let nonce = hex_u(
        &client
            .request::<Value, _>(
                "eth_getTransactionCount",
                rpc_params![key.address(), "pending"],
            )
            .await?,
    )? as u64;
    let gas_price = hex_u(
        &client
            .request::<Value, _>("eth_gasPrice", rpc_params![])
            .await?,
    )?;
    let to = Address::repeat_byte(0x5c);

    // Pre-sign everything so that signing is not measured.
    let mut raws = Vec::with_capacity(args.count as usize);
    for i in 0..args.count {
        let tx = TxEip1559 {
            chain_id,
            nonce: nonce + i,
            gas_limit: 21_000,
            max_fee_per_gas: gas_price * 4,
            max_priority_fee_per_gas: 1_000_000_000.min(gas_price),
            to: TxKind::Call(to),
            value: U256::from(1),
            ..Default::default()
        };
        let sig = key.sign_hash_sync(&tx.signature_hash())?;
        let env = TxEnvelope::from(tx.into_signed(sig));
        raws.push((
            format!("0x{}", hex::encode(env.encoded_2718())),
            *env.tx_hash(),
        ));
    }

    let start = Instant::now();
    let raws = Arc::new(raws);
    let mut tasks = Vec::new();
    for w in 0..args.concurrency {
        let (client, raws) = (client.clone(), raws.clone());
        let concurrency = args.concurrency;
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while i < raws.len() {
                client
                    .request::<Value, _>("eth_sendRawTransaction", rpc_params![raws[i].0.clone()])
                    .await?;
                i += concurrency;
            }
            Ok::<_, eyre::Report>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let submitted = start.elapsed();
    // Same sender: once the last nonce has a receipt, all have. Then check them all.
    let last = raws
        .last()
        .map(|r| r.1)
        .ok_or_else(|| eyre::eyre!("nothing to send"))?;
    loop {
        let r: Value = client
            .request("eth_getTransactionReceipt", rpc_params![last])
            .await?;
        if !r.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let done = start.elapsed();
    let mut blocks = std::collections::BTreeSet::new();
    for (_, hash) in raws.iter() {
        let r: Value = client
            .request("eth_getTransactionReceipt", rpc_params![*hash])
            .await?;
        eyre::ensure!(
            r["status"] == "0x1",
            "transaction {hash} has no successful receipt: {r}"
        );
        blocks.insert(r["blockNumber"].as_str().unwrap_or_default().to_string());
    }
    let tps = args.count as f64 / done.as_secs_f64();
    println!(
        "{}: {} transfers, concurrency {}, submitted in {:.3}s, all receipts in {:.3}s, {} blocks, {:.0} tx/s",
        args.label,
        args.count,
        args.concurrency,
        submitted.as_secs_f64(),
        done.as_secs_f64(),
        blocks.len(),
        tps
    );
    Ok(())
}
