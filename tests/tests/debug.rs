//! debug_* over HTTP: geth traces (struct logger, callTracer, prestateTracer) of mined
//! transactions, calls and whole blocks, and the raw encodings.

use alloy_primitives::{hex, keccak256, B256};
use scion_e2e::{quantity, root, rpc, rpc_raw, run, wait_receipt, DEV_ADDR0};
use scion_node::{spawn, NodeConfig};
use serde_json::{json, Value};
use std::process::Command;

fn artifact() -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("Counter.json");
    run(Command::new("node")
        .arg(root().join("tests/clients/compile.cjs"))
        .arg(&out));
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

/// increment(uint256) calldata.
fn increment(by: u64) -> String {
    format!("0x7cf5dab0{by:064x}")
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap().trim_start_matches("0x")).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn traces_of_transactions_calls_and_blocks() {
    let art = artifact();
    let dir = tempfile::tempdir().unwrap();
    let node = spawn(NodeConfig::dev(dir.path().join("data")))
        .await
        .unwrap();
    let addr = node.rpc_addr;
    tokio::task::spawn_blocking(move || {
        let h = rpc(addr, "eth_sendTransaction", json!([{"from": DEV_ADDR0, "data": art["bytecode"], "gas": "0x100000"}]));
        let contract = wait_receipt(addr, h.as_str().unwrap())["contractAddress"].as_str().unwrap().to_string();
        // Two increments in one block: tracing the second replays the first before it.
        rpc(addr, "evm_setAutomine", json!([false]));
        let t1 = rpc(addr, "eth_sendTransaction", json!([{"from": DEV_ADDR0, "to": contract, "data": increment(5), "gas": "0x20000"}]));
        let t2 = rpc(addr, "eth_sendTransaction", json!([{"from": DEV_ADDR0, "to": contract, "data": increment(7), "gas": "0x20000"}]));
        rpc(addr, "evm_mine", json!([]));
        rpc(addr, "evm_setAutomine", json!([true]));
        let r1 = wait_receipt(addr, t1.as_str().unwrap());
        let r2 = wait_receipt(addr, t2.as_str().unwrap());
        assert_eq!(r1["blockHash"], r2["blockHash"]);

        // Default struct logger: opcodes, and the receipt's gas.
        let t = rpc(addr, "debug_traceTransaction", json!([t2, {}]));
        assert_eq!(t["failed"], false);
        assert_eq!(t["gas"].as_u64().unwrap() as u128, quantity(&r2["gasUsed"]));
        let ops: Vec<&str> = t["structLogs"].as_array().unwrap().iter().map(|l| l["op"].as_str().unwrap()).collect();
        assert!(ops.contains(&"SSTORE") && ops.contains(&"LOG2"), "{ops:?}");

        // callTracer: one CALL into the contract with the event logged.
        let c = rpc(addr, "debug_traceTransaction", json!([t2, {"tracer": "callTracer", "tracerConfig": {"withLog": true}}]));
        assert_eq!(c["type"], "CALL");
        assert_eq!(c["to"].as_str().unwrap().to_lowercase(), contract.to_lowercase());
        assert_eq!(c["input"], increment(7));
        assert_eq!(c["logs"].as_array().unwrap().len(), 1);

        // prestateTracer: slot 0 held 5 (the first increment) before the second.
        let p = rpc(addr, "debug_traceTransaction", json!([t2, {"tracer": "prestateTracer"}]));
        let key = contract.to_lowercase();
        let slot0 = &p[&key]["storage"][format!("0x{}", "00".repeat(32))];
        assert_eq!(slot0, &json!(format!("0x{:064x}", 5)), "{p}");
        let d = rpc(addr, "debug_traceTransaction", json!([t2, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": true}}]));
        assert_eq!(d["post"][&key]["storage"][format!("0x{}", "00".repeat(32))], json!(format!("0x{:064x}", 12)));

        // traceCall: the custom error comes back as the call's output.
        let call = rpc(addr, "debug_traceCall", json!([{"from": DEV_ADDR0, "to": contract, "data": increment(1000)}, "latest", {"tracer": "callTracer"}]));
        assert!(call["error"].as_str().unwrap().contains("revert"), "{call}");
        assert!(call["output"].as_str().unwrap().starts_with("0x6ad9cdfc"), "TooBig selector: {call}");

        // A whole block, one result per transaction.
        let n = r2["blockNumber"].clone();
        let b = rpc(addr, "debug_traceBlockByNumber", json!([n, {"tracer": "callTracer"}]));
        assert_eq!(b.as_array().unwrap().len(), 2);
        assert_eq!(b[1]["txHash"], t2);
        assert_eq!(b[1]["result"], c.as_object().map(|o| { let mut o = o.clone(); o.remove("logs"); Value::Object(o) }).unwrap());
        let by_hash = rpc(addr, "debug_traceBlockByHash", json!([r2["blockHash"], {"tracer": "callTracer"}]));
        assert_eq!(by_hash, b);

        let e = rpc_raw(addr, "debug_traceTransaction", json!([t2, {"tracer": "function() { return {}; }"}]));
        assert_eq!(e["error"]["code"], -32602, "{e}");
        let e = rpc_raw(addr, "debug_traceTransaction", json!([B256::repeat_byte(1), {}]));
        assert!(e["error"]["message"].as_str().unwrap().contains("not found"));

        // Raw encodings.
        let raw = bytes(&rpc(addr, "debug_getRawTransaction", json!([t2])));
        assert_eq!(format!("{:#x}", keccak256(&raw)), t2.as_str().unwrap());
        let raw_header = bytes(&rpc(addr, "debug_getRawHeader", json!([n])));
        let header = scion_types::Header::decode_rlp(&raw_header).unwrap();
        assert_eq!(format!("{:#x}", header.hash()), r2["blockHash"].as_str().unwrap());
        let raw_block = bytes(&rpc(addr, "debug_getRawBlock", json!([n])));
        let block = scion_types::Block::decode_rlp(&raw_block).unwrap();
        assert_eq!(block.transactions.len(), 2);
        assert_eq!(rpc(addr, "debug_getRawReceipts", json!([n])).as_array().unwrap().len(), 2);
    })
    .await
    .unwrap();
    node.stop().await;
}
