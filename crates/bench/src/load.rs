//! The write workload: N funded senders, each sending its share of pre-signed transactions (ETH
//! transfers or ERC-20 transfers) in nonce order, submitted concurrently and in JSON-RPC
//! batches, until every receipt is available.

use crate::hex_u;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{hex, Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use indicatif::{ProgressBar, ProgressStyle};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::HttpClient;
use jsonrpsee::rpc_params;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one run measured.
pub struct LoadResult {
    /// Transactions in the measured workload.
    pub txs: u64,
    /// Gas they used.
    pub gas: u64,
    /// From the first submission to the last receipt.
    pub elapsed: Duration,
    /// Blocks they landed in.
    pub blocks: usize,
    /// Submission latency per request (or batch).
    pub latencies: Vec<Duration>,
}

/// Chain facts every signed transaction needs.
#[derive(Clone, Copy)]
pub struct Pricing {
    /// Chain id.
    pub chain_id: u64,
    /// Max fee per gas.
    pub max_fee: u128,
    /// Tip.
    pub tip: u128,
}

/// Reads chain id and a generous fee (4× the current gas price) from the node.
pub async fn pricing(client: &HttpClient) -> eyre::Result<Pricing> {
    let chain_id = hex_u(
        &client
            .request::<Value, _>("eth_chainId", rpc_params![])
            .await?,
    )? as u64;
    let gas_price = hex_u(
        &client
            .request::<Value, _>("eth_gasPrice", rpc_params![])
            .await?,
    )?;
    Ok(Pricing {
        chain_id,
        max_fee: gas_price * 4,
        tip: 1_000_000_000.min(gas_price),
    })
}

/// Signs one EIP-1559 transaction; returns its raw hex and hash.
pub fn sign(
    k: &PrivateKeySigner,
    p: Pricing,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: Bytes,
    gas: u64,
) -> eyre::Result<(String, B256)> {
    let tx = TxEip1559 {
        chain_id: p.chain_id,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: p.max_fee,
        max_priority_fee_per_gas: p.tip,
        to,
        value,
        input,
        ..Default::default()
    };
    let sig = k.sign_hash_sync(&tx.signature_hash())?;
    let env = TxEnvelope::from(tx.into_signed(sig));
    Ok((
        format!("0x{}", hex::encode(env.encoded_2718())),
        *env.tx_hash(),
    ))
}

/// ERC-20 `transfer(to, amount)` calldata.
pub fn erc20_transfer(to: Address, amount: u64) -> Bytes {
    let mut data = vec![0xa9, 0x05, 0x9c, 0xbb];
    data.extend_from_slice(&[0u8; 12]);
    data.extend_from_slice(to.as_slice());
    data.extend_from_slice(&U256::from(amount).to_be_bytes::<32>());
    data.into()
}

/// Waits until `hash` has a receipt; returns it. anvil's automine seals only when a new
/// transaction arrives, so a backlog left in its pool after the last submission is never
/// mined: after 100 ms without the receipt this asks for a block (evm_mine), which Scion, which
/// seals whenever anything is pending, does not need.
pub async fn receipt(client: &HttpClient, hash: B256) -> eyre::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut waited = Instant::now();
    loop {
        let r: Value = client
            .request("eth_getTransactionReceipt", rpc_params![hash])
            .await?;
        if !r.is_null() {
            return Ok(r);
        }
        eyre::ensure!(
            Instant::now() < deadline,
            "no receipt for {hash} after 10 minutes"
        );
        if waited.elapsed() > Duration::from_millis(100) {
            let _ = client.request::<Value, _>("evm_mine", rpc_params![]).await;
            waited = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Refusals that are back-pressure rather than errors: the pool has no room, or full blocks
/// have raised the base fee above the pre-signed fee cap (EIP-1559 then halves the chain's
/// sustained rate). The load tool waits for blocks and sends the same transactions again.
fn retryable(message: &str) -> bool {
    message == "txpool is full" || message.starts_with("max fee per gas less than block base fee")
}

/// How long the load tool keeps sending refused transactions again before it gives up.
const RETRY_LIMIT: Duration = Duration::from_secs(120);

/// Sends raw transactions (one request, or a batch for several); returns those refused as
/// back-pressure ([`retryable`]), in order. Any other refusal is an error.
async fn send<'a>(client: &HttpClient, raws: &[&'a String]) -> eyre::Result<Vec<&'a String>> {
    if let [raw] = raws {
        let r = client
            .request::<Value, _>("eth_sendRawTransaction", rpc_params![*raw])
            .await;
        return match r {
            Ok(_) => Ok(vec![]),
            Err(jsonrpsee::core::ClientError::Call(e)) if retryable(e.message()) => Ok(vec![*raw]),
            Err(e) => Err(e.into()),
        };
    }
    let mut b = BatchRequestBuilder::new();
    for raw in raws {
        b.insert("eth_sendRawTransaction", rpc_params![*raw])?;
    }
    let resp = client.batch_request::<Value>(b).await?;
    let mut refused = Vec::new();
    for (raw, r) in raws.iter().zip(resp.iter()) {
        match r {
            Ok(_) => {}
            Err(e) if retryable(e.message()) => refused.push(*raw),
            Err(e) => eyre::bail!("a batched transaction was refused: {e:?}"),
        }
    }
    Ok(refused)
}

/// Submits `per_sender` lists (each in nonce order) with `concurrency` workers in batches of
/// `batch`; waits for every sender's last receipt; checks every receipt succeeded.
pub async fn submit(
    clients: &[HttpClient],
    per_sender: Vec<Vec<(String, B256)>>,
    batch: usize,
    label: &str,
) -> eyre::Result<LoadResult> {
    let total: u64 = per_sender.iter().map(|v| v.len() as u64).sum();
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(label.to_string());
    let lasts: Vec<B256> = per_sender
        .iter()
        .filter_map(|v| v.last().map(|x| x.1))
        .collect();
    let all: Vec<B256> = per_sender.iter().flatten().map(|x| x.1).collect();
    // Worker w takes senders w, w + C, w + 2C, …: each sender's transactions stay in order.
    let workers = clients.len();
    let mut lists: Vec<Vec<(String, B256)>> = vec![Vec::new(); workers];
    for (i, txs) in per_sender.into_iter().enumerate() {
        lists[i % workers].extend(txs);
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (list, client) in lists.into_iter().zip(clients.iter().cloned()) {
        let bar = bar.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for chunk in list.chunks(batch.max(1)) {
                let t = Instant::now();
                let mut pending: Vec<&String> = chunk.iter().map(|(raw, _)| raw).collect();
                while !pending.is_empty() {
                    let refused = send(&client, &pending).await?;
                    if !refused.is_empty() {
                        eyre::ensure!(
                            t.elapsed() < RETRY_LIMIT,
                            "transactions still refused after {RETRY_LIMIT:?} (pool full or base fee above their cap)"
                        );
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    pending = refused;
                }
                lat.push(t.elapsed());
                bar.inc(chunk.len() as u64);
            }
            Ok::<_, eyre::Report>(lat)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let client = &clients[0];
    for h in &lasts {
        receipt(client, *h).await?;
    }
    let elapsed = start.elapsed();
    bar.finish_and_clear();
    let mut blocks = std::collections::BTreeSet::new();
    let mut gas = 0u64;
    for chunk in all.chunks(200) {
        let mut b = BatchRequestBuilder::new();
        for h in chunk {
            b.insert("eth_getTransactionReceipt", rpc_params![*h])?;
        }
        for r in client.batch_request::<Value>(b).await?.into_iter() {
            let r = r.map_err(|e| eyre::eyre!("{e:?}"))?;
            eyre::ensure!(r["status"] == "0x1", "a transaction failed: {r}");
            gas += hex_u(&r["gasUsed"])? as u64;
            blocks.insert(r["blockNumber"].as_str().unwrap_or_default().to_string());
        }
    }
    Ok(LoadResult {
        txs: total,
        gas,
        elapsed,
        blocks: blocks.len(),
        latencies,
    })
}

/// Funds `keys` with `value` each (and ERC-20 `tokens` each when a token is given) from
/// `funder`, and waits for it; not measured.
pub async fn fund(
    client: &HttpClient,
    funder: &PrivateKeySigner,
    p: Pricing,
    keys: &[PrivateKeySigner],
    value: U256,
    token: Option<(Address, u64)>,
) -> eyre::Result<()> {
    let mut nonce = hex_u(
        &client
            .request::<Value, _>(
                "eth_getTransactionCount",
                rpc_params![funder.address(), "pending"],
            )
            .await?,
    )? as u64;
    let mut txs = Vec::new();
    for k in keys {
        txs.push(sign(
            funder,
            p,
            nonce,
            TxKind::Call(k.address()),
            value,
            Bytes::new(),
            21_000,
        )?);
        nonce += 1;
        if let Some((t, amount)) = token {
            txs.push(sign(
                funder,
                p,
                nonce,
                TxKind::Call(t),
                U256::ZERO,
                erc20_transfer(k.address(), amount),
                100_000,
            )?);
            nonce += 1;
        }
    }
    let last = txs.last().map(|x| x.1);
    for chunk in txs.chunks(100) {
        let mut b = BatchRequestBuilder::new();
        for (raw, _) in chunk {
            b.insert("eth_sendRawTransaction", rpc_params![raw.clone()])?;
        }
        client.batch_request::<Value>(b).await?;
    }
    if let Some(h) = last {
        receipt(client, h).await?;
    }
    Ok(())
}

/// Deploys a contract from `funder`; returns its address.
pub async fn deploy(
    client: &HttpClient,
    funder: &PrivateKeySigner,
    p: Pricing,
    code: Bytes,
) -> eyre::Result<Address> {
    let nonce = hex_u(
        &client
            .request::<Value, _>(
                "eth_getTransactionCount",
                rpc_params![funder.address(), "pending"],
            )
            .await?,
    )? as u64;
    let (raw, hash) = sign(
        funder,
        p,
        nonce,
        TxKind::Create,
        U256::ZERO,
        code,
        3_000_000,
    )?;
    client
        .request::<Value, _>("eth_sendRawTransaction", rpc_params![raw])
        .await?;
    let r = receipt(client, hash).await?;
    eyre::ensure!(r["status"] == "0x1", "deploy failed: {r}");
    Ok(r["contractAddress"]
        .as_str()
        .ok_or_else(|| eyre::eyre!("no contract address"))?
        .parse()?)
}

/// Deterministic keys for the senders, so runs are comparable.
pub fn sender_keys(n: usize) -> eyre::Result<Vec<PrivateKeySigner>> {
    (0..n)
        .map(|i| {
            let seed = alloy_primitives::keccak256(format!("scion-bench sender {i}"));
            PrivateKeySigner::from_bytes(&seed).map_err(|e| eyre::eyre!("{e}"))
        })
        .collect()
}

/// Pre-signs the workload: `count` transactions split over `keys`.
pub fn workload(
    keys: &[PrivateKeySigner],
    p: Pricing,
    count: u64,
    token: Option<Address>,
    fresh: bool,
) -> eyre::Result<Vec<Vec<(String, B256)>>> {
    let sink = Address::repeat_byte(0x5c);
    let n = keys.len().max(1) as u64;
    let keys = Arc::new(keys.to_vec());
    let mut out = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let share = count / n + u64::from((i as u64) < count % n);
        let mut txs = Vec::with_capacity(share as usize);
        for nonce in 0..share {
            let to = if fresh {
                let seed = [&(i as u64).to_be_bytes()[..], &nonce.to_be_bytes()].concat();
                Address::from_slice(&alloy_primitives::keccak256(seed)[12..])
            } else {
                sink
            };
            txs.push(match token {
                None => sign(
                    k,
                    p,
                    nonce,
                    TxKind::Call(to),
                    U256::from(1),
                    Bytes::new(),
                    21_000,
                )?,
                Some(t) => sign(
                    k,
                    p,
                    nonce,
                    TxKind::Call(t),
                    U256::ZERO,
                    erc20_transfer(to, 1),
                    60_000,
                )?,
            });
        }
        out.push(txs);
    }
    Ok(out)
}
