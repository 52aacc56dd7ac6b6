//! Peg-in rules against tests/data/bitcoin-pegin.json (rskj's own transactions and payloads).

use bitcoin::consensus::deserialize;
use bitcoin::{Network, ScriptBuf, Transaction};
use scion_bridge::pegin::{instructions, parse_payload, sender, PayloadError, Sender};
use serde_json::Value;

fn data() -> Value {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/bitcoin-pegin.json"
    );
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn tx(v: &Value) -> Transaction {
    deserialize(&hex::decode(v["raw_tx"].as_str().unwrap()).unwrap()).unwrap()
}

fn net(v: &Value) -> Network {
    match v["network"].as_str().unwrap_or("regtest") {
        "mainnet" => Network::Bitcoin,
        "testnet" => Network::Testnet,
        _ => Network::Regtest,
    }
}

fn type_name(s: &Option<Sender>) -> Value {
    match s {
        Some(Sender::P2pkh(_)) => "P2PKH".into(),
        Some(Sender::P2shP2wpkh(_)) => "P2SHP2WPKH".into(),
        Some(Sender::P2shMultisig(_)) => "P2SHMULTISIG".into(),
        Some(Sender::P2shP2wsh(_)) => "P2SHP2WSH".into(),
        None => Value::Null,
    }
}

fn check_sender(v: &Value) {
    let name = v["name"].as_str().unwrap();
    let t = tx(v);
    assert_eq!(
        t.compute_txid().to_string(),
        v["txid"].as_str().unwrap(),
        "{name}"
    );
    let s = sender(&t);
    assert_eq!(type_name(&s), v["sender_type"], "{name}: sender type");
    let rsk = s
        .as_ref()
        .and_then(Sender::rsk_address)
        .map(|a| hex::encode(a.as_slice()));
    assert_eq!(
        rsk.map(Value::from).unwrap_or(Value::Null),
        v["rsk_sender_address"],
        "{name}: Scion address"
    );
    if let Some(s) = &s {
        let addr = bitcoin::Address::from_script(&s.refund_script(), net(v)).unwrap();
        assert_eq!(
            addr.to_string(),
            v["btc_sender_address"].as_str().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn sender_detection_matches_rskj() {
    let d = data();
    let all = d["sender_detection"].as_array().unwrap();
    assert_eq!(all.len(), 7);
    all.iter().for_each(check_sender);
}

#[test]
fn real_pegins_give_rskjs_sender_and_instructions() {
    let d = data();
    let all = d["pegin_transactions"].as_array().unwrap();
    assert_eq!(all.len(), 7);
    for v in all {
        check_sender(v);
        let name = v["name"].as_str().unwrap();
        let got = instructions(&tx(v));
        let want = &v["pegin_instructions"];
        match (got, want) {
            (Ok(None), Value::Null) => {}
            (Ok(Some(i)), w) if w["valid"] == true => {
                assert_eq!(
                    hex::encode(i.destination.as_slice()),
                    w["rsk_destination"],
                    "{name}"
                );
            }
            (Err(PayloadError::InvalidLengthForVersion1), w) => {
                assert_eq!(w["reason"], "invalid_length_for_version_1", "{name}")
            }
            (got, w) => panic!("{name}: got {got:?}, want {w}"),
        }
    }
}

#[test]
fn rskt_payloads_match_rskip170() {
    let d = data();
    let all = d["rskt_payloads"].as_array().unwrap();
    assert_eq!(all.len(), 16);
    for v in all {
        let name = v["name"].as_str().unwrap();
        let p = hex::decode(v["payload"].as_str().unwrap()).unwrap();
        match parse_payload(&p) {
            Ok(i) => {
                assert_eq!(v["valid"], true, "{name} should be invalid");
                assert_eq!(
                    hex::encode(i.destination.as_slice()),
                    v["rsk_destination"],
                    "{name}"
                );
                // Vectors give the refund address for mainnet or, for synthetic ones, testnet.
                let refund = i.refund.map(|s| {
                    [Network::Bitcoin, Network::Testnet]
                        .map(|n| bitcoin::Address::from_script(&s, n).unwrap().to_string())
                });
                match (refund, &v["btc_refund_address"]) {
                    (None, Value::Null) => {}
                    (Some(both), Value::String(w)) => assert!(both.contains(w), "{name}: {both:?}"),
                    (got, w) => panic!("{name}: refund {got:?}, want {w}"),
                }
            }
            Err(e) => {
                assert_eq!(v["valid"], false, "{name} should be valid, got {e:?}");
                let reason = match e {
                    PayloadError::ShorterThan5Bytes => "shorter_than_5_bytes",
                    PayloadError::UnsupportedProtocolVersion => "unsupported_protocol_version",
                    PayloadError::InvalidLengthForVersion1 => "invalid_length_for_version_1",
                    PayloadError::InvalidRefundAddressType => "invalid_refund_address_type",
                    PayloadError::MoreThanOneRsktOutput => "more_than_one",
                };
                assert_eq!(v["reason"], reason, "{name}");
            }
        }
    }
}

#[test]
fn rskt_output_selection_matches_rskj() {
    let d = data();
    for v in d["rskt_output_selection"].as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let mut t = Transaction {
            version: bitcoin::transaction::Version::TWO,
            lock_time: bitcoin::absolute::LockTime::ZERO,
            input: vec![],
            output: vec![],
        };
        for s in v["op_return_scripts"].as_array().unwrap() {
            t.output.push(bitcoin::TxOut {
                value: bitcoin::Amount::ZERO,
                script_pubkey: ScriptBuf::from_bytes(hex::decode(s.as_str().unwrap()).unwrap()),
            });
        }
        let got = instructions(&t);
        let want = v["expected"].as_str().unwrap();
        match got {
            Ok(None) => assert_eq!(want, "no_instructions", "{name}"),
            Err(PayloadError::MoreThanOneRsktOutput) => {
                assert!(want.starts_with("invalid"), "{name}")
            }
            Ok(Some(_)) => assert!(want.starts_with("instructions"), "{name}"),
            Err(e) => panic!("{name}: {e:?}"),
        }
    }
}

#[test]
fn key_derivation_matches_rskj() {
    let d = data();
    let k = &d["key_derivation"][0];
    let key = bitcoin::PublicKey::from_slice(
        &hex::decode(k["pubkey_compressed"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        hex::encode(scion_bridge::rsk_address(&key).as_slice()),
        k["rsk_address"]
    );
}
