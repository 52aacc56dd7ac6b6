//! `scion federator`: one member of the peg's federation. Each round it relays new Bitcoin
//! headers to the Bridge, registers payments to the federation once the Bridge accepts them,
//! calls updateCollections on a schedule, signs the peg-outs waiting for signatures, and
//! broadcasts every `release_btc` transaction to Bitcoin. It talks to a Scion node and to
//! Bitcoin Core over their JSON-RPC, keeps its progress in a file so a restart does no work
//! twice, and never logs its key.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{hex, Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use base64::Engine;
use bitcoin::consensus::deserialize;
use bitcoin::{Amount, Block, ScriptBuf, Transaction, Txid};
use eyre::{bail, eyre, Context, Result};
use k256::ecdsa::SigningKey;
use scion_bridge::abi::IBridge::{self, *};
use scion_bridge::federator::{parse_release_state, public_key, release_from_log, sign_inputs};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The Bridge's address as a string for JSON.
const BRIDGE: &str = "0x0000000000000000000000000000000001000006";
/// Headers per receiveHeaders transaction.
const HEADERS_PER_TX: usize = 100;
/// After a Bitcoin reorg under the last scanned block, scan again from this far below it.
const RESCAN_DEPTH: u32 = 100;
/// release_btc logs are read again this many blocks back, in case a Scion reorg moved them.
const LOG_WINDOW: u64 = 16;

/// What `scion federator` needs.
#[derive(Debug, Clone)]
pub struct FederatorConfig {
    /// The Scion node's JSON-RPC URL.
    pub rpc: String,
    /// Bitcoin Core's JSON-RPC URL, with `user:password@` when it needs them.
    pub btc_rpc: String,
    /// A file holding the federator's secp256k1 key in hex, readable by its owner only.
    pub key_file: PathBuf,
    /// Where progress is kept.
    pub datadir: PathBuf,
    /// Pause between rounds.
    pub poll: Duration,
    /// How often to call updateCollections.
    pub update_every: Duration,
}

/// Reads the key file, refusing one that group or others may read.
pub fn load_key(path: &Path) -> Result<SigningKey> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .wrap_err_with(|| format!("key file {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            bail!(
                "key file {} is readable by others (mode {:o}): run chmod 600 on it",
                path.display(),
                mode & 0o777
            );
        }
    }
    let text = std::fs::read_to_string(path)
        .wrap_err_with(|| format!("reading key file {}", path.display()))?;
    let bytes = hex::decode(text.trim().trim_start_matches("0x"))
        .map_err(|_| eyre!("key file {} does not hold a hex key", path.display()))?;
    SigningKey::from_slice(&bytes).map_err(|_| {
        eyre!(
            "key file {} does not hold a valid secp256k1 key",
            path.display()
        )
    })
}

/// A JSON-RPC endpoint over HTTP (Scion's or Bitcoin Core's).
struct Rpc {
    agent: ureq::Agent,
    url: String,
    auth: Option<String>,
}

/// A JSON-RPC error answer.
#[derive(Debug)]
struct ServerError {
    code: i64,
    message: String,
}

impl Rpc {
    fn new(url: &str) -> Result<Self> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| eyre!("{url:?} is not an http:// URL"))?;
        let (auth, host) = match rest.rsplit_once('@') {
            Some((userinfo, host)) => {
                let b64 = base64::engine::general_purpose::STANDARD.encode(userinfo);
                (Some(format!("Basic {b64}")), host)
            }
            None => (None, rest),
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Ok(Self {
            agent,
            url: format!("{scheme}://{host}"),
            auth,
        })
    }

    /// Calls `method`: `Ok(Err(_))` is the server's error answer, `Err` a transport failure.
    fn call(&self, method: &str, params: Value) -> Result<std::result::Result<Value, ServerError>> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut req = self.agent.post(&self.url);
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        let mut resp = req
            .send_json(&body)
            .wrap_err_with(|| format!("{method} to {}", self.url))?;
        let status = resp.status();
        let v: Value = resp
            .body_mut()
            .read_json()
            .map_err(|e| eyre!("{method} to {}: HTTP {status}: {e}", self.url))?;
        match v.get("error").filter(|e| !e.is_null()) {
            Some(e) => Ok(Err(ServerError {
                code: e["code"].as_i64().unwrap_or(0),
                message: e["message"].as_str().unwrap_or_default().to_string(),
            })),
            None => Ok(Ok(v.get("result").cloned().unwrap_or(Value::Null))),
        }
    }

    /// Calls `method`, treating an error answer as a failure.
    fn get(&self, method: &str, params: Value) -> Result<Value> {
        self.call(method, params)?
            .map_err(|e| eyre!("{method}: error {}: {}", e.code, e.message))
    }
}

fn as_hex(v: &Value) -> Result<Vec<u8>> {
    let s = v
        .as_str()
        .ok_or_else(|| eyre!("expected a hex string, got {v}"))?;
    hex::decode(s.trim_start_matches("0x")).map_err(|e| eyre!("bad hex {s:?}: {e}"))
}

fn as_u64(v: &Value) -> Result<u64> {
    if let Some(n) = v.as_u64() {
        return Ok(n);
    }
    let s = v
        .as_str()
        .ok_or_else(|| eyre!("expected a number, got {v}"))?;
    u64::from_str_radix(s.trim_start_matches("0x"), 16)
        .map_err(|e| eyre!("bad quantity {s:?}: {e}"))
}

/// A payment to the federation found on Bitcoin, not yet registered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Candidate {
    txid: String,
    block: String,
    height: u32,
}

/// What the federator has done, kept on disk.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Progress {
    /// The Scion chain this progress belongs to (its genesis hash).
    genesis: B256,
    /// The last Bitcoin block scanned for payments: (height, hash).
    scanned: Option<(u32, String)>,
    /// Payments waiting to be registered.
    candidates: Vec<Candidate>,
    /// Every payment to the federation seen: txid → block hash (to read input amounts without
    /// bitcoind's -txindex).
    payments: BTreeMap<String, String>,
    /// Peg-outs this federator signed, as "Scion hash:Bitcoin txid".
    signed: Vec<String>,
    /// The next Scion block whose release_btc logs to broadcast.
    logs_from: u64,
    /// Released transactions (hex) not yet seen confirmed: rebroadcast every round.
    unconfirmed: Vec<String>,
    /// The last released transactions seen confirmed (txids), so a re-read log is not resent.
    confirmed: Vec<String>,
}

/// A running federator.
pub struct Federator {
    scion: Rpc,
    btc: Rpc,
    key: SigningKey,
    signer: PrivateKeySigner,
    btc_key: [u8; 33],
    chain_id: u64,
    redeem: ScriptBuf,
    fed_script: ScriptBuf,
    path: PathBuf,
    progress: Progress,
    update_every: Duration,
    last_update: Option<Instant>,
}

impl std::fmt::Debug for Federator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is never printed.
        f.debug_struct("Federator")
            .field("address", &self.signer.address())
            .field("btc_key", &hex::encode(self.btc_key))
            .finish()
    }
}

impl Federator {
    /// Loads the key and progress and checks the key is a member of the Bridge's federation.
    pub fn new(cfg: &FederatorConfig) -> Result<Self> {
        let key = load_key(&cfg.key_file)?;
        let signer = PrivateKeySigner::from_signing_key(key.clone());
        let btc_key = public_key(&key);
        let scion = Rpc::new(&cfg.rpc)?;
        let btc = Rpc::new(&cfg.btc_rpc)?;
        let chain_id = as_u64(&scion.get("eth_chainId", json!([]))?)?;
        std::fs::create_dir_all(&cfg.datadir)
            .wrap_err_with(|| format!("creating {}", cfg.datadir.display()))?;
        let path = cfg.datadir.join("federator.json");
        let progress = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b)
                .wrap_err_with(|| format!("reading progress {}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Progress::default(),
            Err(e) => return Err(e).wrap_err_with(|| format!("reading {}", path.display())),
        };
        let genesis: B256 = serde_json::from_value(
            scion.get("eth_getBlockByNumber", json!(["0x0", false]))?["hash"].clone(),
        )?;
        let progress = if progress.genesis == genesis {
            progress
        } else {
            if progress.genesis != B256::ZERO {
                tracing::warn!(%genesis, old = %progress.genesis, "progress belongs to another chain; starting afresh");
            }
            Progress {
                genesis,
                ..Progress::default()
            }
        };
        let mut f = Self {
            scion,
            btc,
            key,
            signer,
            btc_key,
            chain_id,
            redeem: ScriptBuf::new(),
            fed_script: ScriptBuf::new(),
            path,
            progress,
            update_every: cfg.update_every,
            last_update: None,
        };
        let redeem = f.view(getActivePowpegRedeemScriptCall {})?;
        f.redeem = ScriptBuf::from_bytes(redeem.to_vec());
        f.fed_script = ScriptBuf::new_p2wsh(&f.redeem.wscript_hash());
        f.fed_script = ScriptBuf::new_p2sh(&f.fed_script.script_hash());
        let size = f.view(getFederationSizeCall {})?;
        let mut member = false;
        for i in 0..size.as_i64() {
            let index = alloy_primitives::I256::try_from(i)?;
            let key_of = |atype: &str| {
                f.view(getFederatorPublicKeyOfTypeCall {
                    index,
                    atype: atype.into(),
                })
            };
            if key_of("btc")?.as_ref() == btc_key.as_slice() {
                if key_of("rsk")?.as_ref() != btc_key.as_slice() {
                    bail!(
                        "federator {i}'s rsk key differs from its btc key, and {} holds one key for both",
                        cfg.key_file.display()
                    );
                }
                member = true;
            }
        }
        if !member {
            bail!(
                "the key in {} (BTC key {}) is not a member of the Bridge's federation",
                cfg.key_file.display(),
                hex::encode(btc_key)
            );
        }
        Ok(f)
    }

    /// The federator's Scion address.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    fn save(&self) -> Result<()> {
        use std::io::Write;
        let tmp = self.path.with_extension("json.tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(&self.progress)?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        Ok(())
    }

    /// eth_call of a Bridge view.
    fn view<C: SolCall>(&self, c: C) -> Result<C::Return> {
        let data = format!("0x{}", hex::encode(c.abi_encode()));
        let out = self.scion.get(
            "eth_call",
            json!([{"from": self.address(), "to": BRIDGE, "data": data}, "latest"]),
        )?;
        C::abi_decode_returns(&as_hex(&out)?).map_err(|e| eyre!("{}: {e}", C::SIGNATURE))
    }

    /// Sends a Bridge call as a signed transaction and waits for its receipt. `Ok(Err(reason))`
    /// when the node says it would revert (nothing is sent then).
    fn send(&self, data: Vec<u8>) -> Result<std::result::Result<B256, String>> {
        let from = self.address();
        let input = format!("0x{}", hex::encode(&data));
        let gas = match self.scion.call(
            "eth_estimateGas",
            json!([{"from": from, "to": BRIDGE, "data": input}]),
        )? {
            Ok(g) => as_u64(&g)?,
            Err(e) => return Ok(Err(e.message)),
        };
        let nonce = as_u64(
            &self
                .scion
                .get("eth_getTransactionCount", json!([from, "pending"]))?,
        )?;
        let block = self
            .scion
            .get("eth_getBlockByNumber", json!(["latest", false]))?;
        let base = as_u64(&block["baseFeePerGas"]).unwrap_or(1_000_000_000);
        let tip = 1_000_000_000u128;
        let tx = TxEip1559 {
            chain_id: self.chain_id,
            nonce,
            gas_limit: gas + gas / 5,
            max_fee_per_gas: 2 * u128::from(base) + tip,
            max_priority_fee_per_gas: tip,
            to: TxKind::Call(BRIDGE.parse()?),
            value: U256::ZERO,
            input: Bytes::from(data),
            ..Default::default()
        };
        let sig = self.signer.sign_hash_sync(&tx.signature_hash())?;
        let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
        let hash = self.scion.get(
            "eth_sendRawTransaction",
            json!([format!("0x{}", hex::encode(raw))]),
        )?;
        let hash: B256 = serde_json::from_value(hash)?;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let r = self.scion.get("eth_getTransactionReceipt", json!([hash]))?;
            if !r.is_null() {
                if as_u64(&r["status"])? != 1 {
                    return Ok(Err(format!("transaction {hash} reverted")));
                }
                return Ok(Ok(hash));
            }
            if Instant::now() > deadline {
                bail!("no receipt for {hash} after 120 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One round of work. An error (a node or Bitcoin Core unreachable) ends the round; the
    /// next one starts from the saved progress.
    pub fn round(&mut self) -> Result<()> {
        // Each step runs even when an earlier one failed (a broadcast must not wait on a
        // header relay); the first error is returned.
        let steps = [
            self.relay_headers().wrap_err("relaying headers"),
            self.register_payments().wrap_err("registering payments"),
            self.update_collections().wrap_err("updateCollections"),
            self.sign().wrap_err("signing"),
            self.broadcast().wrap_err("broadcasting"),
        ];
        steps.into_iter().collect::<Result<Vec<()>>>().map(|_| ())
    }

    fn btc_hash(&self, height: u32) -> Result<String> {
        let v = self.btc.get("getblockhash", json!([height]))?;
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| eyre!("getblockhash: {v}"))
    }

    /// Sends the Bitcoin headers the Bridge lacks, from the last one both chains share.
    fn relay_headers(&mut self) -> Result<()> {
        let tip = as_u64(&self.btc.get("getblockcount", json!([]))?)? as u32;
        let best = self.view(getBtcBlockchainBestChainHeightCall {})?.as_i64() as u32;
        let initial = self
            .view(getBtcBlockchainInitialBlockHeightCall {})?
            .as_i64() as u32;
        let mut h = best.min(tip);
        loop {
            let ours = self.view(getBtcBlockchainBlockHeaderByHeightCall {
                btcBlockHeight: U256::from(h),
            })?;
            let theirs = self
                .btc
                .get("getblockheader", json!([self.btc_hash(h)?, false]))?;
            if ours.as_ref() == as_hex(&theirs)?.as_slice() || h <= initial {
                break;
            }
            h -= 1;
        }
        if h >= tip {
            return Ok(());
        }
        let mut headers = Vec::new();
        for height in h + 1..=tip {
            let hx = self
                .btc
                .get("getblockheader", json!([self.btc_hash(height)?, false]))?;
            headers.push(Bytes::from(as_hex(&hx)?));
        }
        for chunk in headers.chunks(HEADERS_PER_TX) {
            let c = receiveHeadersCall {
                blocks: chunk.to_vec(),
            };
            match self.send(c.abi_encode())? {
                Ok(_) => tracing::info!(headers = chunk.len(), tip, "relayed Bitcoin headers"),
                Err(why) => bail!("receiveHeaders refused: {why}"),
            }
        }
        Ok(())
    }

    /// Scans new Bitcoin blocks for payments to the federation and registers those the Bridge
    /// accepts now (enough confirmations); the rest wait for a later round. A payment is
    /// forgotten only once the Bridge has it or its block left Bitcoin's best chain.
    fn register_payments(&mut self) -> Result<()> {
        let tip = as_u64(&self.btc.get("getblockcount", json!([]))?)? as u32;
        let mut next = match self.progress.scanned.clone() {
            Some((h, hash)) if h <= tip && self.btc_hash(h)? == hash => h + 1,
            // Bitcoin reorganized under the last scanned block: scan again from below.
            Some((h, _)) => h.saturating_sub(RESCAN_DEPTH).max(1),
            None => {
                self.view(getBtcBlockchainInitialBlockHeightCall {})?
                    .as_i64() as u32
                    + 1
            }
        };
        while next <= tip {
            let hash = self.btc_hash(next)?;
            let block: Block = deserialize(&as_hex(&self.btc.get("getblock", json!([hash, 0]))?)?)?;
            for tx in &block.txdata {
                if tx.output.iter().any(|o| o.script_pubkey == self.fed_script) {
                    let c = Candidate {
                        txid: tx.compute_txid().to_string(),
                        block: hash.clone(),
                        height: next,
                    };
                    self.progress
                        .payments
                        .insert(c.txid.clone(), c.block.clone());
                    if !self.progress.candidates.contains(&c) {
                        self.progress.candidates.push(c);
                    }
                }
            }
            self.progress.scanned = Some((next, hash));
            self.save()?;
            next += 1;
        }
        for c in self.progress.candidates.clone() {
            let done = self.view(isBtcTxHashAlreadyProcessedCall {
                hash: c.txid.clone(),
            })?;
            let orphaned = c.height > tip || self.btc_hash(c.height)? != c.block;
            if !done && !orphaned {
                let raw = as_hex(
                    &self
                        .btc
                        .get("getrawtransaction", json!([c.txid, false, c.block]))?,
                )?;
                let proof = as_hex(&self.btc.get("gettxoutproof", json!([[c.txid], c.block]))?)?;
                let pmt = proof
                    .get(80..)
                    .ok_or_else(|| eyre!("gettxoutproof: too short"))?;
                let call = registerBtcTransactionCall {
                    tx: raw.into(),
                    height: alloy_primitives::I256::try_from(c.height)?,
                    pmt: pmt.to_vec().into(),
                };
                match self.send(call.abi_encode())? {
                    Ok(h) => {
                        tracing::info!(btc_tx = %c.txid, scion_tx = %h, "registered payment to the federation")
                    }
                    // Refusals that no later round can change.
                    Err(why) if why.contains("64-byte") || why.contains("pays more than") => {
                        tracing::warn!(btc_tx = %c.txid, %why, "the Bridge refuses this payment for good")
                    }
                    // Too few confirmations, or the Bridge's Bitcoin chain is behind: retry.
                    Err(why) => {
                        tracing::debug!(btc_tx = %c.txid, %why, "payment not registrable yet");
                        continue;
                    }
                }
            }
            self.progress.candidates.retain(|x| x != &c);
            self.save()?;
        }
        Ok(())
    }

    fn update_collections(&mut self) -> Result<()> {
        if self
            .last_update
            .is_some_and(|t| t.elapsed() < self.update_every)
        {
            return Ok(());
        }
        match self.send(updateCollectionsCall {}.abi_encode())? {
            Ok(h) => tracing::debug!(scion_tx = %h, "updateCollections"),
            Err(why) => tracing::warn!(%why, "updateCollections refused"),
        }
        self.last_update = Some(Instant::now());
        Ok(())
    }

    /// The value of a Bitcoin output, read from its transaction (in its block when the
    /// federator saw it paid, so bitcoind needs no -txindex).
    fn output_value(
        &self,
        op: &bitcoin::OutPoint,
        cache: &mut HashMap<Txid, Transaction>,
    ) -> Result<Amount> {
        let tx = match cache.entry(op.txid) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let txid = op.txid.to_string();
                let params = match self.progress.payments.get(&txid) {
                    Some(block) => json!([txid, false, block]),
                    None => json!([txid, false]),
                };
                let raw = self.btc.get("getrawtransaction", params)?;
                v.insert(deserialize(&as_hex(&raw)?)?)
            }
        };
        tx.output
            .get(op.vout as usize)
            .map(|o| o.value)
            .ok_or_else(|| eyre!("peg-out input {op} does not exist on Bitcoin"))
    }

    /// Signs every peg-out waiting for signatures that this federator has not signed.
    fn sign(&mut self) -> Result<()> {
        let state = self.view(getStateForBtcReleaseClientCall {})?;
        let mut prevs: HashMap<Txid, Transaction> = HashMap::new();
        for (hash, tx) in parse_release_state(&state)? {
            let id = format!("{hash}:{}", tx.compute_txid());
            if self.progress.signed.contains(&id) {
                continue;
            }
            let amounts = tx
                .input
                .iter()
                .map(|i| self.output_value(&i.previous_output, &mut prevs))
                .collect::<Result<Vec<Amount>>>()?;
            let sigs = sign_inputs(&tx, &amounts, &self.redeem, &self.key)?;
            let call = addSignatureCall {
                pubkey: self.btc_key.to_vec().into(),
                signatures: sigs.into_iter().map(Bytes::from).collect(),
                txhash: hash.to_vec().into(),
            };
            match self.send(call.abi_encode())? {
                Ok(h) => {
                    tracing::info!(pegout = %hash, btc_tx = %tx.compute_txid(), scion_tx = %h, "signed peg-out")
                }
                Err(why) if why.contains("already signed") => {}
                Err(why) => {
                    tracing::warn!(pegout = %hash, %why, "addSignature refused");
                    continue;
                }
            }
            self.progress.signed.push(id);
            self.save()?;
        }
        Ok(())
    }

    /// Broadcasts the peg-outs released since the last round (reading a few blocks back, in
    /// case a Scion reorg moved them), and rebroadcasts those not yet confirmed.
    fn broadcast(&mut self) -> Result<()> {
        let head = as_u64(&self.scion.get("eth_blockNumber", json!([]))?)?;
        let from = self.progress.logs_from.saturating_sub(LOG_WINDOW);
        let topic = format!("{:#x}", IBridge::release_btc::SIGNATURE_HASH);
        let logs = self.scion.get(
            "eth_getLogs",
            json!([{"fromBlock": format!("{from:#x}"), "toBlock": format!("{head:#x}"),
                   "address": BRIDGE, "topics": [topic]}]),
        )?;
        for log in logs.as_array().cloned().unwrap_or_default() {
            let topics: Vec<B256> = serde_json::from_value(log["topics"].clone())?;
            let data =
                alloy_primitives::LogData::new_unchecked(topics, as_hex(&log["data"])?.into());
            if let Some((hash, raw)) = release_from_log(&data) {
                let txid = deserialize::<Transaction>(&raw)?.compute_txid().to_string();
                let raw = hex::encode(raw);
                if !self.progress.unconfirmed.contains(&raw)
                    && !self.progress.confirmed.contains(&txid)
                {
                    tracing::info!(pegout = %hash, "peg-out released");
                    self.progress.unconfirmed.push(raw);
                }
            }
        }
        self.progress.logs_from = head + 1;
        self.save()?;
        for raw in self.progress.unconfirmed.clone() {
            let tx: Transaction = deserialize(&hex::decode(&raw)?)?;
            let txid = tx.compute_txid();
            let keep = match self.btc.call("sendrawtransaction", json!([raw]))? {
                // Accepted, or already in the mempool: keep until it confirms.
                Ok(_) => {
                    tracing::debug!(btc_tx = %txid, "peg-out in the mempool");
                    true
                }
                // In a block (-27), or its inputs are spent, which means confirmed (-25).
                Err(e) if e.code == -27 || e.code == -25 => {
                    tracing::info!(btc_tx = %txid, "peg-out confirmed on Bitcoin");
                    false
                }
                Err(e) => {
                    tracing::error!(btc_tx = %txid, code = e.code, message = %e.message, "Bitcoin refuses the peg-out; retrying");
                    true
                }
            };
            if !keep {
                self.progress.unconfirmed.retain(|r| r != &raw);
                self.progress.confirmed.push(txid.to_string());
                let n = self.progress.confirmed.len();
                self.progress.confirmed.drain(..n.saturating_sub(64));
                self.save()?;
            }
        }
        Ok(())
    }
}

/// Runs rounds until `stop` is set; errors are logged and retried next round.
pub fn run(cfg: FederatorConfig, stop: &AtomicBool) -> Result<()> {
    let mut f = Federator::new(&cfg)?;
    tracing::info!(address = %f.address(), btc_key = %hex::encode(f.btc_key), "federator running");
    while !stop.load(Ordering::Relaxed) {
        if let Err(e) = f.round() {
            tracing::warn!("round failed, retrying: {e:#}");
        }
        std::thread::sleep(cfg.poll);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key");
        std::fs::write(
            &p,
            "0x689af8efa8c651a91ad287602527f3af2fe9f6501a7ac4b061667b5a93e037fd\n",
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_key(&p).unwrap_err().to_string();
        assert!(e.contains("readable by others") && e.contains("644"), "{e}");
        assert!(
            !e.contains("689af8ef"),
            "the key must not appear in errors: {e}"
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let k = load_key(&p).unwrap();
        assert_eq!(
            hex::encode(public_key(&k)),
            "02c216848622dfc38a2ad2a921f524103cf654a22b8679736ecedc4901453ea3f7"
        );
        std::fs::write(&p, "not hex").unwrap();
        assert!(load_key(&p).unwrap_err().to_string().contains("hex key"));
    }
}
