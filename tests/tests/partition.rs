//! Partition and heal: two halves of a network on 127.0.0.1 mine apart (with a same-nonce
//! conflict), then reconnect and converge on the heavier half; the lighter half's dropped
//! transactions return to its pools and its log filters see `removed: true`. Then the other
//! half grows heavier and the network reorgs back, and after an even split the next block
//! decides. Every wait is bounded.

use alloy_primitives::{hex, Address, Bytes, TxKind, B256};
use alloy_signer_local::PrivateKeySigner;
use scion_e2e::net::{addr, mine, peers, signed, start, transfer, wait_for};
use scion_node::Node;
use serde_json::json;

/// Dev accounts 0, 1 and 2 of the test mnemonic.
const KEYS: [&str; 3] = [
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
];

/// Init code of a contract whose every call emits one empty LOG0: it returns the runtime
/// `PUSH1 0 PUSH1 0 LOG0 STOP`.
const LOGGER_INIT: &str = "6560006000a0006000526006601af3";

fn key(i: usize) -> PrivateKeySigner {
    KEYS[i].parse().expect("key")
}

async fn link(a: &Node, b: &Node) {
    a.network
        .as_ref()
        .expect("net")
        .add_peer(&addr(b))
        .await
        .expect("dial");
}

async fn unlink(a: &Node, b: &Node) {
    let id = b.network.as_ref().expect("net").peer_id().to_string();
    a.network
        .as_ref()
        .expect("net")
        .remove_peer(&id)
        .await
        .expect("remove");
}

fn same_head(nodes: &[&Node]) -> bool {
    let h = nodes[0].chain.head().hash();
    nodes.iter().all(|n| n.chain.head().hash() == h)
}

fn included(n: &Node, tx: B256) -> bool {
    n.chain.tx_location(tx).ok().flatten().is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halves_converge_on_the_heavier_and_reorg_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a1 = start(dir.path(), "a1", &[], false).await;
    // The common prefix: block 1 deploys the logging contract.
    let deploy = signed(
        &key(2),
        0,
        TxKind::Create,
        0,
        hex::decode(LOGGER_INIT).expect("hex").into(),
    );
    a1.chain.submit_raw(&deploy).expect("deploy");
    mine(&a1, 1).await;
    let logger = key(2).address().create(0);
    let b1 = start(dir.path(), "b1", &[&a1], false).await;
    wait_for("b1 to sync the prefix", 30, || b1.chain.head().number == 1).await;
    let a2 = start(dir.path(), "a2", &[&a1], false).await;
    let b2 = start(dir.path(), "b2", &[&b1], false).await;
    wait_for("both halves to form", 30, || {
        peers(&a2) == 1
            && peers(&b2) == 1
            && a2.chain.head().number == 1
            && b2.chain.head().number == 1
    })
    .await;
    unlink(&b1, &a1).await;
    wait_for("the partition", 30, || peers(&a1) == 1 && peers(&b1) == 1).await;

    // Apart: the same sender's nonce 0 goes to X in half A and to Y in half B. Half B also
    // carries a transfer of its own and a call that logs.
    let x = Address::with_last_byte(0xa0);
    let y = Address::with_last_byte(0xb0);
    let on_a = a1
        .chain
        .submit_raw(&transfer(&key(0), 0, x))
        .expect("pooled on A");
    let on_b = b1
        .chain
        .submit_raw(&transfer(&key(0), 0, y))
        .expect("pooled on B");
    let b_only = b1
        .chain
        .submit_raw(&transfer(&key(1), 0, y))
        .expect("pooled on B");
    let logs = b1
        .chain
        .submit_raw(&signed(&key(2), 1, TxKind::Call(logger), 0, Bytes::new()))
        .expect("log call");
    let filter = scion_e2e::rpc(b2.rpc_addr, "eth_newFilter", json!([{"address": logger}]));
    mine(&a1, 4).await;
    mine(&b1, 2).await;
    wait_for("each half to agree", 60, || {
        same_head(&[&a1, &a2]) && same_head(&[&b1, &b2])
    })
    .await;
    assert!(included(&b2, on_b) && included(&b2, b_only) && included(&b2, logs));
    let changes = scion_e2e::rpc(b2.rpc_addr, "eth_getFilterChanges", json!([filter]));
    assert_eq!(changes.as_array().map(Vec::len), Some(1), "{changes}");
    assert_eq!(changes[0]["removed"], false);

    // Healed: A did more work, so all four follow A.
    link(&b1, &a1).await;
    let all = [&a1, &a2, &b1, &b2];
    wait_for("all four on A's chain", 60, || same_head(&all)).await;
    assert_eq!(b2.chain.head().number, 5);
    for n in all {
        assert!(
            included(n, on_a),
            "A's side of the conflict is mined everywhere"
        );
        assert!(!included(n, on_b) && !included(n, b_only) && !included(n, logs));
    }
    // B's own transactions are pooled again where they were mined; the conflicting one is not.
    for n in [&b1, &b2] {
        let pool = n.chain.pool();
        assert!(pool.get(&b_only).is_some() && pool.get(&logs).is_some());
        assert!(
            pool.get(&on_b).is_none(),
            "nonce 0 of that sender is spent on A's chain"
        );
    }
    let changes = scion_e2e::rpc(b2.rpc_addr, "eth_getFilterChanges", json!([filter]));
    assert_eq!(changes.as_array().map(Vec::len), Some(1), "{changes}");
    assert_eq!(
        changes[0]["removed"], true,
        "the reorged-out log comes back removed"
    );

    // Apart again, B grows heavier (its pooled transactions get mined there): back to B.
    unlink(&b1, &a1).await;
    wait_for("the second partition", 30, || {
        peers(&a1) == 1 && peers(&b1) == 1
    })
    .await;
    mine(&a1, 1).await;
    mine(&b1, 4).await;
    wait_for("each half to agree", 60, || {
        same_head(&[&a1, &a2]) && same_head(&[&b1, &b2])
    })
    .await;
    let b_head = b1.chain.head().hash();
    link(&a1, &b1).await;
    wait_for("all four on B's chain", 60, || same_head(&all)).await;
    assert_eq!(a2.chain.head().hash(), b_head);
    assert!(included(&a2, b_only) && included(&a2, logs));

    // Split evenly: one block each. Whatever the tie, the next block decides for everyone.
    unlink(&b1, &a1).await;
    wait_for("the third partition", 30, || {
        peers(&a1) == 1 && peers(&b1) == 1
    })
    .await;
    mine(&a1, 1).await;
    // B's clock runs ahead, so the two blocks differ (the same empty block at the same second
    // would be one block).
    b1.chain.increase_time(30);
    mine(&b1, 1).await;
    wait_for("each half to agree", 60, || {
        same_head(&[&a1, &a2]) && same_head(&[&b1, &b2])
    })
    .await;
    link(&a1, &b1).await;
    wait_for("the halves to reconnect", 30, || {
        peers(&a1) == 2 && peers(&b1) == 2
    })
    .await;
    let tips = a1.chain.head().number;
    assert_eq!(b1.chain.head().number, tips);
    assert_ne!(
        a1.chain.head().hash(),
        b1.chain.head().hash(),
        "a real split"
    );
    mine(&a1, 1).await;
    wait_for("all four on the next block", 60, || {
        same_head(&all) && a1.chain.head().number == tips + 1
    })
    .await;
    for n in [a1, a2, b1, b2] {
        n.stop().await;
    }
}
