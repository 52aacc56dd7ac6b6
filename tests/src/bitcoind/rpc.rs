//! Bitcoin Core's JSON-RPC methods and envelope (1.0 legacy and 2.0 as in Core 28) over the
//! simulator's state.

use super::{RpcError, Shared, State, DEFAULT_MAX_FEERATE};
use bitcoin::consensus::encode::{deserialize, serialize_hex};
use bitcoin::hex::{DisplayHex, FromHex};
use bitcoin::script::Instruction;
use bitcoin::{
    Address, Amount, Block, BlockHash, MerkleBlock, Network, OutPoint, Script, Transaction, Txid,
};
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::str::FromStr;

/// Answers an HTTP body: the status and the JSON reply (`None` for 204).
pub(super) fn handle_body(sh: &Shared, body: &[u8]) -> (u16, Option<String>) {
    let parse_error = |m: &str| {
        let e = RpcError::new(-32700, m);
        (500, Some(reply(false, Value::Null, Err(e)).to_string()))
    };
    match serde_json::from_slice::<Value>(body) {
        Err(_) => parse_error("Parse error"),
        Ok(Value::Array(reqs)) => {
            let replies: Vec<Value> = reqs.iter().filter_map(|r| one(sh, r).0).collect();
            if replies.is_empty() && !reqs.is_empty() {
                return (204, None);
            }
            (200, Some(Value::Array(replies).to_string()))
        }
        Ok(req @ Value::Object(_)) => match one(sh, &req) {
            (Some(r), status) => (status, Some(r.to_string())),
            (None, _) => (204, None),
        },
        Ok(_) => parse_error("Top-level object parse error"),
    }
}

fn reply(v2: bool, id: Value, result: Result<Value, RpcError>) -> Value {
    let mut m = Map::new();
    if v2 {
        m.insert("jsonrpc".into(), json!("2.0"));
    }
    match result {
        Ok(r) => {
            m.insert("result".into(), r);
            if !v2 {
                m.insert("error".into(), Value::Null);
            }
        }
        Err(e) => {
            if !v2 {
                m.insert("result".into(), Value::Null);
            }
            m.insert(
                "error".into(),
                json!({"code": e.code, "message": e.message}),
            );
        }
    }
    m.insert("id".into(), id);
    Value::Object(m)
}

/// One request: its reply (none for a JSON-RPC 2.0 notification) and HTTP status if alone.
fn one(sh: &Shared, req: &Value) -> (Option<Value>, u16) {
    let Some(obj) = req.as_object() else {
        let e = RpcError::new(-32600, "Invalid Request object");
        return (Some(reply(false, Value::Null, Err(e))), 400);
    };
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    let v2 = obj.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
    let params = match obj.get("params") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => Ok(a.clone()),
        Some(Value::Object(o)) if o.is_empty() => Ok(Vec::new()),
        Some(Value::Object(_)) => Err(RpcError::new(-8, "Named parameters are not supported")),
        Some(_) => Err(RpcError::new(-32600, "Params must be an array or object")),
    };
    let result = match (obj.get("method"), params) {
        (Some(Value::String(m)), Ok(p)) => call(&mut sh.state(), m, &Params(&p)),
        (Some(Value::String(_)), Err(e)) => Err(e),
        _ => Err(RpcError::new(-32600, "Method must be a string")),
    };
    if v2 && !obj.contains_key("id") {
        return (None, 204);
    }
    let status = match &result {
        _ if v2 => 200,
        Ok(_) => 200,
        Err(e) if e.code == -32600 => 400,
        Err(e) if e.code == -32601 => 404,
        Err(_) => 500,
    };
    (Some(reply(v2, id, result)), status)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_err(v: &Value, expected: &str) -> RpcError {
    let got = type_name(v);
    RpcError::new(
        -3,
        format!("JSON value of type {got} is not of expected type {expected}"),
    )
}

fn not_found(m: &str) -> RpcError {
    RpcError::new(-5, m)
}

/// Positional parameters with bitcoind's checks.
struct Params<'a>(&'a [Value]);

impl Params<'_> {
    fn opt(&self, i: usize) -> Option<&Value> {
        self.0.get(i).filter(|v| !v.is_null())
    }

    fn req(&self, i: usize, name: &str) -> Result<&Value, RpcError> {
        let msg = || format!("Missing required parameter {} ({name})", i + 1);
        self.opt(i).ok_or_else(|| RpcError::new(-1, msg()))
    }

    fn int(&self, i: usize, name: &str) -> Result<i64, RpcError> {
        let v = self.req(i, name)?;
        v.as_i64().ok_or_else(|| type_err(v, "number"))
    }

    fn str(&self, i: usize, name: &str) -> Result<&str, RpcError> {
        let v = self.req(i, name)?;
        v.as_str().ok_or_else(|| type_err(v, "string"))
    }

    fn hash<T: FromStr>(&self, i: usize, name: &str) -> Result<T, RpcError> {
        parse_hash(self.req(i, name)?, name)
    }

    fn bool_or(&self, i: usize, default: bool) -> Result<bool, RpcError> {
        self.opt(i).map_or(Ok(default), |v| {
            v.as_bool().ok_or_else(|| type_err(v, "bool"))
        })
    }

    /// A verbosity given as a number or (for compatibility) a bool.
    fn verbosity(&self, i: usize, default: i64) -> Result<i64, RpcError> {
        match self.opt(i) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b as i64),
            Some(v) => v.as_i64().ok_or_else(|| type_err(v, "number")),
        }
    }

    /// A BTC amount (number or string) in sat; `default` if absent.
    fn sat(&self, i: usize, default: u64) -> Result<u64, RpcError> {
        let Some(v) = self.opt(i) else {
            return Ok(default);
        };
        let btc = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.parse::<f64>().ok(),
            _ => return Err(type_err(v, "number")),
        };
        match btc {
            Some(b) if (0.0..=21e6).contains(&b) => Ok((b * 1e8).round() as u64),
            Some(_) => Err(RpcError::new(-3, "Amount out of range")),
            None => Err(RpcError::new(-3, "Invalid amount")),
        }
    }
}

fn parse_hash<T: FromStr>(v: &Value, name: &str) -> Result<T, RpcError> {
    let s = v.as_str().ok_or_else(|| type_err(v, "string"))?;
    if s.len() != 64 {
        let msg = format!("{name} must be of length 64 (not {}, for '{s}')", s.len());
        return Err(RpcError::new(-8, msg));
    }
    let msg = || format!("{name} must be hexadecimal string (not '{s}')");
    s.parse().map_err(|_| RpcError::new(-8, msg()))
}

fn btc(sat: u64) -> Value {
    json!(Amount::from_sat(sat).to_btc())
}

/// `CScriptNum` of a push of at most 4 bytes.
fn script_num(b: &[u8]) -> i64 {
    let Some(&last) = b.last() else {
        return 0;
    };
    let mut v = b.iter().rev().fold(0i64, |acc, x| (acc << 8) | *x as i64);
    if last & 0x80 != 0 {
        v &= !(0x80i64 << (8 * (b.len() - 1)));
        v = -v;
    }
    v
}

/// bitcoind's `ScriptToAsmStr` (without sighash decoding).
fn asm(s: &Script) -> String {
    let mut out = Vec::new();
    for ins in s.instructions() {
        out.push(match ins {
            Ok(Instruction::PushBytes(b)) if b.len() <= 4 => script_num(b.as_bytes()).to_string(),
            Ok(Instruction::PushBytes(b)) => b.as_bytes().to_lower_hex_string(),
            Ok(Instruction::Op(op)) => match op.to_u8() {
                0x4f => "-1".into(),
                n @ 0x51..=0x60 => (n - 0x50).to_string(),
                0xb1 => "OP_CHECKLOCKTIMEVERIFY".into(),
                0xb2 => "OP_CHECKSEQUENCEVERIFY".into(),
                _ => op.to_string(),
            },
            Err(_) => {
                out.push("[error]".into());
                break;
            }
        });
    }
    out.join(" ")
}

fn script_json(s: &Script) -> Value {
    let kind = if s.is_p2pkh() {
        "pubkeyhash"
    } else if s.is_p2sh() {
        "scripthash"
    } else if s.is_p2wpkh() {
        "witness_v0_keyhash"
    } else if s.is_p2wsh() {
        "witness_v0_scripthash"
    } else if s.is_p2tr() {
        "witness_v1_taproot"
    } else if s.is_witness_program() {
        "witness_unknown"
    } else if s.is_op_return() {
        "nulldata"
    } else if s.is_p2pk() {
        "pubkey"
    } else if s.is_multisig() {
        "multisig"
    } else {
        "nonstandard"
    };
    let mut m = json!({"asm": asm(s), "hex": s.to_hex_string(), "type": kind});
    if let Ok(a) = Address::from_script(s, Network::Regtest) {
        m["address"] = json!(a.to_string());
    }
    m
}

/// bitcoind's `TxToUniv`, with the fee when the spent outputs are known.
fn tx_json(st: &State, tx: &Transaction) -> Map<String, Value> {
    let vin: Vec<Value> = tx
        .input
        .iter()
        .map(|i| {
            let mut m = if tx.is_coinbase() {
                json!({"coinbase": i.script_sig.to_hex_string()})
            } else {
                let sig = &i.script_sig;
                json!({
                    "txid": i.previous_output.txid.to_string(),
                    "vout": i.previous_output.vout,
                    "scriptSig": {"asm": asm(sig), "hex": sig.to_hex_string()},
                })
            };
            if !i.witness.is_empty() {
                let w: Vec<String> = i.witness.iter().map(|e| e.to_lower_hex_string()).collect();
                m["txinwitness"] = json!(w);
            }
            m["sequence"] = json!(i.sequence.to_consensus_u32());
            m
        })
        .collect();
    let vout: Vec<Value> = (tx.output.iter().enumerate())
        .map(|(n, o)| {
            let spk = script_json(&o.script_pubkey);
            json!({"value": btc(o.value.to_sat()), "n": n, "scriptPubKey": spk})
        })
        .collect();
    let mut m = json!({
        "txid": tx.compute_txid().to_string(),
        "hash": tx.compute_wtxid().to_string(),
        "version": tx.version.0,
        "size": tx.total_size(),
        "vsize": tx.vsize(),
        "weight": tx.weight().to_wu(),
        "locktime": tx.lock_time.to_consensus_u32(),
        "vin": vin,
        "vout": vout,
        "hex": serialize_hex(tx),
    });
    if !tx.is_coinbase() {
        let ins: Option<u64> = (tx.input.iter())
            .map(|i| st.prevout(&i.previous_output).map(|o| o.value.to_sat()))
            .sum();
        let out: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
        if let Some(fee) = ins.and_then(|i| i.checked_sub(out)) {
            m["fee"] = btc(fee);
        }
    }
    match m {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

/// Core's `GetDifficulty` for compact bits.
fn difficulty(bits: u32) -> f64 {
    let mut shift = (bits >> 24) & 0xff;
    let mut d = 0xffff as f64 / (bits & 0x00ff_ffff) as f64;
    while shift < 29 {
        d *= 256.0;
        shift += 1;
    }
    while shift > 29 {
        d /= 256.0;
        shift -= 1;
    }
    d
}

fn chainwork(height: u32) -> String {
    // Every block (genesis included) has regtest's bits 0x207fffff, worth 2 units of work.
    format!("{:064x}", 2 * (u128::from(height) + 1))
}

fn block_height(st: &State, hash: &BlockHash) -> Result<u32, RpcError> {
    st.heights
        .get(hash)
        .copied()
        .ok_or_else(|| not_found("Block not found"))
}

fn header_json(st: &State, h: u32) -> Map<String, Value> {
    let b = st.block(h);
    let hd = &b.header;
    let bits = hd.bits.to_consensus();
    let mut m = Map::new();
    m.insert("hash".into(), json!(hd.block_hash().to_string()));
    m.insert("confirmations".into(), json!(st.tip() - h + 1));
    m.insert("height".into(), json!(h));
    m.insert("version".into(), json!(hd.version.to_consensus()));
    m.insert(
        "versionHex".into(),
        json!(format!("{:08x}", hd.version.to_consensus())),
    );
    m.insert("merkleroot".into(), json!(hd.merkle_root.to_string()));
    m.insert("time".into(), json!(hd.time));
    m.insert("mediantime".into(), json!(st.mtp(h)));
    m.insert("nonce".into(), json!(hd.nonce));
    m.insert("bits".into(), json!(format!("{bits:08x}")));
    m.insert("difficulty".into(), json!(difficulty(bits)));
    m.insert("chainwork".into(), json!(chainwork(h)));
    m.insert("nTx".into(), json!(b.txdata.len()));
    if h > 0 {
        m.insert(
            "previousblockhash".into(),
            json!(hd.prev_blockhash.to_string()),
        );
    }
    if h < st.tip() {
        let next = st.block(h + 1).block_hash();
        m.insert("nextblockhash".into(), json!(next.to_string()));
    }
    m
}

fn block_json(st: &State, h: u32, verbosity: i64) -> Value {
    let b = st.block(h);
    let mut m = header_json(st, h);
    let weight = b.weight().to_wu() as usize;
    m.insert("size".into(), json!(b.total_size()));
    m.insert("strippedsize".into(), json!((weight - b.total_size()) / 3));
    m.insert("weight".into(), json!(weight));
    let txs: Vec<Value> = if verbosity >= 2 {
        b.txdata
            .iter()
            .map(|t| Value::Object(tx_json(st, t)))
            .collect()
    } else {
        b.txdata
            .iter()
            .map(|t| json!(t.compute_txid().to_string()))
            .collect()
    };
    m.insert("tx".into(), json!(txs));
    Value::Object(m)
}

fn decode_tx(hex: &str) -> Result<Transaction, RpcError> {
    let bytes = Vec::<u8>::from_hex(hex).ok();
    bytes.and_then(|b| deserialize(&b).ok()).ok_or_else(|| {
        RpcError::new(
            -22,
            "TX decode failed. Make sure the tx has at least one input.",
        )
    })
}

fn mempool_entry(st: &State, e: &super::Entry) -> Value {
    let spends =
        |t: &Transaction, parent: &Txid| t.input.iter().any(|i| &i.previous_output.txid == parent);
    let depends: Vec<String> = (st.mempool.iter())
        .filter(|p| spends(&e.tx, &p.txid))
        .map(|p| p.txid.to_string())
        .collect();
    let spentby: Vec<String> = (st.mempool.iter())
        .filter(|c| spends(&c.tx, &e.txid))
        .map(|c| c.txid.to_string())
        .collect();
    json!({
        "vsize": e.tx.vsize(), "weight": e.tx.weight().to_wu(), "time": e.time,
        "height": e.height, "wtxid": e.tx.compute_wtxid().to_string(),
        "fees": {"base": btc(e.fee), "modified": btc(e.fee)},
        "depends": depends, "spentby": spentby, "bip125-replaceable": false,
        "unbroadcast": false,
    })
}

/// Runs one method.
fn call(st: &mut State, method: &str, p: &Params) -> Result<Value, RpcError> {
    match method {
        "getblockcount" => Ok(json!(st.tip())),
        "getbestblockhash" => Ok(json!(st.block(st.tip()).block_hash().to_string())),
        "getblockhash" => {
            let h = p.int(0, "height")?;
            if h < 0 || h > st.tip() as i64 {
                return Err(RpcError::new(-8, "Block height out of range"));
            }
            Ok(json!(st.block(h as u32).block_hash().to_string()))
        }
        "getblockheader" => {
            let h = block_height(st, &p.hash(0, "hash")?)?;
            if p.bool_or(1, true)? {
                Ok(Value::Object(header_json(st, h)))
            } else {
                Ok(json!(serialize_hex(&st.block(h).header)))
            }
        }
        "getblock" => {
            let h = block_height(st, &p.hash(0, "blockhash")?)?;
            match p.verbosity(1, 1)? {
                0 => Ok(json!(serialize_hex(st.block(h)))),
                v => Ok(block_json(st, h, v)),
            }
        }
        "getrawtransaction" => {
            let txid: Txid = p.hash(0, "parameter 1")?;
            let verbose = p.verbosity(1, 0)? != 0;
            let in_block = match p.opt(2) {
                Some(v) => Some(
                    block_height(st, &parse_hash(v, "parameter 3")?)
                        .map_err(|_| not_found("Block hash not found"))?,
                ),
                None => None,
            };
            let (tx, height) = match in_block {
                Some(h) => {
                    let tx = (st.block(h).txdata.iter()).find(|t| t.compute_txid() == txid);
                    let msg = "No such transaction found in the provided block. Use gettransaction for wallet transactions.";
                    (tx.ok_or_else(|| not_found(msg))?, Some(h))
                }
                None => st.find_tx(&txid).ok_or_else(|| {
                    not_found("No such mempool or blockchain transaction. Use gettransaction for wallet transactions.")
                })?,
            };
            if !verbose {
                return Ok(json!(serialize_hex(tx)));
            }
            let mut m = tx_json(st, tx);
            if in_block.is_some() {
                m.insert("in_active_chain".into(), json!(true));
            }
            if let Some(h) = height {
                let hd = &st.block(h).header;
                m.insert("blockhash".into(), json!(hd.block_hash().to_string()));
                m.insert("confirmations".into(), json!(st.tip() - h + 1));
                m.insert("time".into(), json!(hd.time));
                m.insert("blocktime".into(), json!(hd.time));
            }
            Ok(Value::Object(m))
        }
        "gettxoutproof" => {
            let v = p.req(0, "txids")?;
            let list = v.as_array().ok_or_else(|| type_err(v, "array"))?;
            let mut txids: Vec<Txid> = Vec::new();
            for t in list {
                let txid: Txid = parse_hash(t, "txid")?;
                if txids.contains(&txid) {
                    let msg = format!("Invalid parameter, duplicated txid: {txid}");
                    return Err(RpcError::new(-8, msg));
                }
                txids.push(txid);
            }
            let h = match p.opt(1) {
                Some(v) => block_height(st, &parse_hash(v, "blockhash")?)?,
                None => (txids.iter().find_map(|t| st.txindex.get(t)))
                    .map(|&(h, _)| h)
                    .ok_or_else(|| not_found("Transaction not yet in block"))?,
            };
            let b: &Block = st.block(h);
            let set: HashSet<Txid> = txids.iter().copied().collect();
            let found = b
                .txdata
                .iter()
                .filter(|t| set.contains(&t.compute_txid()))
                .count();
            if found != set.len() || set.is_empty() {
                let msg = "Not all transactions found in specified or retrieved block";
                return Err(not_found(msg));
            }
            let mb = MerkleBlock::from_block_with_predicate(b, |t| set.contains(t));
            Ok(json!(serialize_hex(&mb)))
        }
        "verifytxoutproof" => {
            let bytes = Vec::<u8>::from_hex(p.str(0, "proof")?).ok();
            let mb: MerkleBlock = (bytes.and_then(|b| deserialize(&b).ok()))
                .ok_or_else(|| RpcError::new(-22, "proof decode failed"))?;
            let (mut matches, mut idx) = (Vec::new(), Vec::new());
            if mb.extract_matches(&mut matches, &mut idx).is_err() {
                return Ok(json!([]));
            }
            match st.heights.get(&mb.header.block_hash()) {
                Some(_) => Ok(json!(matches
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>())),
                None => Err(not_found("Block not found in chain")),
            }
        }
        "sendrawtransaction" => {
            let tx = decode_tx(p.str(0, "hexstring")?)?;
            let max_feerate = p.sat(1, DEFAULT_MAX_FEERATE)?;
            let max_burn = p.sat(2, 0)?;
            st.accept(tx, max_feerate, max_burn)
                .map(|t| json!(t.to_string()))
        }
        "testmempoolaccept" => {
            let v = p.req(0, "rawtxs")?;
            let list = v.as_array().ok_or_else(|| type_err(v, "array"))?;
            let max_feerate = p.sat(1, DEFAULT_MAX_FEERATE)?;
            let mut out = Vec::new();
            for raw in list {
                let tx = decode_tx(raw.as_str().ok_or_else(|| type_err(raw, "string"))?)?;
                let txid = tx.compute_txid();
                let mut r =
                    json!({"txid": txid.to_string(), "wtxid": tx.compute_wtxid().to_string()});
                let res = match st.in_mempool(&txid) {
                    Some(_) => Err(RpcError::new(-26, "txn-already-in-mempool")),
                    None => st.check(&tx, max_feerate),
                };
                match res {
                    Ok(fee) => {
                        r["allowed"] = json!(true);
                        r["vsize"] = json!(tx.vsize());
                        r["fees"] = json!({"base": btc(fee)});
                    }
                    Err(e) => {
                        r["allowed"] = json!(false);
                        r["reject-reason"] = json!(e.message);
                    }
                }
                out.push(r);
            }
            Ok(json!(out))
        }
        "getrawmempool" => {
            if p.bool_or(0, false)? {
                let m: Map<String, Value> = (st.mempool.iter())
                    .map(|e| (e.txid.to_string(), mempool_entry(st, e)))
                    .collect();
                Ok(Value::Object(m))
            } else {
                Ok(json!(st
                    .mempool
                    .iter()
                    .map(|e| e.txid.to_string())
                    .collect::<Vec<_>>()))
            }
        }
        "getmempoolentry" => {
            let txid: Txid = p.hash(0, "txid")?;
            let e = st
                .in_mempool(&txid)
                .ok_or_else(|| not_found("Transaction not in mempool"))?;
            Ok(mempool_entry(st, e))
        }
        "getmempoolinfo" => {
            let bytes: usize = st.mempool.iter().map(|e| e.tx.vsize()).sum();
            let fees: u64 = st.mempool.iter().map(|e| e.fee).sum();
            Ok(json!({
                "loaded": true, "size": st.mempool.len(), "bytes": bytes, "usage": bytes,
                "total_fee": btc(fees), "maxmempool": 300_000_000, "mempoolminfee": 0.00001,
                "minrelaytxfee": 0.00001, "incrementalrelayfee": 0.00001,
                "unbroadcastcount": 0, "fullrbf": true,
            }))
        }
        "gettxout" => {
            let op = OutPoint::new(
                p.hash(0, "txid")?,
                p.int(1, "n")?.clamp(0, u32::MAX as i64) as u32,
            );
            let include_mempool = p.bool_or(2, true)?;
            let best = st.block(st.tip()).block_hash().to_string();
            if include_mempool && st.mempool_spends(&op) {
                return Ok(Value::Null);
            }
            let (out, confirmations, coinbase) = match st.utxos.get(&op) {
                Some(c) => (c.out.clone(), st.tip() - c.height + 1, c.coinbase),
                None => match st.in_mempool(&op.txid) {
                    Some(e) if include_mempool => match e.tx.output.get(op.vout as usize) {
                        Some(o) => (o.clone(), 0, false),
                        None => return Ok(Value::Null),
                    },
                    _ => return Ok(Value::Null),
                },
            };
            Ok(json!({
                "bestblock": best, "confirmations": confirmations,
                "value": btc(out.value.to_sat()), "scriptPubKey": script_json(&out.script_pubkey),
                "coinbase": coinbase,
            }))
        }
        "generatetoaddress" => {
            let n = p.int(0, "nblocks")?.max(0);
            let addr = p.str(1, "address")?;
            let script = Address::from_str(addr)
                .ok()
                .and_then(|a| a.require_network(Network::Regtest).ok())
                .map(|a| a.script_pubkey())
                .ok_or_else(|| not_found("Error: Invalid address"))?;
            let hashes: Vec<String> = (0..n).map(|_| st.mine_block(&script).to_string()).collect();
            Ok(json!(hashes))
        }
        "getblockchaininfo" => {
            let tip = st.tip();
            let hd = st.block(tip).header;
            Ok(json!({
                "chain": "regtest", "blocks": tip, "headers": tip,
                "bestblockhash": hd.block_hash().to_string(),
                "difficulty": difficulty(hd.bits.to_consensus()), "time": hd.time,
                "mediantime": st.mtp(tip), "verificationprogress": 1,
                "initialblockdownload": false, "chainwork": chainwork(tip),
                "size_on_disk": 0, "pruned": false, "warnings": [],
            }))
        }
        "getnetworkinfo" => Ok(json!({
            "version": 280000, "subversion": "/Satoshi:28.0.0/", "protocolversion": 70016,
            "localservices": "0000000000000c09",
            "localservicesnames": ["NETWORK", "WITNESS", "NETWORK_LIMITED", "P2P_V2"],
            "localrelay": true, "timeoffset": 0, "networkactive": true, "connections": 0,
            "connections_in": 0, "connections_out": 0, "networks": [], "relayfee": 0.00001,
            "incrementalfee": 0.00001, "localaddresses": [], "warnings": [],
        })),
        "estimatesmartfee" => {
            p.int(0, "conf_target")?;
            Ok(json!({"errors": ["Insufficient data or no feerate found"], "blocks": 0}))
        }
        "ping" => Ok(Value::Null),
        "uptime" => Ok(json!(st.started.elapsed().as_secs())),
        _ => Err(RpcError::new(-32601, "Method not found")),
    }
}
