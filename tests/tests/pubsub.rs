//! Filters and WebSocket subscriptions (logs marked `removed` after a reorg), and the limits
//! that keep one client from starving the others.

use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use scion_e2e::{post, post_with, quantity, rpc, rpc_raw, wait_receipt, DEV_ADDR0, DEV_ADDR1};
use scion_node::{spawn, Node, NodeConfig};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Init code emitting LOG1(topic 0x11…11, 32 bytes of 0x2a) in its constructor.
fn logging_init() -> String {
    format!("0x602a6000527f{}60206000a100", "11".repeat(32))
}

async fn node(config: impl FnOnce(&mut NodeConfig)) -> (tempfile::TempDir, Node) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = NodeConfig::dev(dir.path().join("data"));
    config(&mut c);
    let n = spawn(c).await.unwrap();
    (dir, n)
}

async fn ws(n: &Node) -> WsClient {
    WsClientBuilder::default()
        .build(format!("ws://{}", n.rpc_addr))
        .await
        .unwrap()
}

/// The next item of a subscription, within 10 s.
async fn next(s: &mut jsonrpsee::core::client::Subscription<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(10), s.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn polling_filters_collect_blocks_pending_transactions_and_logs() {
    let (_d, n) = node(|_| {}).await;
    let addr = n.rpc_addr;
    blocking(move || {
        let blocks = rpc(addr, "eth_newBlockFilter", json!([]));
        let pending = rpc(addr, "eth_newPendingTransactionFilter", json!([]));
        let topic = format!("0x{}", "11".repeat(32));
        let logs = rpc(
            addr,
            "eth_newFilter",
            json!([{"fromBlock": "0x0", "topics": [topic]}]),
        );
        let h = rpc(
            addr,
            "eth_sendTransaction",
            json!([{"from": DEV_ADDR0, "data": logging_init(), "gas": "0x30000"}]),
        );
        let r = wait_receipt(addr, h.as_str().unwrap());
        // Filters are fed by a task of their own: the block arrives shortly after its receipt.
        // Events reach the filters in order, so the pending transaction and the log (fed from
        // events before and with the block's) are in theirs once the block is in its filter.
        let deadline = Instant::now() + Duration::from_secs(10);
        let b = loop {
            let b = rpc(addr, "eth_getFilterChanges", json!([blocks]));
            if b != json!([]) || Instant::now() > deadline {
                break b;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(b, json!([r["blockHash"]]));
        assert_eq!(
            rpc(addr, "eth_getFilterChanges", json!([blocks])),
            json!([]),
            "drained"
        );
        assert_eq!(
            rpc(addr, "eth_getFilterChanges", json!([pending])),
            json!([h])
        );
        let l = rpc(addr, "eth_getFilterChanges", json!([logs]));
        assert_eq!(l.as_array().unwrap().len(), 1, "{l}");
        let log = &l[0];
        assert_eq!(log["address"], r["contractAddress"]);
        assert_eq!(log["topics"], json!([topic]));
        assert_eq!(log["data"], format!("0x{:064x}", 0x2a));
        assert_eq!(
            (
                &log["blockHash"],
                &log["blockNumber"],
                &log["transactionHash"]
            ),
            (&r["blockHash"], &r["blockNumber"], &h)
        );
        assert_eq!(
            (&log["transactionIndex"], &log["logIndex"]),
            (&json!("0x0"), &json!("0x0"))
        );
        assert_eq!(log["removed"], false);
        // The receipt holds the same log, and the filter's logs are that one.
        assert_eq!(r["logs"], l);
        assert_eq!(rpc(addr, "eth_getFilterLogs", json!([logs])), l);
        assert_eq!(rpc(addr, "eth_uninstallFilter", json!([logs])), true);
        assert_eq!(rpc(addr, "eth_uninstallFilter", json!([logs])), false);
        let e = rpc_raw(addr, "eth_getFilterChanges", json!([logs]));
        assert_eq!(
            e["error"],
            json!({"code": -32000, "message": format!("filter not found: {}", quantity(&logs))})
        );
    })
    .await;
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_subscriptions_stream_heads_logs_and_pending() {
    let (_d, n) = node(|_| {}).await;
    let client = ws(&n).await;
    let mut heads = client
        .subscribe::<Value, _>("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe")
        .await
        .unwrap();
    let filter = json!({"topics": [format!("0x{}", "11".repeat(32))]});
    let mut logs = client
        .subscribe::<Value, _>(
            "eth_subscribe",
            rpc_params!["logs", filter],
            "eth_unsubscribe",
        )
        .await
        .unwrap();
    let mut pending = client
        .subscribe::<Value, _>(
            "eth_subscribe",
            rpc_params!["newPendingTransactions"],
            "eth_unsubscribe",
        )
        .await
        .unwrap();
    let h: String = client
        .request(
            "eth_sendTransaction",
            rpc_params![json!({"from": DEV_ADDR0, "data": logging_init(), "gas": "0x30000"})],
        )
        .await
        .unwrap();
    assert_eq!(next(&mut pending).await, json!(h));
    let head = next(&mut heads).await;
    // The header of block 1: the block as eth_getBlockByNumber gives it, without its
    // transactions and uncles.
    let mut block: Value = client
        .request("eth_getBlockByNumber", rpc_params!["0x1", false])
        .await
        .unwrap();
    let genesis: Value = client
        .request("eth_getBlockByNumber", rpc_params!["0x0", false])
        .await
        .unwrap();
    assert_eq!(block["transactions"], json!([h]));
    let fields = block.as_object_mut().unwrap();
    fields.remove("transactions");
    fields.remove("uncles");
    assert_eq!(head, block);
    assert_eq!(
        (&head["number"], &head["parentHash"]),
        (&json!("0x1"), &genesis["hash"])
    );
    let log = next(&mut logs).await;
    assert_eq!(log["transactionHash"], json!(h));
    assert_eq!(log["removed"], false);
    heads.unsubscribe().await.unwrap();
    let e = client
        .subscribe::<Value, _>("eth_subscribe", rpc_params!["nonsense"], "eth_unsubscribe")
        .await;
    match e {
        Err(jsonrpsee::core::client::Error::Call(e)) => assert_eq!(
            (e.code(), e.message()),
            (
                -32602,
                r#"unknown subscription "nonsense": newHeads, logs or newPendingTransactions"#
            )
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_of_blocks_dropped_by_a_reorg_arrive_again_as_removed() {
    let (_da, a) = node(|_| {}).await;
    let (_db, b) = node(|_| {}).await;
    let client = ws(&a).await;
    let filter = json!({"topics": [format!("0x{}", "11".repeat(32))]});
    let mut logs = client
        .subscribe::<Value, _>(
            "eth_subscribe",
            rpc_params!["logs", filter],
            "eth_unsubscribe",
        )
        .await
        .unwrap();
    let (aa, ba) = (a.rpc_addr, b.rpc_addr);
    let h = blocking(move || {
        let h = rpc(
            aa,
            "eth_sendTransaction",
            json!([{"from": DEV_ADDR0, "data": logging_init(), "gas": "0x30000"}]),
        );
        wait_receipt(aa, h.as_str().unwrap());
        for _ in 0..2 {
            let t = rpc(
                ba,
                "eth_sendTransaction",
                json!([{"from": DEV_ADDR1, "to": DEV_ADDR0, "value": "0x1"}]),
            );
            wait_receipt(ba, t.as_str().unwrap());
        }
        h
    })
    .await;
    let first = tokio::time::timeout(Duration::from_secs(10), logs.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        (first["transactionHash"].clone(), first["removed"].clone()),
        (h.clone(), json!(false))
    );
    // B's branch is longer: A reorgs and its log is withdrawn.
    for n in 1..=b.chain.head().number {
        let hash = b.chain.store().canonical_hash(n).unwrap().unwrap();
        a.chain
            .import_block(b.chain.store().block(hash).unwrap().unwrap())
            .unwrap();
    }
    let again = tokio::time::timeout(Duration::from_secs(10), logs.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(again["transactionHash"], h);
    assert_eq!(again["removed"], true);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_refuse_clearly_and_the_node_keeps_serving() {
    let (_d, n) = node(|c| {
        c.rpc_limits.max_batch = 3;
        c.rpc_limits.max_request_body = 4_096;
        c.rpc_limits.max_log_range = 5;
        c.rpc_limits.max_filters = 2;
        c.rpc_limits.max_subscriptions = 1;
        c.rpc_limits.cors = vec!["https://app.example".into()];
    })
    .await;
    let addr = n.rpc_addr;
    blocking(move || {
        let call = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}"#;
        let (_, body) = post(addr, &format!("[{call},{call},{call},{call}]")).unwrap();
        let v: Value = serde_json::from_str(&body).unwrap();
        // jsonrpsee's error for it (geth uses -32600 with "batch too large").
        assert_eq!(
            v,
            json!({"jsonrpc": "2.0", "id": null, "error": {
                "code": -32010,
                "message": "The batch request was too large",
                "data": "Exceeded max limit of 3",
            }}),
            "batch over the limit"
        );
        let big = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["{}"]}}"#,
            "a".repeat(5_000)
        );
        let (status, body) = post(addr, &big).unwrap();
        assert_eq!(status, 413, "body over the limit: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v["error"],
            json!({
                "code": -32007,
                "message": "Request is too big",
                "data": "Exceeded max limit of 4096",
            })
        );
        for _ in 0..2 {
            rpc(addr, "eth_newBlockFilter", json!([]));
        }
        let e = rpc_raw(addr, "eth_newBlockFilter", json!([]));
        assert_eq!(
            e["error"],
            json!({"code": -32000, "message": "too many filters: at most 2 are installed at once"})
        );
        // CORS: the allowed origin is echoed, another is not.
        let (_, head, _) = post_with(addr, call, "Origin: https://app.example\r\n").unwrap();
        assert!(
            head.to_lowercase()
                .contains("access-control-allow-origin: https://app.example"),
            "{head}"
        );
        let (_, head, _) = post_with(addr, call, "Origin: https://evil.example\r\n").unwrap();
        assert!(
            !head.to_lowercase().contains("access-control-allow-origin"),
            "{head}"
        );
        assert_eq!(
            rpc(addr, "eth_chainId", json!([])),
            "0x1e5d",
            "still serving"
        );
    })
    .await;
    // eth_getLogs range: mine a few blocks first.
    blocking(move || {
        for _ in 0..7 {
            let h = rpc(
                addr,
                "eth_sendTransaction",
                json!([{"from": DEV_ADDR0, "to": DEV_ADDR1, "value": "0x1"}]),
            );
            wait_receipt(addr, h.as_str().unwrap());
        }
        let e = rpc_raw(
            addr,
            "eth_getLogs",
            json!([{"fromBlock": "0x0", "toBlock": "latest"}]),
        );
        // Blocks 0 to 7.
        assert_eq!(
            e["error"],
            json!({"code": -32000, "message": "block range too large: 8 blocks, at most 5"})
        );
        // Five blocks are allowed; they hold transfers only, so no logs.
        assert_eq!(
            rpc(
                addr,
                "eth_getLogs",
                json!([{"fromBlock": "0x3", "toBlock": "0x7"}])
            ),
            json!([])
        );
    })
    .await;
    let client = ws(&n).await;
    let _one = client
        .subscribe::<Value, _>("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe")
        .await
        .unwrap();
    let two = client
        .subscribe::<Value, _>("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe")
        .await;
    // The second subscription on a connection limited to one.
    match two {
        Err(jsonrpsee::core::client::Error::Call(e)) => assert_eq!(
            (e.code(), e.message(), e.data().map(|d| d.get())),
            (
                -32006,
                "Too many subscriptions on the connection",
                Some(r#""Exceeded max limit of 1""#)
            )
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let id: String = client.request("eth_chainId", rpc_params![]).await.unwrap();
    assert_eq!(id, "0x1e5d");
    n.stop().await;
}
