//! `scion miner`: a reference merge-miner that plays a pool. It polls mnr_getWork, builds a
//! Bitcoin block whose coinbase commits to the Scion block (BIP34 height, a payout, a witness
//! commitment, the `RSKBLOCK:` output last) among some other transactions, grinds the nonce
//! until the Scion target is met, and submits with any of Rootstock's three forms.

use alloy_primitives::{hex, B256, U256};
use bitcoin::hashes::Hash;
use bitcoin::{
    absolute, transaction, Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid,
    Witness,
};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use scion_consensus::merge_mining::{btc_header_hash, coinbase_merkle_proof};
use scion_consensus::work::{btc_header, coinbase, merkle_root, stripped};
use serde_json::Value;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Which mnr_submit* method to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SubmitForm {
    /// mnr_submitBitcoinBlockPartialMerkle (the smallest).
    Partial,
    /// mnr_submitBitcoinBlockTransactions.
    Transactions,
    /// mnr_submitBitcoinBlock.
    Block,
}

/// What `scion miner` needs.
#[derive(Debug, Clone)]
pub struct MinerConfig {
    /// The node's JSON-RPC URL.
    pub rpc: String,
    /// Submit form.
    pub submit: SubmitForm,
    /// Stop after this many accepted solutions.
    pub blocks: Option<u64>,
    /// Distinguishes this miner's coinbases from other miners'.
    pub id: u64,
    /// Other transactions in each Bitcoin block.
    pub other_txs: usize,
}

/// What a run did.
#[derive(Debug, Default, Clone)]
pub struct MinerStats {
    /// Solutions submitted.
    pub submitted: u64,
    /// Solutions imported as the new head.
    pub best: u64,
    /// Other outcomes (side branch, already known, stale work).
    pub other: u64,
    /// Latency of each mnr_getWork call.
    pub get_work: Vec<Duration>,
    /// Latency of each submit call: the node validates and imports before answering.
    pub submit: Vec<Duration>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

impl MinerStats {
    /// `p` percentile (0–100) of a latency list, in milliseconds.
    pub fn percentile_ms(list: &[Duration], p: f64) -> f64 {
        if list.is_empty() {
            return 0.0;
        }
        let mut v: Vec<Duration> = list.to_vec();
        v.sort();
        let i = ((v.len() - 1) as f64 * p / 100.0).round() as usize;
        v[i].as_secs_f64() * 1000.0
    }
}

struct Job {
    hash_for_merged_mining: B256,
    target: U256,
    parent: B256,
}

async fn get_work(client: &HttpClient) -> eyre::Result<Job> {
    let w: Value = client.request("mnr_getWork", rpc_params![]).await?;
    let field = |k: &str| -> eyre::Result<B256> {
        let s = w[k]
            .as_str()
            .ok_or_else(|| eyre::eyre!("getWork lacks {k}: {w}"))?;
        Ok(s.parse()?)
    };
    Ok(Job {
        hash_for_merged_mining: field("blockHashForMergedMining")?,
        target: U256::from_be_bytes(field("target")?.0),
        parent: field("parentBlockHash")?,
    })
}

/// Simple one-input, one-output transactions standing in for a pool's mempool.
fn filler(count: usize, salt: u64) -> Vec<Transaction> {
    (0..count)
        .map(|i| Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint {
                    txid: Txid::from_byte_array(*alloy_primitives::keccak256(
                        [salt.to_le_bytes(), (i as u64).to_le_bytes()].concat(),
                    )),
                    vout: 0,
                },
                script_sig: ScriptBuf::new(),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            }],
            output: vec![TxOut {
                value: Amount::from_sat(10_000 + i as u64),
                script_pubkey: ScriptBuf::new_op_return([i as u8]),
            }],
        })
        .collect()
}

fn unix_now() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0)
}

/// A Bitcoin block for `job` with the nonce ground until the target is met, or `None` when
/// `budget` ran out first.
fn solve(
    job: &Job,
    cfg: &MinerConfig,
    extra_nonce: u64,
    budget: Duration,
) -> Option<(Transaction, Vec<Transaction>, [u8; 80])> {
    let others = filler(cfg.other_txs, cfg.id ^ extra_nonce);
    // Non-segwit fillers: their wtxids are their txids; the coinbase's counts as zero.
    let mut wtxids = vec![[0u8; 32]];
    wtxids.extend(others.iter().map(|t| t.compute_txid().to_byte_array()));
    let payout = ScriptBuf::new_p2wpkh(&bitcoin::WPubkeyHash::from_byte_array([cfg.id as u8; 20]));
    let cb = coinbase(
        800_000,
        cfg.id << 32 | extra_nonce,
        payout,
        job.hash_for_merged_mining,
        merkle_root(&wtxids),
    );
    let mut txids = vec![cb.compute_txid().to_byte_array()];
    txids.extend(others.iter().map(|t| t.compute_txid().to_byte_array()));
    let prev = *alloy_primitives::keccak256(job.parent);
    let mut header = btc_header(prev, merkle_root(&txids), unix_now(), 0x207f_ffff, 0);
    let start = Instant::now();
    let mut nonce: u32 = 0;
    loop {
        header[76..80].copy_from_slice(&nonce.to_le_bytes());
        if U256::from_le_bytes(btc_header_hash(&header)) <= job.target {
            return Some((cb, others, header));
        }
        nonce = nonce.wrapping_add(1);
        if nonce == 0 || (nonce.is_multiple_of(4096) && start.elapsed() > budget) {
            return None;
        }
    }
}

fn display_hex(internal: [u8; 32]) -> String {
    let mut b = internal;
    b.reverse();
    hex::encode(b)
}

async fn submit(
    client: &HttpClient,
    form: SubmitForm,
    cb: &Transaction,
    others: &[Transaction],
    header: &[u8; 80],
) -> eyre::Result<Value> {
    let block_hash = display_hex(btc_header_hash(header));
    let header_hex = hex::encode(header);
    let cb_hex = hex::encode(stripped(cb));
    let mut txids = vec![cb.compute_txid().to_byte_array()];
    txids.extend(others.iter().map(|t| t.compute_txid().to_byte_array()));
    let result = match form {
        SubmitForm::Partial => {
            let proof = coinbase_merkle_proof(&txids);
            let mut hashes = vec![hex::encode(txids[0])];
            for entry in proof.chunks_exact(32) {
                let mut b = [0u8; 32];
                b.copy_from_slice(entry);
                b.reverse(); // RSKIP92 display order → the internal order this form takes
                hashes.push(hex::encode(b));
            }
            let count = format!("{:x}", txids.len());
            client
                .request(
                    "mnr_submitBitcoinBlockPartialMerkle",
                    rpc_params![block_hash, header_hex, cb_hex, hashes.join(" "), count],
                )
                .await?
        }
        SubmitForm::Transactions => {
            let hashes: Vec<String> = txids.iter().map(|t| display_hex(*t)).collect();
            client
                .request(
                    "mnr_submitBitcoinBlockTransactions",
                    rpc_params![block_hash, header_hex, cb_hex, hashes.join(" ")],
                )
                .await?
        }
        SubmitForm::Block => {
            let header: bitcoin::block::Header = bitcoin::consensus::deserialize(header)?;
            let mut txdata = vec![cb.clone()];
            txdata.extend_from_slice(others);
            let block = bitcoin::Block { header, txdata };
            client
                .request(
                    "mnr_submitBitcoinBlock",
                    rpc_params![hex::encode(bitcoin::consensus::serialize(&block))],
                )
                .await?
        }
    };
    Ok(result)
}

fn result_name(v: &Value) -> String {
    let hexname = v["blockImportedResult"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("0x");
    hex::decode(hexname)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default()
}

/// Mines until `cfg.blocks` solutions were accepted (forever without a limit).
pub async fn run(cfg: MinerConfig) -> eyre::Result<MinerStats> {
    let client = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(30))
        .build(&cfg.rpc)?;
    let mut stats = MinerStats::default();
    let mut extra_nonce = 0u64;
    let start = Instant::now();
    loop {
        let t = Instant::now();
        let work = get_work(&client).await;
        stats.get_work.push(t.elapsed());
        let job = match work {
            Ok(j) => j,
            Err(e) => {
                tracing::warn!(error = %e, "getWork failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        extra_nonce += 1;
        let c = cfg.clone();
        let solved = tokio::task::spawn_blocking(move || {
            let r = solve(&job, &c, extra_nonce, Duration::from_millis(500));
            (job, r)
        })
        .await?;
        let (job, Some((cb, others, header))) = solved else {
            continue;
        };
        let t = Instant::now();
        let submitted = submit(&client, cfg.submit, &cb, &others, &header).await;
        stats.submit.push(t.elapsed());
        let result = match submitted {
            Ok(r) => r,
            Err(e) => {
                // Stale work (its template is gone) comes back as -33000; move on.
                tracing::info!(error = %e, hash_for_merged_mining = %job.hash_for_merged_mining, "solution refused");
                stats.other += 1;
                continue;
            }
        };
        stats.submitted += 1;
        let name = result_name(&result);
        tracing::info!(result = %name, block = %result["blockHash"], height = %result["blockIncludedHeight"], "submitted");
        if name == "IMPORTED_BEST" {
            stats.best += 1;
        } else {
            stats.other += 1;
        }
        if cfg.blocks.is_some_and(|n| stats.best >= n) {
            stats.elapsed = start.elapsed();
            return Ok(stats);
        }
    }
}
