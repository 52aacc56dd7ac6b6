//! The peer-to-peer network with real nodes in this process, connected over libp2p on
//! 127.0.0.1: handshakes, block and transaction gossip, sync of a late node, a node of another
//! network, and the node key across restarts. Every wait is bounded.

use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use parking_lot::Mutex;
use scion_e2e::net::{mine, peers, start, transfer, wait_for};
use scion_node::{Node, NodeConfig};
use std::collections::HashSet;
use std::sync::Arc;

/// Dev account 0 of the test mnemonic.
const DEV_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_nodes_agree_on_blocks_and_transactions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let miner = start(dir.path(), "miner", &[], true).await;
    let mut others = Vec::new();
    for i in 0..4 {
        // A line of bootnodes plus the miner: the mesh must form through relays too.
        let boot: Vec<&Node> = match others.last() {
            Some(prev) if i % 2 == 1 => vec![prev],
            _ => vec![&miner],
        };
        others.push(start(dir.path(), &format!("node{i}"), &boot, false).await);
    }
    wait_for("every node to handshake", 30, || {
        others.iter().all(|n| peers(n) >= 1)
    })
    .await;
    // Every pool records what it is handed, so a transaction seen anywhere is counted there.
    let seen: Vec<Arc<Mutex<HashSet<B256>>>> = others
        .iter()
        .chain([&miner])
        .map(|n| {
            let set = Arc::new(Mutex::new(HashSet::new()));
            let s = set.clone();
            n.chain.subscribe(Box::new(move |e| {
                if let scion_chain::ChainEvent::PendingTx(h) = e {
                    s.lock().insert(*h);
                }
            }));
            set
        })
        .collect();

    mine(&miner, 200).await;
    let head = miner.chain.head();
    assert_eq!(head.number, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !others.iter().all(|n| n.chain.head().hash() == head.hash()) {
        let heads: Vec<u64> = others.iter().map(|n| n.chain.head().number).collect();
        assert!(
            std::time::Instant::now() < deadline,
            "200 blocks on every node: heads {heads:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // 1,000 transfers handed to one non-mining node reach every pool (the miner holds off
    // sealing until they have, so none is mined before it arrives), then are mined and reach
    // every node's chain.
    let key: PrivateKeySigner = DEV_KEY.parse().expect("key");
    let automine =
        |on: bool| scion_e2e::rpc(miner.rpc_addr, "evm_setAutomine", serde_json::json!([on]));
    automine(false);
    let sender = &others[3];
    let mut hashes = Vec::new();
    for nonce in 0..1_000 {
        let raw = transfer(&key, nonce, Address::with_last_byte(0x42));
        hashes.push(sender.chain.submit_raw(&raw).expect("pooled"));
    }
    wait_for("1,000 transactions in every pool", 120, || {
        seen.iter().all(|s| {
            let s = s.lock();
            hashes.iter().all(|h| s.contains(h))
        })
    })
    .await;
    automine(true);
    wait_for("1,000 transactions mined on every node", 180, || {
        others.iter().chain([&miner]).all(|n| {
            hashes
                .iter()
                .all(|h| n.chain.tx_location(*h).ok().flatten().is_some())
        })
    })
    .await;
    // The RPC answers the same everywhere.
    let want = miner.chain.head();
    wait_for("the same head everywhere", 60, || {
        others
            .iter()
            .all(|n| n.chain.head().hash() == miner.chain.head().hash())
    })
    .await;
    let balance = |n: &Node| {
        n.chain
            .store()
            .latest_account(Address::with_last_byte(0x42))
            .expect("read")
            .map(|a| a.balance)
    };
    for n in &others {
        assert_eq!(balance(n), Some(U256::from(1_000)));
        let body = scion_e2e::rpc(
            n.rpc_addr,
            "eth_getBlockByNumber",
            serde_json::json!(["latest", false]),
        );
        let ours = scion_e2e::rpc(
            miner.rpc_addr,
            "eth_getBlockByNumber",
            serde_json::json!(["latest", false]),
        );
        assert_eq!(body, ours);
        assert_eq!(
            scion_e2e::quantity(&scion_e2e::rpc(
                n.rpc_addr,
                "net_peerCount",
                serde_json::json!([])
            )) as usize,
            peers(n)
        );
    }
    assert!(want.number > 200);
    for n in others.into_iter().chain([miner]) {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_joining_late_syncs_the_chain_and_follows_gossip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let miner = start(dir.path(), "miner", &[], true).await;
    mine(&miner, 600).await;
    let late = start(dir.path(), "late", &[&miner], false).await;
    wait_for("the late node to reach block 600", 180, || {
        late.chain.head().hash() == miner.chain.head().hash()
    })
    .await;
    // Then it follows new blocks by gossip.
    mine(&miner, 3).await;
    wait_for("block 603", 30, || late.chain.head().number == 603).await;
    assert_eq!(late.chain.head().hash(), miner.chain.head().hash());
    late.stop().await;
    miner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_of_another_network_is_dropped_and_not_banned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = start(dir.path(), "a", &[], true).await;
    let addrs = a.network.as_ref().expect("net").listen_addrs();
    let mut other = NodeConfig::dev_networked(dir.path().join("other"), addrs.clone());
    other.spec.chain_id = 7774;
    let other = scion_node::spawn(other)
        .await
        .expect("other network's node");
    let a_net = a.network.as_ref().expect("net");
    wait_for("the other network's node to be dropped", 30, || {
        a_net.info().other_network_drops >= 1
    })
    .await;
    assert_eq!(peers(&a), 0);
    assert!(a_net.info().banned.is_empty(), "dropped, not banned");
    // A node of the same network is welcome on the same listener.
    let b = start(dir.path(), "b", &[&a], false).await;
    wait_for("a handshake with the same network's node", 30, || {
        peers(&a) == 1 && peers(&b) == 1
    })
    .await;
    other.stop().await;
    b.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_id_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = start(dir.path(), "n", &[], true).await;
    let id = first.network.as_ref().expect("net").peer_id();
    let listen = first.network.as_ref().expect("net").listen_addrs();
    assert!(
        listen
            .iter()
            .all(|a| a.to_string().ends_with(&format!("/p2p/{id}"))),
        "{listen:?}"
    );
    first.stop().await;
    let again = start(dir.path(), "n", &[], true).await;
    assert_eq!(again.network.as_ref().expect("net").peer_id(), id);
    let info = scion_e2e::rpc(again.rpc_addr, "admin_nodeInfo", serde_json::json!([]));
    assert_eq!(info["id"], id.to_string());
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_finds_peers_and_no_discovery_dials_only_the_given_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let boot = |n: &Node| n.network.as_ref().expect("net").listen_addrs();
    let node = |name: &str, boots, discovery: bool| {
        let mut c = NodeConfig::dev_networked(dir.path().join(name), boots);
        c.automine = false;
        if let Some(p) = c.p2p.as_mut() {
            p.no_discovery = !discovery;
        }
        scion_node::spawn(c)
    };
    let a = node("a", vec![], true).await.expect("a");
    let d = node("d", boot(&a), true).await.expect("d");
    wait_for("d to join a", 30, || peers(&a) == 1 && peers(&d) == 1).await;
    let quiet = node("quiet", boot(&a), false).await.expect("quiet");
    let e = node("e", boot(&a), true).await.expect("e");
    // e learns d through a's DHT and dials it.
    let d_id = d.network.as_ref().expect("net").peer_id().to_string();
    let e_net = e.network.clone().expect("net");
    wait_for("e to find d through the DHT", 60, || {
        e_net.info().peers.iter().any(|p| p.id == d_id)
    })
    .await;
    // Meanwhile the node without discovery dialed only the peer it was given (others found
    // it through the DHT and may dial it: those connections are inbound).
    let a_id = a.network.as_ref().expect("net").peer_id().to_string();
    let dialed: Vec<String> = quiet
        .network
        .as_ref()
        .expect("net")
        .info()
        .peers
        .into_iter()
        .filter(|p| !p.network.inbound)
        .map(|p| p.id)
        .collect();
    assert_eq!(dialed, vec![a_id]);
    for n in [e, quiet, d, a] {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_peers_share_an_ip_without_a_gossip_penalty() {
    // Four nodes dial one hub, all from 127.0.0.1: one more than gossipsub's colocation
    // threshold (3 peers per IP). Loopback is exempt, so no peer scores below zero at the hub.
    // (Read before any block: first deliveries would lift a penalised score later.)
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = start(dir.path(), "hub", &[], false).await;
    let mut spokes = Vec::new();
    for i in 0..4 {
        spokes.push(start(dir.path(), &format!("spoke{i}"), &[&hub], false).await);
    }
    wait_for("the hub to handshake all four", 30, || peers(&hub) == 4).await;
    let scores = || -> Vec<Option<f64>> {
        hub.network
            .as_ref()
            .expect("networked")
            .info()
            .peers
            .iter()
            .map(|p| p.protocols["scion"]["gossipScore"].as_f64())
            .collect()
    };
    // admin_peers is refreshed at least every 5 s (the maintenance round).
    wait_for("a gossip score for every peer", 15, || {
        let s = scores();
        s.len() == 4 && s.iter().all(Option::is_some)
    })
    .await;
    let scores = scores();
    assert!(
        scores.iter().all(|s| s.is_some_and(|s| s >= 0.0)),
        "gossip scores at the hub {scores:?}"
    );
    for n in spokes.into_iter().chain([hub]) {
        n.stop().await;
    }
}
