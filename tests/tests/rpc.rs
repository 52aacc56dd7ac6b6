//! JSON-RPC over real HTTP and WebSocket against an in-process dev node: request shapes that
//! clients send, error codes they match on, batches, state at past blocks, logs and fees.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{hex, Address, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use jsonrpsee::core::client::ClientT;
use scion_e2e::{post, quantity, rpc, rpc_raw, wait_receipt, DEV_ADDR0, DEV_ADDR1, DEV_KEY0};
use scion_node::{spawn, Node, NodeConfig};
use serde_json::{json, Value};
use std::net::SocketAddr;

const GWEI: u128 = 1_000_000_000;

struct Fixture {
    _dir: tempfile::TempDir,
    node: Node,
    addr: SocketAddr,
}

async fn start() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let node = spawn(NodeConfig::dev(dir.path().join("data")))
        .await
        .unwrap();
    let addr = node.rpc_addr;
    Fixture {
        _dir: dir,
        node,
        addr,
    }
}

fn key() -> PrivateKeySigner {
    DEV_KEY0.parse().unwrap()
}

fn signed(nonce: u64, to: TxKind, value: u64, input: Vec<u8>, gas: u64) -> String {
    let tx = TxEip1559 {
        chain_id: 7773,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: 10 * GWEI,
        max_priority_fee_per_gas: GWEI,
        to,
        value: U256::from(value),
        input: Bytes::from(input),
        ..Default::default()
    };
    let sig = key().sign_hash_sync(&tx.signature_hash()).unwrap();
    format!(
        "0x{}",
        hex::encode(TxEnvelope::from(tx.into_signed(sig)).encoded_2718())
    )
}

/// Blocking HTTP helpers run off the async runtime the node lives on.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn envelope_errors_batches_and_ids() {
    let f = start().await;
    let addr = f.addr;
    blocking(move || {
        // A batch answers every request, keeping ids and their types.
        let (_, body) = post(addr, r#"[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"jsonrpc":"2.0","id":"two","method":"eth_blockNumber"},{"jsonrpc":"2.0","id":null,"method":"anvil_nodeInfo"}]"#).unwrap();
        let v: Vec<Value> = serde_json::from_str(&body).unwrap();
        assert_eq!(v.len(), 3);
        let by_id = |id: Value| v.iter().find(|r| r["id"] == id).unwrap().clone();
        assert_eq!(by_id(json!(1))["result"], "0x1e5d");
        assert_eq!(by_id(json!("two"))["result"], "0x0");
        assert_eq!(by_id(Value::Null)["error"]["code"], -32601);
        // An empty batch is an invalid request; a body that is not JSON is a parse error.
        let (_, body) = post(addr, "[]").unwrap();
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["code"], -32600);
        let (_, body) = post(addr, r#"{"jsonrpc":"2.0","id":1,"method":"#).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["code"], -32700);
        // A notification gets no answer: an empty body, as geth sends.
        let (status, body) = post(addr, r#"{"jsonrpc":"2.0","method":"eth_chainId"}"#).unwrap();
        assert!(status < 300 && body.trim().is_empty(), "{status} {body:?}");
        // A batch of only notifications gets no answer either; mixed batches answer the calls.
        let (_, body) = post(addr, r#"[{"jsonrpc":"2.0","method":"eth_chainId"},{"jsonrpc":"2.0","id":7,"method":"eth_chainId"}]"#).unwrap();
        let v: Vec<Value> = serde_json::from_str(&body).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0]["id"], 7);
        // Bad parameters are -32602 and say what is wrong.
        let e = rpc_raw(addr, "eth_getBalance", json!(["0xnothex", "latest"]));
        assert_eq!(e["error"]["code"], -32602, "{e}");
        let e = rpc_raw(addr, "eth_call", json!([{"to": 5}]));
        assert_eq!(e["error"]["code"], -32602, "{e}");
        assert!(e["error"]["data"].as_str().unwrap().starts_with("to: invalid type"), "{e}");
        // Plain answers.
        assert_eq!(rpc(addr, "net_version", json!([])), "7773");
        assert!(rpc(addr, "web3_clientVersion", json!([])).as_str().unwrap().starts_with("scion/v"));
        let accounts = rpc(addr, "eth_accounts", json!([]));
        assert_eq!(accounts.as_array().unwrap().len(), 20);
        assert_eq!(accounts[0].as_str().unwrap().to_lowercase(), DEV_ADDR0.to_lowercase());
    })
    .await;
    f.node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn transactions_receipts_state_history_and_blocks() {
    let f = start().await;
    let addr = f.addr;
    blocking(move || {
        let to = Address::repeat_byte(0x77);
        let h = rpc(
            addr,
            "eth_sendRawTransaction",
            json!([signed(0, TxKind::Call(to), 12345, vec![], 21_000)]),
        );
        let r = wait_receipt(addr, h.as_str().unwrap());
        assert_eq!(r["status"], "0x1");
        assert_eq!(r["gasUsed"], "0x5208");
        assert_eq!(
            r["from"].as_str().unwrap().to_lowercase(),
            DEV_ADDR0.to_lowercase()
        );
        let n = quantity(&r["blockNumber"]) as u64;
        assert_eq!(n, 1);

        // State at the block before and after.
        let bal = |block: Value| quantity(&rpc(addr, "eth_getBalance", json!([to, block])));
        assert_eq!(bal(json!("0x0")), 0);
        assert_eq!(bal(json!("latest")), 12345);
        assert_eq!(bal(json!("earliest")), 0);
        let block1 = rpc(addr, "eth_getBlockByNumber", json!(["0x1", false]));
        assert_eq!(bal(json!({"blockHash": block1["hash"]})), 12345);
        assert_eq!(bal(json!({"blockNumber": "0x0"})), 0);
        let e = rpc_raw(addr, "eth_getBalance", json!([to, "0x99"]));
        assert_eq!(
            e["error"]["code"], -32000,
            "a future block is not found: {e}"
        );
        let e = rpc_raw(
            addr,
            "eth_getBalance",
            json!([to, {"blockHash": format!("0x{}", "ab".repeat(32))}]),
        );
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not found"),
            "{e}"
        );

        // The block's JSON has every standard field and the merged-mining ones.
        for field in [
            "hash",
            "parentHash",
            "sha3Uncles",
            "miner",
            "stateRoot",
            "transactionsRoot",
            "receiptsRoot",
            "logsBloom",
            "difficulty",
            "number",
            "gasLimit",
            "gasUsed",
            "timestamp",
            "extraData",
            "mixHash",
            "nonce",
            "baseFeePerGas",
            "size",
            "transactions",
            "uncles",
            "hashForMergedMining",
            "bitcoinMergedMiningHeader",
        ] {
            assert!(!block1[field].is_null(), "block lacks {field}: {block1}");
        }
        assert_eq!(block1["transactions"][0], h);
        let full = rpc(addr, "eth_getBlockByHash", json!([block1["hash"], true]));
        assert_eq!(full["transactions"][0]["hash"], h);
        assert_eq!(full["transactions"][0]["blockNumber"], "0x1");
        assert!(rpc(
            addr,
            "eth_getBlockByHash",
            json!([format!("0x{}", "cd".repeat(32)), false])
        )
        .is_null());
        assert!(rpc(addr, "eth_getBlockByNumber", json!(["0x99", false])).is_null());
        let tx = rpc(addr, "eth_getTransactionByHash", json!([h]));
        assert_eq!(tx["value"], "0x3039");
        assert_eq!(tx["blockHash"], block1["hash"]);

        // Nonces: latest, and pending counting a queued-up transaction.
        assert_eq!(
            rpc(
                addr,
                "eth_getTransactionCount",
                json!([DEV_ADDR0, "latest"])
            ),
            "0x1"
        );
        assert_eq!(
            rpc(addr, "eth_getTransactionCount", json!([DEV_ADDR0, "0x0"])),
            "0x0"
        );
        let gap = rpc(
            addr,
            "eth_sendRawTransaction",
            json!([signed(2, TxKind::Call(to), 1, vec![], 21_000)]),
        );
        assert_eq!(
            rpc(
                addr,
                "eth_getTransactionCount",
                json!([DEV_ADDR0, "pending"])
            ),
            "0x1",
            "nonce 2 waits behind the gap"
        );
        assert!(rpc(addr, "eth_getTransactionByHash", json!([gap]))["blockHash"].is_null());

        // Pool refusals come back as -32000 with geth's words; the node keeps serving.
        let e = rpc_raw(addr, "eth_sendRawTransaction", json!(["0xdeadbeef"]));
        assert_eq!(e["error"]["code"], -32000);
        assert!(
            e["error"]["message"].as_str().unwrap().starts_with("rlp:"),
            "{e}"
        );
        let e = rpc_raw(
            addr,
            "eth_sendRawTransaction",
            json!([signed(0, TxKind::Call(to), 1, vec![], 21_000)]),
        );
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("nonce too low"),
            "{e}"
        );
        let big = signed(1, TxKind::Call(to), 1, vec![1; 129 * 1024], 3_000_000);
        let e = rpc_raw(addr, "eth_sendRawTransaction", json!([big]));
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("oversized data"),
            "{e}"
        );
        assert_eq!(rpc(addr, "eth_blockNumber", json!([])), "0x1");
    })
    .await;
    f.node.stop().await;
}

/// Init code whose constructor emits LOG1(topic 0x11…11, data = 32 bytes of 0x2a) and whose
/// runtime code reverts with the 4 bytes 0xdeadbeef on any call.
fn logging_contract() -> Vec<u8> {
    let runtime = hex::decode("63deadbeef6000526004601cfd").unwrap();
    let mut init = hex::decode("602a600052").unwrap(); // MSTORE 42 at 0
    init.push(0x7f);
    init.extend([0x11u8; 32]); // PUSH32 topic
    init.extend(hex::decode("60206000a1").unwrap()); // LOG1(0, 32, topic)
                                                     // CODECOPY the runtime (placed after this prefix) and RETURN it.
    let prefix_len = init.len() + 12;
    init.extend([
        0x60,
        runtime.len() as u8,
        0x60,
        prefix_len as u8,
        0x60,
        0x00,
        0x39,
    ]);
    init.extend([0x60, runtime.len() as u8, 0x60, 0x00, 0xf3]);
    assert_eq!(init.len(), prefix_len);
    init.extend(runtime);
    init
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_reverts_estimates_logs_and_fee_history() {
    let f = start().await;
    let addr = f.addr;
    blocking(move || {
        let deploy = signed(0, TxKind::Create, 0, logging_contract(), 200_000);
        let h = rpc(addr, "eth_sendRawTransaction", json!([deploy]));
        let r = wait_receipt(addr, h.as_str().unwrap());
        assert_eq!(r["status"], "0x1");
        let contract = r["contractAddress"].as_str().unwrap().to_string();
        assert_eq!(r["logs"][0]["address"], contract.as_str());
        assert_eq!(r["logs"][0]["logIndex"], "0x0");

        // eth_call: code 3 with the revert bytes; input and data together are accepted.
        let e = rpc_raw(addr, "eth_call", json!([{"to": contract, "input": "0x01", "data": "0x01"}, "latest"]));
        assert_eq!(e["error"]["code"], 3, "{e}");
        assert_eq!(e["error"]["message"], "execution reverted");
        assert_eq!(e["error"]["data"], "0xdeadbeef");
        let e = rpc_raw(addr, "eth_call", json!([{"to": contract, "input": "0x01", "data": "0x02"}]));
        assert_eq!(e["error"]["code"], -32602, "{e}");
        let e = rpc_raw(addr, "eth_estimateGas", json!([{"from": DEV_ADDR0, "to": contract}]));
        assert_eq!(e["error"]["code"], 3, "{e}");
        let gas = rpc(addr, "eth_estimateGas", json!([{"from": DEV_ADDR0, "to": DEV_ADDR1, "value": "0x1"}]));
        assert_eq!(gas, "0x5208");
        // A call that counts to n: short ones finish within the fast path's budget, a long
        // one is run again on the blocking pool; both give the full answer.
        for n in [10u64, 60_000] {
            let code = format!("61{n:04x}60005b6001019060019003908160055760005260206000f3");
            let out = rpc(addr, "eth_call", json!([{"data": format!("0x{code}")}, "latest"]));
            assert_eq!(quantity(&out), n as u128, "{out}");
        }
        // Multicall3 is predeployed: getBlockNumber() answers.
        let out = rpc(addr, "eth_call", json!([{"to": "0xcA11bde05977b3631167028862bE2a173976CA11", "data": "0x42cbb15c"}]));
        assert_eq!(quantity(&out), 1);

        // Logs by address and topic, and bloom-filtered misses.
        let topic = format!("0x{}", "11".repeat(32));
        let logs = rpc(addr, "eth_getLogs", json!([{"fromBlock": "0x0", "toBlock": "latest", "address": contract, "topics": [topic]}]));
        assert_eq!(logs.as_array().unwrap().len(), 1);
        assert_eq!(logs[0]["transactionHash"], h);
        assert_eq!(logs[0]["data"], format!("0x{:064x}", 42));
        let none = rpc(addr, "eth_getLogs", json!([{"fromBlock": "0x0", "topics": [format!("0x{}", "22".repeat(32))]}]));
        assert_eq!(none.as_array().unwrap().len(), 0);
        let by_hash = rpc(addr, "eth_getLogs", json!([{"blockHash": r["blockHash"]}]));
        assert_eq!(by_hash.as_array().unwrap().len(), 1);

        // Fees: web3.py's fallback call shape, and gas price above the next base fee.
        let fh = rpc(addr, "eth_feeHistory", json!([10, "pending", [5.0]]));
        assert_eq!(fh["oldestBlock"], "0x0");
        assert_eq!(fh["baseFeePerGas"].as_array().unwrap().len(), 3, "2 blocks + the next");
        assert_eq!(fh["reward"].as_array().unwrap().len(), 2);
        assert_eq!(fh["reward"][1][0], "0x3b9aca00", "the deploy's 1 gwei tip");
        let next_base = quantity(fh["baseFeePerGas"].as_array().unwrap().last().unwrap());
        let price = quantity(&rpc(addr, "eth_gasPrice", json!([])));
        assert!(price > next_base, "{price} vs {next_base}");
        assert_eq!(rpc(addr, "eth_maxPriorityFeePerGas", json!([])), "0x3b9aca00");
        let e = rpc_raw(addr, "eth_feeHistory", json!(["0x2", "latest", [50.0, 10.0]]));
        assert_eq!(e["error"]["code"], -32602);

        // Code and storage reads.
        let code = rpc(addr, "eth_getCode", json!([contract, "latest"]));
        assert_eq!(code, "0x63deadbeef6000526004601cfd");
        assert_eq!(rpc(addr, "eth_getCode", json!([contract, "0x0"])), "0x");
        let slot = rpc(addr, "eth_getStorageAt", json!([contract, "0x0", "latest"]));
        assert_eq!(slot, format!("0x{}", "00".repeat(32)));
    })
    .await;
    f.node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_serves_the_same_methods_on_the_same_port() {
    let f = start().await;
    let url = format!("ws://{}", f.addr);
    let client = jsonrpsee::ws_client::WsClientBuilder::default()
        .build(&url)
        .await
        .unwrap();
    let id: String = client
        .request("eth_chainId", jsonrpsee::rpc_params![])
        .await
        .unwrap();
    assert_eq!(id, "0x1e5d");
    let bal: String = client
        .request(
            "eth_getBalance",
            jsonrpsee::rpc_params![DEV_ADDR0, "latest"],
        )
        .await
        .unwrap();
    assert_eq!(bal, "0x21e19e0c9bab2400000");
    f.node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn block_time_seals_empty_blocks_on_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::dev(dir.path().join("data"));
    config.block_time = Some(std::time::Duration::from_millis(200));
    let node = spawn(config).await.unwrap();
    let addr = node.rpc_addr;
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let n = blocking(move || quantity(&rpc(addr, "eth_blockNumber", json!([])))).await;
    assert!((2..=8).contains(&n), "about one block per 200 ms, got {n}");
    let b = blocking(move || rpc(addr, "eth_getBlockByNumber", json!(["latest", false]))).await;
    assert_eq!(b["transactions"].as_array().unwrap().len(), 0);
    node.stop().await;
}
