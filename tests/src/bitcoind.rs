//! An in-process Bitcoin regtest node that answers Bitcoin Core's JSON-RPC over real HTTP, so
//! a federator can be pointed at it exactly as at bitcoind: a mempool whose scripts are checked
//! by libbitcoinconsensus, blocks mined with real proof of work, a transaction index, and
//! merkle proofs as `gettxoutproof` makes them.
//!
//! Not simulated: coinbase maturity, reorgs, replace-by-fee, packages, dust and other
//! standardness rules, and taproot script checks (libbitcoinconsensus 25 cannot verify them;
//! witness v1 spends are accepted as bitcoind without taproot rules would).

mod rpc;
#[cfg(test)]
mod tests;

use crate::btc::{grind, BtcKey, Regtest};
use bitcoin::blockdata::constants::genesis_block;
use bitcoin::hashes::Hash;
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::secp256k1::{Message, Secp256k1};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{
    absolute, block, consensus, transaction, Amount, Block, BlockHash, CompactTarget, Network,
    OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxMerkleNode, TxOut, Txid, Witness,
};
use std::collections::{HashMap, HashSet};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const USER: &str = "scion";
const PASS: &str = "scion";
/// `Basic base64("scion:scion")`.
const AUTH: &str = "Basic c2Npb246c2Npb24=";
/// bitcoind's mandatory script flags that libbitcoinconsensus supports: P2SH, DERSIG,
/// NULLDUMMY, CHECKLOCKTIMEVERIFY, CHECKSEQUENCEVERIFY and WITNESS.
const FLAGS: u32 = 1 | (1 << 2) | (1 << 4) | (1 << 9) | (1 << 10) | (1 << 11);
const MAX_MONEY: u64 = 21_000_000 * 100_000_000;
/// sendrawtransaction's default maxfeerate: 0.10 BTC/kvB, in sat/kvB.
const DEFAULT_MAX_FEERATE: u64 = 10_000_000;
/// bitcoind's default -minrelaytxfee: 1000 sat/kvB.
const MIN_RELAY_FEERATE: u64 = 1_000;
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 64 * 1024 * 1024;

/// A JSON-RPC error as bitcoind reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RpcError {
    code: i64,
    message: String,
}

impl RpcError {
    fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// An unspent output in the chain.
#[derive(Debug, Clone)]
struct Coin {
    out: TxOut,
    height: u32,
    coinbase: bool,
}

/// A mempool transaction.
#[derive(Debug, Clone)]
struct Entry {
    tx: Transaction,
    txid: Txid,
    fee: u64,
    time: u64,
    height: u32,
}

/// The node's chain, UTXO set, transaction index and mempool.
#[derive(Debug)]
struct State {
    chain: Regtest,
    heights: HashMap<BlockHash, u32>,
    utxos: HashMap<OutPoint, Coin>,
    txindex: HashMap<Txid, (u32, usize)>,
    mempool: Vec<Entry>,
    miner: BtcKey,
    started: Instant,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Regtest's block subsidy at `height` (halving every 150 blocks).
fn subsidy(height: u32) -> u64 {
    let halvings = height / 150;
    if halvings >= 64 {
        0
    } else {
        5_000_000_000 >> halvings
    }
}

/// Signs every input of `tx` as a P2PKH spend by `key` (SIGHASH_ALL).
fn sign_p2pkh_inputs(key: &BtcKey, tx: &mut Transaction) {
    let secp = Secp256k1::new();
    let spk = key.p2pkh();
    for i in 0..tx.input.len() {
        let sighash = SighashCache::new(&*tx)
            .legacy_signature_hash(i, &spk, EcdsaSighashType::All.to_u32())
            .expect("sighash");
        let sig = bitcoin::ecdsa::Signature {
            signature: secp.sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), &key.secret),
            sighash_type: EcdsaSighashType::All,
        };
        tx.input[i].script_sig = Builder::new()
            .push_slice(PushBytesBuf::try_from(sig.to_vec()).expect("signature push"))
            .push_key(&key.public)
            .into_script();
    }
}

impl State {
    fn new() -> Self {
        let genesis = genesis_block(Network::Regtest);
        Self {
            heights: HashMap::from([(genesis.block_hash(), 0)]),
            chain: Regtest::new(),
            utxos: HashMap::new(),
            txindex: HashMap::new(),
            mempool: Vec::new(),
            miner: BtcKey::new([0x5c; 32]),
            started: Instant::now(),
        }
    }

    fn tip(&self) -> u32 {
        self.chain.height()
    }

    fn block(&self, height: u32) -> &Block {
        &self.chain.blocks[height as usize]
    }

    /// Median time past of the block at `height` (its own and the 10 previous times).
    fn mtp(&self, height: u32) -> u32 {
        let lo = height.saturating_sub(10);
        let mut times: Vec<u32> = (lo..=height).map(|h| self.block(h).header.time).collect();
        times.sort_unstable();
        times[times.len() / 2]
    }

    fn in_mempool(&self, txid: &Txid) -> Option<&Entry> {
        self.mempool.iter().find(|e| &e.txid == txid)
    }

    fn mempool_spends(&self, op: &OutPoint) -> bool {
        self.mempool
            .iter()
            .any(|e| e.tx.input.iter().any(|i| &i.previous_output == op))
    }

    /// An output available to a new mempool transaction, with the height it counts as
    /// confirmed at (the next block for mempool outputs).
    fn spendable(&self, op: &OutPoint) -> Option<(TxOut, u32)> {
        if self.mempool_spends(op) {
            return None;
        }
        if let Some(c) = self.utxos.get(op) {
            return Some((c.out.clone(), c.height));
        }
        let e = self.in_mempool(&op.txid)?;
        let out = e.tx.output.get(op.vout as usize)?;
        Some((out.clone(), self.tip() + 1))
    }

    /// A transaction from the mempool or the chain, with its block height if confirmed.
    fn find_tx(&self, txid: &Txid) -> Option<(&Transaction, Option<u32>)> {
        if let Some(e) = self.in_mempool(txid) {
            return Some((&e.tx, None));
        }
        let &(h, pos) = self.txindex.get(txid)?;
        Some((&self.block(h).txdata[pos], Some(h)))
    }

    /// The output `op` refers to, spent or not (for fees in verbose output).
    fn prevout(&self, op: &OutPoint) -> Option<TxOut> {
        let (tx, _) = self.find_tx(&op.txid)?;
        tx.output.get(op.vout as usize).cloned()
    }

    /// bitcoind's mempool acceptance checks without adding `tx`; returns its fee.
    fn check(&self, tx: &Transaction, max_feerate: u64) -> Result<u64, RpcError> {
        let reject = |m: String| Err(RpcError::new(-26, m));
        if self.txindex.contains_key(&tx.compute_txid()) {
            return Err(RpcError::new(-27, "Transaction already in block chain"));
        }
        if tx.input.is_empty() {
            return reject("bad-txns-vin-empty".into());
        }
        if tx.output.is_empty() {
            return reject("bad-txns-vout-empty".into());
        }
        let out_total = tx.output.iter().try_fold(0u64, |acc, o| {
            let v = o.value.to_sat();
            (v <= MAX_MONEY && acc + v <= MAX_MONEY).then_some(acc + v)
        });
        let Some(out_total) = out_total else {
            return reject("bad-txns-vout-toolarge".into());
        };
        let mut seen = HashSet::new();
        if !tx.input.iter().all(|i| seen.insert(i.previous_output)) {
            return reject("bad-txns-inputs-duplicate".into());
        }
        if tx.is_coinbase() {
            return reject("coinbase".into());
        }
        let next = self.tip() + 1;
        let mtp = self.mtp(self.tip());
        let lock = tx.lock_time.to_consensus_u32();
        let limit = if lock < 500_000_000 { next } else { mtp };
        if lock != 0 && lock >= limit && tx.input.iter().any(|i| i.sequence != Sequence::MAX) {
            return reject("non-final".into());
        }
        let mut spent = Vec::with_capacity(tx.input.len());
        for i in &tx.input {
            match self.spendable(&i.previous_output) {
                Some(s) => spent.push(s),
                None => return Err(RpcError::new(-25, "bad-txns-inputs-missingorspent")),
            }
        }
        let in_total: u64 = spent.iter().map(|(o, _)| o.value.to_sat()).sum();
        if in_total < out_total {
            let btc = |s: u64| Amount::from_sat(s).to_btc();
            return reject(format!(
                "bad-txns-in-belowout, value in ({}) < value out ({})",
                btc(in_total),
                btc(out_total)
            ));
        }
        // BIP68 relative lock times.
        if tx.version.0 as u32 >= 2 {
            for (i, (_, coin_height)) in tx.input.iter().zip(&spent) {
                let s = i.sequence.to_consensus_u32();
                if s & (1 << 31) != 0 {
                    continue;
                }
                let value = s & 0xffff;
                let ok = if s & (1 << 22) != 0 {
                    let base = self.mtp(coin_height.saturating_sub(1).min(self.tip()));
                    (base as u64 + ((value as u64) << 9)) < mtp as u64 + 1
                } else {
                    coin_height + value <= next
                };
                if !ok {
                    return reject("non-BIP68-final".into());
                }
            }
        }
        let fee = in_total - out_total;
        let vsize = tx.vsize() as u64;
        let min_fee = MIN_RELAY_FEERATE * vsize / 1000;
        if fee < min_fee {
            return reject(format!("min relay fee not met, {fee} < {min_fee}"));
        }
        let bytes = consensus::serialize(tx);
        for (n, (out, _)) in spent.iter().enumerate() {
            if out
                .script_pubkey
                .verify_with_flags(n, out.value, &bytes, FLAGS)
                .is_err()
            {
                return reject(format!(
                    "mandatory-script-verify-flag-failed (script verification failed for input {n})"
                ));
            }
        }
        if max_feerate > 0 && fee > max_feerate * vsize / 1000 {
            return Err(RpcError::new(
                -25,
                "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
            ));
        }
        Ok(fee)
    }

    /// sendrawtransaction: checks `tx` and adds it to the mempool.
    fn accept(
        &mut self,
        tx: Transaction,
        max_feerate: u64,
        max_burn: u64,
    ) -> Result<Txid, RpcError> {
        let burn = tx.output.iter().any(|o| {
            (o.script_pubkey.is_op_return() || o.script_pubkey.len() > 10_000)
                && o.value.to_sat() > max_burn
        });
        if burn {
            return Err(RpcError::new(
                -25,
                "Unspendable output exceeds maximum configured by user (maxburnamount)",
            ));
        }
        let txid = tx.compute_txid();
        if self.in_mempool(&txid).is_some() {
            return Ok(txid);
        }
        let fee = self.check(&tx, max_feerate)?;
        let height = self.tip();
        self.mempool.push(Entry {
            tx,
            txid,
            fee,
            time: now(),
            height,
        });
        Ok(txid)
    }

    /// Mines one block with the whole mempool, paying the coinbase to `payout`.
    fn mine_block(&mut self, payout: &ScriptBuf) -> BlockHash {
        let height = self.tip() + 1;
        let entries = std::mem::take(&mut self.mempool);
        let fees: u64 = entries.iter().map(|e| e.fee).sum();
        let coinbase = Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::null(),
                script_sig: Builder::new()
                    .push_int(height as i64)
                    .push_int(0)
                    .into_script(),
                sequence: Sequence::MAX,
                witness: Witness::from_slice(&[[0u8; 32]]),
            }],
            output: vec![TxOut {
                value: Amount::from_sat(subsidy(height) + fees),
                script_pubkey: payout.clone(),
            }],
        };
        let mut txdata = vec![coinbase];
        txdata.extend(entries.into_iter().map(|e| e.tx));
        let prev = self.block(height - 1).header;
        let mut b = Block {
            header: block::Header {
                version: block::Version::from_consensus(0x2000_0000),
                prev_blockhash: prev.block_hash(),
                merkle_root: TxMerkleNode::all_zeros(),
                time: (now() as u32).max(prev.time + 1),
                bits: CompactTarget::from_consensus(0x207f_ffff),
                nonce: 0,
            },
            txdata,
        };
        let root = b.witness_root().expect("block has a coinbase");
        let commitment = Block::compute_witness_commitment(&root, &[0u8; 32]);
        let mut spk = vec![0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];
        spk.extend_from_slice(commitment.as_byte_array());
        b.txdata[0].output.push(TxOut {
            value: Amount::ZERO,
            script_pubkey: ScriptBuf::from_bytes(spk),
        });
        b.header.merkle_root = b.compute_merkle_root().expect("merkle root");
        grind(&mut b.header);
        let hash = b.block_hash();
        for (pos, tx) in b.txdata.iter().enumerate() {
            let txid = tx.compute_txid();
            if !tx.is_coinbase() {
                for i in &tx.input {
                    self.utxos.remove(&i.previous_output);
                }
            }
            for (n, out) in tx.output.iter().enumerate() {
                if !out.script_pubkey.is_op_return() && out.script_pubkey.len() <= 10_000 {
                    let coin = Coin {
                        out: out.clone(),
                        height,
                        coinbase: pos == 0,
                    };
                    self.utxos.insert(OutPoint::new(txid, n as u32), coin);
                }
            }
            self.txindex.insert(txid, (height, pos));
        }
        self.heights.insert(hash, height);
        self.chain.blocks.push(b);
        hash
    }

    /// Pays `sat` to `script` from the miner's coins and confirms it.
    fn fund(&mut self, script: &ScriptBuf, sat: u64) -> OutPoint {
        assert!(sat <= MAX_MONEY, "fund: {sat} sat is more than all bitcoin");
        let miner = self.miner.p2pkh();
        let (coins, total, fee) = loop {
            let mut mine: Vec<(OutPoint, u64)> = self
                .utxos
                .iter()
                .filter(|(op, c)| c.out.script_pubkey == miner && !self.mempool_spends(op))
                .map(|(op, c)| (*op, c.out.value.to_sat()))
                .collect();
            mine.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let (mut picked, mut total) = (Vec::new(), 0u64);
            let fee = |n: usize| 2 * (100 + 150 * n as u64 + script.len() as u64);
            for (op, v) in mine {
                if total >= sat + fee(picked.len()) {
                    break;
                }
                picked.push(op);
                total += v;
            }
            if total >= sat + fee(picked.len()) {
                let fee = fee(picked.len());
                break (picked, total, fee);
            }
            assert!(
                subsidy(self.tip() + 1) > 0,
                "fund: regtest subsidy exhausted"
            );
            self.mine_block(&miner);
        };
        let mut output = vec![TxOut {
            value: Amount::from_sat(sat),
            script_pubkey: script.clone(),
        }];
        if total - sat - fee >= 1_000 {
            output.push(TxOut {
                value: Amount::from_sat(total - sat - fee),
                script_pubkey: miner.clone(),
            });
        }
        let input = coins
            .into_iter()
            .map(|op| TxIn {
                previous_output: op,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            })
            .collect();
        let mut tx = Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::ZERO,
            input,
            output,
        };
        sign_p2pkh_inputs(&self.miner, &mut tx);
        let txid = self.accept(tx, 0, 0).expect("funding transaction");
        self.mine_block(&miner);
        OutPoint::new(txid, 0)
    }
}

/// What the server threads share with the handle.
struct Shared {
    state: Mutex<State>,
    down: AtomicBool,
    stop: AtomicBool,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A simulated bitcoind (regtest) serving JSON-RPC on 127.0.0.1; stops when dropped.
pub struct Bitcoind {
    shared: Arc<Shared>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Bitcoind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bitcoind")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Bitcoind {
    /// Starts a node at regtest genesis, listening on a free port of 127.0.0.1.
    pub fn start() -> Bitcoind {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the bitcoind simulator");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new()),
            down: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("bitcoind-sim".into())
            .spawn(move || accept_loop(listener, s))
            .expect("spawning the server thread");
        Bitcoind {
            shared,
            addr,
            thread: Some(thread),
        }
    }

    /// The RPC URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The RPC socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The RPC user and password (HTTP Basic auth).
    pub fn rpc_user_pass(&self) -> (&str, &str) {
        (USER, PASS)
    }

    /// The `Authorization` header line (with CRLF) for [`crate::post_with`].
    pub fn auth_header(&self) -> String {
        format!("Authorization: {AUTH}\r\n")
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state()
    }

    /// Mines `n` blocks (the first takes the whole mempool); coinbases pay an internal key.
    pub fn mine(&self, n: u32) -> Vec<BlockHash> {
        let mut st = self.state();
        let payout = st.miner.p2pkh();
        (0..n).map(|_| st.mine_block(&payout)).collect()
    }

    /// Confirms a new (non-coinbase) output paying `sat` to `script`; mines a block or more.
    pub fn fund(&self, script: &ScriptBuf, sat: u64) -> OutPoint {
        self.state().fund(script, sat)
    }

    /// Submits `tx` as sendrawtransaction does (default maxfeerate); the error is its message.
    pub fn send(&self, tx: &Transaction) -> Result<Txid, String> {
        self.state()
            .accept(tx.clone(), DEFAULT_MAX_FEERATE, 0)
            .map_err(|e| e.message)
    }

    /// The tip's height.
    pub fn height(&self) -> u32 {
        self.state().tip()
    }

    /// The mempool's txids, in arrival order.
    pub fn mempool(&self) -> Vec<Txid> {
        self.state().mempool.iter().map(|e| e.txid).collect()
    }

    /// The sum of confirmed unspent outputs paying `script`, in sat.
    pub fn received(&self, script: &ScriptBuf) -> u64 {
        let st = self.state();
        st.utxos
            .values()
            .filter(|c| &c.out.script_pubkey == script)
            .map(|c| c.out.value.to_sat())
            .sum()
    }

    /// A mempool or confirmed transaction, with its block height if confirmed.
    pub fn find_tx(&self, txid: &Txid) -> Option<(Transaction, Option<u32>)> {
        let st = self.state();
        st.find_tx(txid).map(|(tx, h)| (tx.clone(), h))
    }

    /// The block at `height` on the chain.
    pub fn block(&self, height: u32) -> Option<Block> {
        self.state().chain.blocks.get(height as usize).cloned()
    }

    /// While down, every HTTP request is answered with 503 and the connection closed.
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    /// Stops the server (as dropping does).
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Bitcoind {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        match conn {
            Ok(stream) => {
                let s = shared.clone();
                let _ = std::thread::Builder::new()
                    .name("bitcoind-conn".into())
                    .spawn(move || serve(stream, &s));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// One parsed HTTP request.
struct Request {
    method: String,
    close: bool,
    auth: Option<String>,
    body: Vec<u8>,
}

/// Reads more bytes into `buf`; `None` when the peer is gone, idle too long, or we stop.
fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>, sh: &Shared, since: Instant) -> Option<()> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if sh.stop.load(Ordering::SeqCst) {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Some(());
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if since.elapsed() > IDLE_TIMEOUT {
                    return None;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>, sh: &Shared) -> Option<Request> {
    let since = Instant::now();
    let head_len = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        fill(stream, buf, sh, since)?;
    };
    let head = String::from_utf8_lossy(&buf[..head_len]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_string();
    let _path = first.next()?;
    let mut close = first.next() != Some("HTTP/1.1");
    let (mut len, mut auth, mut expect) = (0usize, None, false);
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k.trim().to_ascii_lowercase().as_str() {
            "content-length" => len = v.parse().ok()?,
            "connection" if v.eq_ignore_ascii_case("close") => close = true,
            "connection" if v.eq_ignore_ascii_case("keep-alive") => close = false,
            "authorization" => auth = Some(v.to_string()),
            "expect" => expect = v.eq_ignore_ascii_case("100-continue"),
            "transfer-encoding" => return None,
            _ => {}
        }
    }
    if len > MAX_BODY {
        return None;
    }
    if expect && buf.len() < head_len + len {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").ok()?;
    }
    while buf.len() < head_len + len {
        fill(stream, buf, sh, since)?;
    }
    let body = buf[head_len..head_len + len].to_vec();
    buf.drain(..head_len + len);
    Some(Request {
        method,
        close,
        auth,
        body,
    })
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    body: Option<&str>,
    close: bool,
    extra: &str,
) -> bool {
    let reason = match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    };
    let conn = if close { "close" } else { "keep-alive" };
    let mut out = format!("HTTP/1.1 {status} {reason}\r\nConnection: {conn}\r\n{extra}");
    if let Some(b) = body {
        out.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
            b.len()
        ));
    } else if status == 204 {
        out.push_str("\r\n");
    } else {
        out.push_str("Content-Length: 0\r\n\r\n");
    }
    stream
        .write_all(out.as_bytes())
        .and_then(|_| stream.flush())
        .is_ok()
}

/// Serves one connection: HTTP/1.1 keep-alive, Basic auth, JSON-RPC on POST.
fn serve(mut stream: TcpStream, sh: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut stream, &mut buf, sh) {
        if sh.down.load(Ordering::SeqCst) {
            respond(&mut stream, 503, None, true, "");
            return;
        }
        let ok = if req.auth.as_deref() != Some(AUTH) {
            let extra = "WWW-Authenticate: Basic realm=\"jsonrpc\"\r\n";
            respond(&mut stream, 401, None, req.close, extra)
        } else if req.method != "POST" {
            let msg = "JSONRPC server handles only POST requests";
            respond(&mut stream, 405, Some(msg), req.close, "")
        } else {
            let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                rpc::handle_body(sh, &req.body)
            }));
            let (status, body) = reply.unwrap_or_else(|_| {
                let e = r#"{"result":null,"error":{"code":-32603,"message":"Internal error"},"id":null}"#;
                (500, Some(e.to_string()))
            });
            let body = body.map(|b| b + "\n");
            respond(&mut stream, status, body.as_deref(), req.close, "")
        };
        if !ok || req.close {
            return;
        }
    }
}
