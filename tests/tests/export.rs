//! `scion export` and `scion import` through the command line: a chain exported from one data
//! directory and imported into a fresh one (re-executed and re-validated) is the same chain.

use scion_e2e::{rpc, run, scion_bin, wait_receipt, NodeProcess, DEV_ADDR0, DEV_ADDR1};
use serde_json::json;
use std::process::Command;

#[test]
fn an_exported_chain_imports_into_a_fresh_node_identically() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, file) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("chain.rlp"),
    );
    let node = NodeProcess::start(&a, &[]);
    for i in 0..5u64 {
        let h = rpc(
            node.addr,
            "eth_sendTransaction",
            json!([{"from": DEV_ADDR0, "to": DEV_ADDR1, "value": format!("{:#x}", i + 1)}]),
        );
        wait_receipt(node.addr, h.as_str().unwrap());
    }
    // A contract with storage, so the import re-executes more than transfers.
    let h = rpc(
        node.addr,
        "eth_sendTransaction",
        json!([{"from": DEV_ADDR0, "data": "0x602a60005560076005550000", "gas": "0x30000"}]),
    );
    wait_receipt(node.addr, h.as_str().unwrap());
    let head = rpc(node.addr, "eth_getBlockByNumber", json!(["latest", false]));
    node.kill9();

    let out = run(Command::new(scion_bin())
        .args(["export", "--dev", "--datadir"])
        .arg(&a)
        .arg(&file));
    assert!(out.starts_with("exported 7 blocks"), "{out}");
    let out = run(Command::new(scion_bin())
        .args(["import", "--dev", "--datadir"])
        .arg(&b)
        .arg(&file));
    assert!(out.starts_with("imported 6 blocks (1 known)"), "{out}");

    let node = NodeProcess::start(&b, &[]);
    let got = rpc(node.addr, "eth_getBlockByNumber", json!(["latest", false]));
    assert_eq!(got["hash"], head["hash"]);
    assert_eq!(got["stateRoot"], head["stateRoot"]);
    assert_eq!(
        rpc(node.addr, "eth_getBalance", json!([DEV_ADDR1, "0x3"])),
        "0x21e19e0c9bab2400006",
        "10,000 scBTC + 1 + 2 + 3 wei"
    );
    drop(node);

    // A file with a byte changed inside a block is refused with the block's reason.
    let mut bytes = std::fs::read(&file).unwrap();
    let n = bytes.len();
    bytes[n - 40] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();
    let c = dir.path().join("c");
    let out = Command::new(scion_bin())
        .args(["import", "--dev", "--datadir"])
        .arg(&c)
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("block 6") || err.contains("in the file"),
        "{err}"
    );
}
