//! Tests of the bitcoind simulator, over real HTTP where the RPC is concerned.

use super::*;
use crate::btc::op_return;
use crate::post_with;
use bitcoin::consensus::encode::{deserialize, serialize_hex};
use bitcoin::hex::FromHex;
use bitcoin::opcodes::all::{OP_CHECKMULTISIG, OP_PUSHNUM_2, OP_PUSHNUM_3};
use bitcoin::script::PushBytes;
use bitcoin::{Address, MerkleBlock};
use serde_json::{json, Value};
use std::io::BufRead;

/// POSTs `body` with `headers`; the status, response head and parsed body (null if empty).
fn raw(b: &Bitcoind, body: &str, headers: &str) -> (u16, String, Value) {
    let (status, head, body) = post_with(b.addr(), body, headers).expect("HTTP request");
    let v = match body.trim() {
        "" => Value::Null,
        s => serde_json::from_str(s).unwrap_or_else(|e| panic!("bad JSON {e}: {s}")),
    };
    (status, head, v)
}

fn call(b: &Bitcoind, method: &str, params: Value) -> Value {
    let req = json!({"jsonrpc": "1.0", "id": "t", "method": method, "params": params});
    raw(b, &req.to_string(), &b.auth_header()).2
}

fn ok(b: &Bitcoind, method: &str, params: Value) -> Value {
    let v = call(b, method, params);
    assert!(v["error"].is_null(), "{method} failed: {v}");
    v["result"].clone()
}

fn err(b: &Bitcoind, method: &str, params: Value) -> (i64, String) {
    let v = call(b, method, params);
    assert!(v["result"].is_null(), "{method} should fail: {v}");
    let e = &v["error"];
    (
        e["code"].as_i64().unwrap(),
        e["message"].as_str().unwrap().to_string(),
    )
}

fn pay(key: &BtcKey, sat: u64) -> Vec<TxOut> {
    vec![TxOut {
        value: Amount::from_sat(sat),
        script_pubkey: key.p2pkh(),
    }]
}

/// A P2PKH spend by `key` with explicit lock time and sequence.
fn spend_with(key: &BtcKey, prev: OutPoint, out: Vec<TxOut>, lock: u32, seq: u32) -> Transaction {
    let mut tx = Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::from_consensus(lock),
        input: vec![TxIn {
            previous_output: prev,
            script_sig: ScriptBuf::new(),
            sequence: Sequence(seq),
            witness: Witness::new(),
        }],
        output: out,
    };
    sign_p2pkh_inputs(key, &mut tx);
    tx
}

#[test]
fn rpc_chain_queries_over_http() {
    let b = Bitcoind::start();
    assert_eq!(ok(&b, "getblockcount", json!([])), 0);
    let genesis = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";
    assert_eq!(ok(&b, "getblockhash", json!([0])), genesis);
    let hashes = b.mine(3);
    assert_eq!(b.height(), 3);
    assert_eq!(ok(&b, "getblockcount", json!([])), 3);
    assert_eq!(
        ok(&b, "getbestblockhash", json!(null)),
        hashes[2].to_string()
    );
    for (i, h) in hashes.iter().enumerate() {
        assert_eq!(ok(&b, "getblockhash", json!([i + 1])), h.to_string());
    }
    assert_eq!(
        err(&b, "getblockhash", json!([4])),
        (-8, "Block height out of range".into())
    );
    assert_eq!(err(&b, "getblockhash", json!(["1"])).0, -3);
    assert_eq!(err(&b, "getblockhash", json!([])).0, -1);

    let hd = ok(&b, "getblockheader", json!([hashes[1].to_string()]));
    assert_eq!(hd["hash"], hashes[1].to_string());
    assert_eq!(hd["height"], 2);
    assert_eq!(hd["confirmations"], 2);
    assert_eq!(hd["previousblockhash"], hashes[0].to_string());
    assert_eq!(hd["nextblockhash"], hashes[2].to_string());
    assert_eq!(hd["bits"], "207fffff");
    assert_eq!(hd["versionHex"], "20000000");
    assert_eq!(hd["chainwork"], format!("{:064x}", 6));
    assert_eq!(hd["nTx"], 1);
    let difficulty = hd["difficulty"].as_f64().unwrap();
    assert!(
        (difficulty - 4.656542373906925e-10).abs() < 1e-24,
        "{difficulty}"
    );
    let tip = ok(&b, "getblockheader", json!([hashes[2].to_string(), true]));
    assert!(tip.get("nextblockhash").is_none(), "{tip}");
    assert!(tip["time"].as_u64() > hd["time"].as_u64());
    let g = ok(&b, "getblockheader", json!([genesis]));
    assert!(
        g.get("previousblockhash").is_none() && g["confirmations"] == 4,
        "{g}"
    );
    let raw_hd = ok(&b, "getblockheader", json!([hashes[1].to_string(), false]));
    let header: block::Header =
        deserialize(&Vec::from_hex(raw_hd.as_str().unwrap()).unwrap()).expect("80-byte header");
    assert_eq!(header.block_hash(), hashes[1]);
    assert_eq!(header.merkle_root.to_string(), hd["merkleroot"]);
    assert_eq!(
        err(&b, "getblockheader", json!([hashes[1].to_string(), 1])).0,
        -3
    );

    let blk = ok(&b, "getblock", json!([hashes[2].to_string()]));
    let coinbase = b.block(3).unwrap().txdata[0].compute_txid();
    assert_eq!(blk["tx"], json!([coinbase.to_string()]));
    assert_eq!(blk["height"], 3);
    assert_eq!(blk["previousblockhash"], hashes[1].to_string());
    let raw_blk = ok(&b, "getblock", json!([hashes[2].to_string(), 0]));
    let block: Block = deserialize(&Vec::from_hex(raw_blk.as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(block.block_hash(), hashes[2]);
    assert!(block.check_merkle_root() && block.check_witness_commitment());
    assert!(block.header.validate_pow(block.header.target()).is_ok());
    // BIP34 as bitcoind writes it: OP_3 (heights up to 16 are pushed as OP_N), then OP_0.
    assert_eq!(
        block.txdata[0].input[0].script_sig.as_bytes(),
        &[0x53, 0x00]
    );
    let full = ok(&b, "getblock", json!([hashes[2].to_string(), 2]));
    assert_eq!(full["tx"][0]["txid"], coinbase.to_string());
    assert_eq!(full["tx"][0]["hex"], serialize_hex(&block.txdata[0]));
    let zero = "00".repeat(32);
    assert_eq!(
        err(&b, "getblock", json!([zero])),
        (-5, "Block not found".into())
    );
    assert_eq!(
        err(&b, "getblockheader", json!([zero])),
        (-5, "Block not found".into())
    );
    assert_eq!(err(&b, "getblock", json!(["abc"])).0, -8);

    let info = ok(&b, "getblockchaininfo", json!([]));
    assert_eq!(
        (info["chain"].as_str(), info["blocks"].as_u64()),
        (Some("regtest"), Some(3))
    );
    assert_eq!(info["bestblockhash"], hashes[2].to_string());
    assert_eq!(ok(&b, "getnetworkinfo", json!([]))["version"], 280000);

    let key = BtcKey::new([3; 32]);
    let addr = Address::p2pkh(key.public.pubkey_hash(), Network::Regtest).to_string();
    let mined = ok(&b, "generatetoaddress", json!([2, addr]));
    assert_eq!(mined.as_array().unwrap().len(), 2);
    assert_eq!(b.received(&key.p2pkh()), 2 * 5_000_000_000);
    let bad = err(
        &b,
        "generatetoaddress",
        json!([1, "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"]),
    );
    assert_eq!(bad, (-5, "Error: Invalid address".into()));
    assert_eq!(b.height(), 5);
}

#[test]
fn rpc_envelope_auth_batches_and_errors() {
    let b = Bitcoind::start();
    assert_eq!(b.rpc_user_pass(), ("scion", "scion"));
    let body = r#"{"jsonrpc":"1.0","id":1,"method":"getblockcount","params":[]}"#;
    let (status, head, _) = raw(&b, body, "");
    assert_eq!(status, 401);
    assert!(
        head.contains("WWW-Authenticate: Basic realm=\"jsonrpc\""),
        "{head}"
    );
    let wrong = "Authorization: Basic c2Npb246d3Jvbmc=\r\n";
    assert_eq!(raw(&b, body, wrong).0, 401);
    let (status, _, v) = raw(&b, body, &b.auth_header());
    assert_eq!(status, 200);
    assert_eq!(v, json!({"result": 0, "error": null, "id": 1}));

    let legacy = r#"{"id":"x","method":"nosuchmethod","params":[]}"#;
    let (status, _, v) = raw(&b, legacy, &b.auth_header());
    assert_eq!(status, 404);
    let e = json!({"code": -32601, "message": "Method not found"});
    assert_eq!(v, json!({"result": null, "error": e, "id": "x"}));
    let v2 = r#"{"jsonrpc":"2.0","id":7,"method":"nosuchmethod"}"#;
    let (status, _, v) = raw(&b, v2, &b.auth_header());
    assert_eq!(status, 200);
    assert_eq!(v, json!({"jsonrpc": "2.0", "error": e, "id": 7}));
    let ok2 = r#"{"jsonrpc":"2.0","id":8,"method":"getblockcount"}"#;
    assert_eq!(
        raw(&b, ok2, &b.auth_header()).2,
        json!({"jsonrpc": "2.0", "result": 0, "id": 8})
    );
    let note = r#"{"jsonrpc":"2.0","method":"getblockcount"}"#;
    assert_eq!(raw(&b, note, &b.auth_header()).0, 204);

    let (status, _, v) = raw(&b, "{not json", &b.auth_header());
    assert_eq!((status, v["error"]["code"].as_i64()), (500, Some(-32700)));
    let bad_type = r#"{"id":1,"method":"getblockhash","params":["zero"]}"#;
    let (status, _, v) = raw(&b, bad_type, &b.auth_header());
    assert_eq!((status, v["error"]["code"].as_i64()), (500, Some(-3)));
    let (status, _, v) = raw(&b, r#"{"id":1,"method":5}"#, &b.auth_header());
    assert_eq!((status, v["error"]["code"].as_i64()), (400, Some(-32600)));

    let batch = json!([
        {"jsonrpc": "1.0", "id": 1, "method": "getblockcount", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "getblockhash", "params": [0]},
        {"id": 3, "method": "nosuchmethod", "params": []},
        {"jsonrpc": "2.0", "method": "getblockcount"},
        "junk",
    ]);
    let (status, _, v) = raw(&b, &batch.to_string(), &b.auth_header());
    assert_eq!(status, 200);
    let replies = v.as_array().expect("batch reply");
    assert_eq!(replies.len(), 4, "{v}");
    assert_eq!(
        (&replies[0]["id"], &replies[0]["result"]),
        (&json!(1), &json!(0))
    );
    assert_eq!(replies[1]["jsonrpc"], "2.0");
    assert_eq!(replies[1]["result"].as_str().unwrap().len(), 64);
    assert_eq!(replies[2]["error"]["code"], -32601);
    assert_eq!(replies[3]["error"]["code"], -32600);
}

/// Reads one HTTP response (Content-Length framed): status and body.
fn read_response(r: &mut std::io::BufReader<TcpStream>) -> (u16, String) {
    let (mut status, mut len, mut line) = (0, 0, String::new());
    loop {
        line.clear();
        assert!(
            r.read_line(&mut line).unwrap() > 0,
            "connection closed early"
        );
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some(rest) = l.strip_prefix("HTTP/1.1 ") {
            status = rest[..3].parse().unwrap();
        } else if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    (status, String::from_utf8(body).unwrap())
}

#[test]
fn keep_alive_close_and_down() {
    let b = Bitcoind::start();
    let stream = TcpStream::connect(b.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut w = stream.try_clone().unwrap();
    let mut r = std::io::BufReader::new(stream);
    let req = |id: u32, extra: &str| {
        let body = format!(r#"{{"id":{id},"method":"getblockcount","params":[]}}"#);
        format!(
            "POST / HTTP/1.1\r\nHost: x\r\n{}{extra}Content-Length: {}\r\n\r\n{body}",
            b.auth_header(),
            body.len()
        )
    };
    // Two pipelined requests and a third, all on one connection.
    w.write_all(format!("{}{}", req(1, ""), req(2, "")).as_bytes())
        .unwrap();
    let (s1, r1) = read_response(&mut r);
    let (s2, r2) = read_response(&mut r);
    assert_eq!((s1, s2), (200, 200));
    assert!(
        r1.contains(r#""id":1"#) && r2.contains(r#""id":2"#),
        "{r1} {r2}"
    );
    w.write_all(req(3, "Connection: close\r\n").as_bytes())
        .unwrap();
    assert_eq!(read_response(&mut r).0, 200);
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).unwrap();
    assert!(
        rest.is_empty(),
        "the server must close after Connection: close"
    );

    b.set_down(true);
    let body = r#"{"id":1,"method":"getblockcount","params":[]}"#;
    let (status, head, _) = raw(&b, body, &b.auth_header());
    assert_eq!(status, 503);
    assert!(head.contains("Connection: close"), "{head}");
    b.set_down(false);
    assert_eq!(raw(&b, body, &b.auth_header()).0, 200);
    let get = "GET / HTTP/1.1\r\nConnection: close\r\n";
    let mut s = TcpStream::connect(b.addr()).unwrap();
    write!(s, "{get}{}\r\n", b.auth_header()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 405"), "{resp}");
    b.stop();
}

#[test]
fn p2pkh_spend_is_mined_with_txoutproof() {
    let b = Bitcoind::start();
    let (k, dest) = (BtcKey::new([7; 32]), BtcKey::new([8; 32]));
    let op = b.fund(&k.p2pkh(), 100_000);
    let (ftx, fh) = b.find_tx(&op.txid).expect("funding tx indexed");
    assert_eq!((fh, ftx.is_coinbase()), (Some(b.height()), false));
    assert_eq!(ftx.output[0].script_pubkey, k.p2pkh());
    assert_eq!(b.received(&k.p2pkh()), 100_000);

    let mut outs = pay(&dest, 90_000);
    outs.push(op_return(b"scion"));
    let tx = k.spend(op, outs);
    let txid = tx.compute_txid();
    let sent = ok(&b, "sendrawtransaction", json!([serialize_hex(&tx)]));
    assert_eq!(sent, txid.to_string());
    assert_eq!(
        ok(&b, "sendrawtransaction", json!([serialize_hex(&tx)])),
        sent
    );
    assert_eq!(
        ok(&b, "getrawmempool", json!([])),
        json!([txid.to_string()])
    );
    let v = ok(&b, "getrawtransaction", json!([txid.to_string(), true]));
    assert!(
        v.get("blockhash").is_none() && v.get("confirmations").is_none(),
        "{v}"
    );
    assert_eq!(
        ok(&b, "getrawtransaction", json!([txid.to_string()])),
        serialize_hex(&tx)
    );
    let not_yet = err(&b, "gettxoutproof", json!([[txid.to_string()]]));
    assert_eq!(not_yet, (-5, "Transaction not yet in block".into()));
    // A chained spend of the unconfirmed output.
    let tx2 = dest.spend(OutPoint::new(txid, 0), pay(&k, 80_000));
    let txid2 = b.send(&tx2).expect("chained spend");
    assert_eq!(b.mempool(), vec![txid, txid2]);

    let hash = b.mine(1)[0];
    assert!(b.mempool().is_empty());
    let blk = b.block(b.height()).unwrap();
    let ids: Vec<Txid> = blk.txdata.iter().map(|t| t.compute_txid()).collect();
    assert_eq!(&ids[1..], &[txid, txid2]);
    assert_eq!(
        blk.txdata[0].output[0].value.to_sat(),
        5_000_000_000 + 20_000
    );
    b.mine(2);

    let v = ok(&b, "getrawtransaction", json!([txid.to_string(), 1]));
    assert_eq!(
        (v["confirmations"].as_u64(), &v["blockhash"]),
        (Some(3), &json!(hash.to_string()))
    );
    assert_eq!(v["fee"], 0.0001);
    assert_eq!(v["vout"][0]["value"], 0.0009);
    let dest_addr = Address::p2pkh(dest.public.pubkey_hash(), Network::Regtest).to_string();
    assert_eq!(v["vout"][0]["scriptPubKey"]["address"], dest_addr);
    assert_eq!(v["vout"][0]["scriptPubKey"]["type"], "pubkeyhash");
    assert_eq!(v["vout"][1]["scriptPubKey"]["type"], "nulldata");
    assert_eq!(v["vin"][0]["txid"], op.txid.to_string());
    let in_block = ok(
        &b,
        "getrawtransaction",
        json!([txid.to_string(), true, hash.to_string()]),
    );
    assert_eq!(in_block["in_active_chain"], true);
    let genesis = b.block(0).unwrap().block_hash().to_string();
    let (code, msg) = err(
        &b,
        "getrawtransaction",
        json!([txid.to_string(), true, genesis]),
    );
    assert!(code == -5 && msg.starts_with("No such transaction found in the provided block"));
    let unknown = err(&b, "getrawtransaction", json!(["11".repeat(32)]));
    assert_eq!(unknown.0, -5);
    assert!(unknown
        .1
        .starts_with("No such mempool or blockchain transaction"));

    let proof = ok(&b, "gettxoutproof", json!([[txid.to_string()]]));
    let mb: MerkleBlock = deserialize(&Vec::from_hex(proof.as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(mb.header.block_hash(), hash);
    let (mut matches, mut idx) = (Vec::new(), Vec::new());
    let root = (mb.txn.extract_matches(&mut matches, &mut idx)).expect("valid PMT");
    assert_eq!(root, mb.header.merkle_root);
    let hd = ok(&b, "getblockheader", json!([hash.to_string()]));
    assert_eq!(hd["merkleroot"], root.to_string());
    assert_eq!((matches, idx), (vec![txid], vec![1]));
    let both = ok(
        &b,
        "gettxoutproof",
        json!([[txid.to_string(), txid2.to_string()], hash.to_string()]),
    );
    let mb: MerkleBlock = deserialize(&Vec::from_hex(both.as_str().unwrap()).unwrap()).unwrap();
    let (mut matches, mut idx) = (Vec::new(), Vec::new());
    mb.extract_matches(&mut matches, &mut idx).unwrap();
    assert_eq!(matches, vec![txid, txid2]);
    assert_eq!(
        ok(&b, "verifytxoutproof", json!([proof])),
        json!([txid.to_string()])
    );
    let wrong_block = b.block(1).unwrap().block_hash().to_string();
    assert_eq!(
        err(
            &b,
            "gettxoutproof",
            json!([[txid.to_string()], wrong_block])
        )
        .0,
        -5
    );

    assert_eq!(b.find_tx(&txid), Some((tx, Some(b.height() - 2))));
    assert_eq!(b.received(&k.p2pkh()), 80_000);
    assert_eq!(b.received(&dest.p2pkh()), 0);
    assert_eq!(
        ok(&b, "gettxout", json!([txid.to_string(), 0])),
        Value::Null
    );
    let out = ok(&b, "gettxout", json!([txid2.to_string(), 0]));
    assert_eq!(
        (out["value"].as_f64(), out["confirmations"].as_u64()),
        (Some(0.0008), Some(3))
    );
}

#[test]
fn rejections_match_bitcoind() {
    let b = Bitcoind::start();
    let k = BtcKey::new([7; 32]);
    let op = b.fund(&k.p2pkh(), 100_000);
    let send = |tx: &Transaction| err(&b, "sendrawtransaction", json!([serialize_hex(tx)]));

    let mut bad = k.spend(op, pay(&k, 90_000));
    let mut sig = bad.input[0].script_sig.to_bytes();
    sig[10] ^= 1; // inside the signature's r value: still DER, no longer valid
    bad.input[0].script_sig = ScriptBuf::from_bytes(sig);
    let (code, msg) = send(&bad);
    assert_eq!(code, -26);
    assert!(
        msg.starts_with("mandatory-script-verify-flag-failed ("),
        "{msg}"
    );
    let other = BtcKey::new([9; 32]).spend(op, pay(&k, 90_000));
    assert!(send(&other)
        .1
        .starts_with("mandatory-script-verify-flag-failed"));

    let (code, msg) = send(&k.spend(op, pay(&k, 100_001)));
    assert_eq!(code, -26);
    assert!(msg.starts_with("bad-txns-in-belowout"), "{msg}");
    let (code, msg) = send(&k.spend(op, pay(&k, 100_000)));
    assert_eq!(code, -26);
    assert!(msg.starts_with("min relay fee not met"), "{msg}");

    let good = k.spend(op, pay(&k, 90_000));
    let hex = serialize_hex(&good);
    for garbage in ["zz", "deadbeef", "", &hex[..hex.len() - 2]] {
        let (code, msg) = err(&b, "sendrawtransaction", json!([garbage]));
        assert_eq!(code, -22, "{garbage}");
        assert!(msg.starts_with("TX decode failed"), "{msg}");
    }
    let low_max = err(&b, "sendrawtransaction", json!([hex, 0.00001]));
    assert_eq!(low_max.0, -25);
    assert!(
        low_max.1.starts_with("Fee exceeds maximum"),
        "{}",
        low_max.1
    );

    let h = b.height();
    let locked = spend_with(&k, op, pay(&k, 90_000), h + 10, 0xffff_fffe);
    assert_eq!(send(&locked), (-26, "non-final".into()));
    let relative = spend_with(&k, op, pay(&k, 90_000), 0, 5);
    assert_eq!(send(&relative), (-26, "non-BIP68-final".into()));
    assert_eq!(b.send(&relative), Err("non-BIP68-final".into()));
    assert!(b.mempool().is_empty());
    b.mine(4);
    let txid = b
        .send(&relative)
        .expect("relative lock satisfied after 5 blocks");
    assert_eq!(b.mempool(), vec![txid]);

    let (code, msg) = send(&good);
    assert_eq!(
        (code, msg.as_str()),
        (-25, "bad-txns-inputs-missingorspent")
    );
    assert_eq!(b.send(&relative), Ok(txid));
    b.mine(1);
    assert_eq!(
        send(&relative),
        (-27, "Transaction already in block chain".into())
    );
    let nowhere = k.spend(OutPoint::new(Txid::from_byte_array([1; 32]), 0), pay(&k, 1));
    assert_eq!(
        send(&nowhere),
        (-25, "bad-txns-inputs-missingorspent".into())
    );
    let accept = ok(&b, "testmempoolaccept", json!([[serialize_hex(&good)]]));
    assert_eq!(accept[0]["allowed"], false);
    assert_eq!(accept[0]["reject-reason"], "bad-txns-inputs-missingorspent");
}

#[test]
fn p2sh_p2wsh_2_of_3_multisig() {
    let b = Bitcoind::start();
    let mut keys: Vec<BtcKey> = (1..=3u8).map(|i| BtcKey::new([i; 32])).collect();
    keys.sort_by_key(|k| k.public.to_bytes());
    let script = Builder::new()
        .push_opcode(OP_PUSHNUM_2)
        .push_key(&keys[0].public)
        .push_key(&keys[1].public)
        .push_key(&keys[2].public)
        .push_opcode(OP_PUSHNUM_3)
        .push_opcode(OP_CHECKMULTISIG)
        .into_script();
    let wsh = ScriptBuf::new_p2wsh(&script.wscript_hash());
    let spk = ScriptBuf::new_p2sh(&wsh.script_hash());
    let amount = 1_000_000;
    let op = b.fund(&spk, amount);
    assert_eq!(b.received(&spk), amount);
    let funding = ok(&b, "getrawtransaction", json!([op.txid.to_string(), true]));
    assert_eq!(funding["vout"][0]["scriptPubKey"]["type"], "scripthash");
    assert!(funding["vout"][0]["scriptPubKey"]["address"]
        .as_str()
        .unwrap()
        .starts_with('2'));

    let dest = BtcKey::new([9; 32]);
    let push: &PushBytes = wsh.as_bytes().try_into().unwrap();
    let unsigned = Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: op,
            script_sig: Builder::new().push_slice(push).into_script(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: pay(&dest, amount - 10_000),
    };
    let sighash = SighashCache::new(&unsigned)
        .p2wsh_signature_hash(0, &script, Amount::from_sat(amount), EcdsaSighashType::All)
        .unwrap();
    let secp = Secp256k1::new();
    let sign = |k: &BtcKey| {
        let msg = Message::from_digest(sighash.to_byte_array());
        let signature = secp.sign_ecdsa(&msg, &k.secret);
        bitcoin::ecdsa::Signature {
            signature,
            sighash_type: EcdsaSighashType::All,
        }
        .to_vec()
    };
    let with = |a: Vec<u8>, c: Vec<u8>| {
        let mut t = unsigned.clone();
        t.input[0].witness = Witness::from_slice(&[vec![], a, c, script.to_bytes()]);
        t
    };
    let wrong_key = with(sign(&keys[0]), sign(&BtcKey::new([4; 32])));
    let e = b.send(&wrong_key).unwrap_err();
    assert!(e.starts_with("mandatory-script-verify-flag-failed"), "{e}");
    let wrong_order = with(sign(&keys[2]), sign(&keys[0]));
    let (code, msg) = err(
        &b,
        "sendrawtransaction",
        json!([serialize_hex(&wrong_order)]),
    );
    assert_eq!(code, -26);
    assert!(
        msg.starts_with("mandatory-script-verify-flag-failed"),
        "{msg}"
    );
    let one_sig = with(vec![], sign(&keys[1]));
    assert!(b.send(&one_sig).is_err());
    assert!(b.mempool().is_empty());

    let good = with(sign(&keys[0]), sign(&keys[2]));
    let txid = b.send(&good).expect("two valid signatures in key order");
    assert_eq!(b.mempool(), vec![txid]);
    b.mine(1);
    assert_eq!(b.received(&spk), 0);
    assert_eq!(b.received(&dest.p2pkh()), amount - 10_000);
    let blk = b.block(b.height()).unwrap();
    assert_eq!(blk.txdata[1].compute_txid(), txid);
    assert!(blk.check_witness_commitment() && blk.check_merkle_root());
    let v = ok(&b, "getrawtransaction", json!([txid.to_string(), true]));
    assert_eq!(v["vin"][0]["txinwitness"].as_array().unwrap().len(), 4);
    assert_ne!(v["hash"], v["txid"]);
    assert_eq!(v["hex"], serialize_hex(&good));
}
