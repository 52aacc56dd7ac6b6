//! Dev control methods (evm_*, anvil_*, hardhat_* aliases) on a --dev node, and -32601 for
//! them anywhere else.

use alloy_primitives::Address;
use scion_e2e::{quantity, rpc, rpc_raw, wait_receipt, DEV_ADDR0, DEV_ADDR1};
use scion_node::{spawn, NodeConfig};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

async fn with_node(dev: bool, test: impl FnOnce(SocketAddr) + Send + 'static) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::dev(dir.path().join("data"));
    config.dev = dev;
    let node = spawn(config).await.unwrap();
    let addr = node.rpc_addr;
    tokio::task::spawn_blocking(move || test(addr))
        .await
        .unwrap();
    node.stop().await;
}

fn number(addr: SocketAddr) -> u128 {
    quantity(&rpc(addr, "eth_blockNumber", json!([])))
}

#[tokio::test(flavor = "multi_thread")]
async fn mining_automine_snapshots_and_time() {
    with_node(true, |addr| {
        assert_eq!(rpc(addr, "evm_mine", json!([])), "0x0");
        assert_eq!(number(addr), 1);
        assert_eq!(rpc(addr, "hardhat_mine", json!(["0x3"])), true);
        assert_eq!(number(addr), 4);

        // Automine off: a transaction waits for evm_mine.
        rpc(addr, "evm_setAutomine", json!([false]));
        let h = rpc(
            addr,
            "eth_sendTransaction",
            json!([{"from": DEV_ADDR0, "to": DEV_ADDR1, "value": "0x1"}]),
        );
        // It is pooled and pending...
        let pooled = rpc(addr, "eth_getTransactionByHash", json!([h]));
        assert_eq!((&pooled["hash"], &pooled["blockNumber"]), (&h, &Value::Null));
        assert_eq!(
            rpc(addr, "txpool_status", json!([])),
            json!({"pending": "0x1", "queued": "0x0"})
        );
        // ... and no block comes for it: watched over 300 ms (what does not happen can only
        // be watched for a while), the head stays at 4 and the transaction unmined.
        let until = Instant::now() + Duration::from_millis(300);
        while Instant::now() < until {
            assert_eq!(number(addr), 4, "a block was mined with automine off");
            assert!(rpc(addr, "eth_getTransactionReceipt", json!([h])).is_null());
            std::thread::sleep(Duration::from_millis(20));
        }
        // evm_mine makes exactly one block, and it holds the transaction.
        assert_eq!(rpc(addr, "evm_mine", json!([])), "0x0");
        assert_eq!(number(addr), 5);
        assert_eq!(
            rpc(addr, "eth_getBlockByNumber", json!(["0x5", false]))["transactions"],
            json!([h])
        );
        assert_eq!(
            wait_receipt(addr, h.as_str().unwrap())["blockNumber"],
            "0x5"
        );
        rpc(addr, "evm_setAutomine", json!([true]));

        // Snapshot, change things, revert.
        let balance = rpc(addr, "eth_getBalance", json!([DEV_ADDR1, "latest"]));
        let snap = rpc(addr, "evm_snapshot", json!([]));
        let h = rpc(
            addr,
            "eth_sendTransaction",
            json!([{"from": DEV_ADDR0, "to": DEV_ADDR1, "value": "0x100"}]),
        );
        wait_receipt(addr, h.as_str().unwrap());
        assert_eq!(number(addr), 6);
        assert_eq!(rpc(addr, "evm_revert", json!([snap])), true);
        assert_eq!(number(addr), 5);
        assert_eq!(
            rpc(addr, "eth_getBalance", json!([DEV_ADDR1, "latest"])),
            balance
        );
        assert!(rpc(addr, "eth_getTransactionReceipt", json!([h])).is_null());
        assert_eq!(
            rpc(addr, "evm_revert", json!([snap])),
            false,
            "a snapshot is used once"
        );
        // The chain goes on from the snapshot, nonces included.
        let h = rpc(
            addr,
            "eth_sendTransaction",
            json!([{"from": DEV_ADDR0, "to": DEV_ADDR1, "value": "0x1"}]),
        );
        assert_eq!(wait_receipt(addr, h.as_str().unwrap())["status"], "0x1");

        // Time.
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as u128;
        // The total offset, which nothing moved before.
        assert_eq!(rpc(addr, "evm_increaseTime", json!([3600])), 3600);
        rpc(addr, "evm_mine", json!([]));
        let after =
            quantity(&rpc(addr, "eth_getBlockByNumber", json!(["latest", false]))["timestamp"]);
        let wall_after = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as u128;
        assert!(
            (wall + 3600..=wall_after + 3600).contains(&after),
            "wall clock {wall}..{wall_after}, block {after}"
        );
        let target = after + 1000;
        rpc(
            addr,
            "evm_setNextBlockTimestamp",
            json!([format!("{target:#x}")]),
        );
        rpc(addr, "evm_mine", json!([]));
        assert_eq!(
            quantity(&rpc(addr, "eth_getBlockByNumber", json!(["latest", false]))["timestamp"]),
            target
        );
        let e = rpc_raw(addr, "evm_setNextBlockTimestamp", json!([1]));
        assert_eq!(
            e["error"],
            json!({"code": -32000, "message": format!("timestamp 1 is not after the head's {target}")})
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn account_changes_and_impersonation() {
    with_node(true, |addr| {
        let who = format!("{:#x}", Address::repeat_byte(0x42));
        assert_eq!(
            rpc(addr, "anvil_setBalance", json!([who, "0xde0b6b3a7640000"])),
            true
        );
        assert_eq!(
            rpc(addr, "eth_getBalance", json!([who, "latest"])),
            "0xde0b6b3a7640000"
        );
        rpc(
            addr,
            "hardhat_setBalance",
            json!([who, "0x1bc16d674ec80000"]),
        );
        assert_eq!(
            rpc(addr, "eth_getBalance", json!([who, "latest"])),
            "0x1bc16d674ec80000"
        );
        let code_at = format!("{:#x}", Address::repeat_byte(0x43));
        rpc(
            addr,
            "anvil_setCode",
            json!([code_at, "0x60016000526001601ff3"]),
        );
        assert_eq!(
            rpc(addr, "eth_getCode", json!([code_at, "latest"])),
            "0x60016000526001601ff3"
        );
        assert_eq!(
            rpc(addr, "eth_call", json!([{"to": code_at}])),
            "0x01",
            "the new code runs"
        );
        rpc(addr, "anvil_setNonce", json!([who, "0x7"]));
        assert_eq!(
            rpc(addr, "eth_getTransactionCount", json!([who, "latest"])),
            "0x7"
        );
        let slot = format!("0x{:064x}", 9);
        rpc(addr, "anvil_setStorageAt", json!([code_at, "0x3", slot]));
        assert_eq!(
            rpc(addr, "eth_getStorageAt", json!([code_at, "0x3", "latest"])),
            slot
        );
        // The balance survived the nonce change: patches touch only what they name.
        assert_eq!(
            rpc(addr, "eth_getBalance", json!([who, "latest"])),
            "0x1bc16d674ec80000"
        );

        // Impersonation: send from an account whose key the node does not have.
        let unknown = json!({
            "code": -32000,
            "message": format!(
                "unknown account {}: the node holds only the dev accounts",
                Address::repeat_byte(0x42)
            ),
        });
        let e = rpc_raw(
            addr,
            "eth_sendTransaction",
            json!([{"from": who, "to": DEV_ADDR1, "value": "0x5"}]),
        );
        assert_eq!(e["error"], unknown);
        rpc(addr, "anvil_impersonateAccount", json!([who]));
        let h = rpc(
            addr,
            "eth_sendTransaction",
            json!([{"from": who, "to": DEV_ADDR1, "value": "0x5"}]),
        );
        let r = wait_receipt(addr, h.as_str().unwrap());
        assert_eq!(r["status"], "0x1");
        assert_eq!(r["from"], who.as_str());
        assert_eq!(
            rpc(addr, "eth_getTransactionByHash", json!([h]))["from"],
            who.as_str()
        );
        rpc(addr, "hardhat_stopImpersonatingAccount", json!([who]));
        let e = rpc_raw(
            addr,
            "eth_sendTransaction",
            json!([{"from": who, "to": DEV_ADDR1, "value": "0x5"}]),
        );
        assert_eq!(e["error"], unknown, "the key is unknown again");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn outside_dev_the_dev_methods_do_not_exist() {
    with_node(false, |addr| {
        for m in [
            "evm_mine",
            "evm_snapshot",
            "anvil_setBalance",
            "hardhat_impersonateAccount",
            "evm_setAutomine",
        ] {
            assert_eq!(
                rpc_raw(addr, m, json!([]))["error"],
                json!({"code": -32601, "message": "Method not found"}),
                "{m}"
            );
        }
        assert_eq!(rpc(addr, "eth_accounts", json!([])), json!([]));
    })
    .await;
}
