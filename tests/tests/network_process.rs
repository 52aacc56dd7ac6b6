//! The network with real `scion` processes on 127.0.0.1: a node joining 10,000 blocks late
//! syncs them from a peer, is killed with SIGKILL halfway, and resumes from its own head.
//! Every wait is bounded and every process is killed when the test ends.

use scion_e2e::{quantity, rpc, NodeProcess};
use serde_json::json;
use std::time::{Duration, Instant};

const BLOCKS: u64 = 10_000;

fn head(n: &NodeProcess) -> u64 {
    u64::try_from(quantity(&rpc(n.addr, "eth_blockNumber", json!([])))).expect("u64")
}

fn hash_at(n: &NodeProcess, number: u64) -> serde_json::Value {
    rpc(
        n.addr,
        "eth_getBlockByNumber",
        json!([format!("{number:#x}"), false]),
    )["hash"]
        .clone()
}

fn wait(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_node_joining_10000_blocks_late_catches_up_and_resumes_after_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = NodeProcess::start(&dir.path().join("source"), &["--p2p.port", "0"]);
    // anvil_mine seals the blocks one by one through the normal path.
    assert_eq!(rpc(source.addr, "anvil_mine", json!([BLOCKS])), true);
    assert_eq!(head(&source), BLOCKS);
    wait("the source's p2p address", 30, || {
        source.p2p_addr().is_some()
    });
    let boot = source.p2p_addr().expect("address");
    let args = [
        "--p2p.port",
        "0",
        "--bootnodes",
        &boot,
        "--no-automine",
        "--no-discovery",
    ];
    let late_dir = dir.path().join("late");
    let late = NodeProcess::start(&late_dir, &args);
    wait("the late node to pass block 5,000", 300, || {
        head(&late) >= BLOCKS / 2
    });
    let progress = rpc(late.addr, "eth_syncing", json!([]));
    assert_eq!(
        progress["highestBlock"],
        format!("{BLOCKS:#x}"),
        "{progress}"
    );
    assert_eq!(progress["startingBlock"], "0x0", "{progress}");
    let at_kill = head(&late);
    late.kill9();
    let late = NodeProcess::start(&late_dir, &args);
    let resumed_at = head(&late);
    assert!(
        resumed_at >= at_kill,
        "restarted at {resumed_at}, below the {at_kill} it had served before the kill"
    );
    wait("the late node to reach block 10,000", 300, || {
        head(&late) == BLOCKS
    });
    for n in [1, resumed_at, BLOCKS] {
        assert_eq!(hash_at(&late, n), hash_at(&source, n), "block {n}");
    }
    wait("the sync to end", 30, || {
        rpc(late.addr, "eth_syncing", json!([])) == false
    });
    assert_eq!(rpc(late.addr, "net_peerCount", json!([])), "0x1");
}
