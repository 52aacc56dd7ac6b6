//! kill -9 while transactions stream in: after a restart on the same data directory, every
//! block a client saw is still there with the same hash and receipts, and the state matches
//! exactly what those blocks did. Three rounds on one data directory.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{hex, Address, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use scion_e2e::{post, quantity, rpc, NodeProcess, DEV_ADDR0, DEV_KEY0};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn transfer(k: &PrivateKeySigner, nonce: u64, to: Address) -> String {
    let tx = TxEip1559 {
        chain_id: 7773,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 100_000_000_000,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(to),
        value: U256::from(1),
        ..Default::default()
    };
    let sig = k.sign_hash_sync(&tx.signature_hash()).unwrap();
    let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
    json!({"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":[format!("0x{}", hex::encode(raw))]}).to_string()
}

#[test]
fn kill_9_under_load_keeps_every_acknowledged_block() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("data");
    let key: PrivateKeySigner = DEV_KEY0.parse().unwrap();
    let recipient = Address::repeat_byte(0x99);
    // Block number → (hash, transaction hashes) of every block a client has seen.
    let mut seen: Vec<(u64, Value, Vec<Value>)> = Vec::new();

    for round in 0..3u64 {
        let node = NodeProcess::start(&datadir, &[]);
        let addr = node.addr;
        for (n, hash, txs) in &seen {
            let b = rpc(
                addr,
                "eth_getBlockByNumber",
                json!([format!("{n:#x}"), false]),
            );
            assert_eq!(
                &b["hash"], hash,
                "round {round}: block {n} changed after kill -9"
            );
            for tx in txs {
                let r = rpc(addr, "eth_getTransactionReceipt", json!([tx]));
                assert_eq!(r["blockHash"], *hash, "round {round}: receipt of {tx} lost");
            }
        }
        // Every mined transfer moved exactly 1 wei: state and nonce agree after the crash.
        let nonce = quantity(&rpc(
            addr,
            "eth_getTransactionCount",
            json!([DEV_ADDR0, "latest"]),
        )) as u64;
        let balance = quantity(&rpc(addr, "eth_getBalance", json!([recipient, "latest"])));
        assert_eq!(balance, u128::from(nonce), "round {round}");

        // Stream transfers from another thread while this one watches blocks appear.
        let stop = Arc::new(AtomicBool::new(false));
        let sender = {
            let (stop, key) = (stop.clone(), key.clone());
            std::thread::spawn(move || {
                for i in 0..2_000 {
                    if stop.load(Ordering::Relaxed)
                        || post(addr, &transfer(&key, nonce + i, recipient)).is_err()
                    {
                        break;
                    }
                }
            })
        };
        let target = 5 + round * 3;
        let deadline = Instant::now() + Duration::from_secs(60);
        let start_head = seen.last().map(|s| s.0).unwrap_or(0);
        let mut next = start_head + 1;
        while next <= start_head + target && Instant::now() < deadline {
            let b = rpc(
                addr,
                "eth_getBlockByNumber",
                json!([format!("{next:#x}"), false]),
            );
            if b.is_null() {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            let txs = b["transactions"].as_array().unwrap().clone();
            seen.push((next, b["hash"].clone(), txs));
            next += 1;
        }
        assert!(
            next > start_head + target,
            "round {round}: blocks were not produced"
        );
        // Kill mid-stream: the miner is sealing and committing while this happens.
        node.kill9();
        stop.store(true, Ordering::Relaxed);
        sender.join().unwrap();
    }

    // A final restart still produces blocks on top of the recovered state.
    let node = NodeProcess::start(&datadir, &[]);
    let nonce = quantity(&rpc(
        node.addr,
        "eth_getTransactionCount",
        json!([DEV_ADDR0, "latest"]),
    )) as u64;
    let (_, body) = post(node.addr, &transfer(&key, nonce, recipient)).unwrap();
    let hash = serde_json::from_str::<Value>(&body).unwrap()["result"].clone();
    let receipt = scion_e2e::wait_receipt(node.addr, hash.as_str().unwrap());
    assert_eq!(receipt["status"], "0x1");
    let balance = quantity(&rpc(
        node.addr,
        "eth_getBalance",
        json!([recipient, "latest"]),
    ));
    assert_eq!(balance, u128::from(nonce + 1));
}
