//! `scion-netbench`: the network's figures (NETWORK.md, "Figures to measure"), measured with
//! real nodes on 127.0.0.1. `scripts/bench-network.sh` runs it in release and prints a table.
//!
//! - `propagation BLOCKS TXS`: five nodes (a miner, two direct peers, two one hop further);
//!   per block, the time from the miner's import to the last node's import (one clock: all in
//!   this process), against the time a standalone node takes to import the same block; and
//!   loopback bytes per block per node.
//! - `sync BLOCKS LOADED TXS`: a chain of BLOCKS blocks, LOADED of them with TXS transfers;
//!   a fresh node syncs it from a peer, and the same chain goes through `scion import`.
//! - `reorg DEPTH`: two nodes apart, one mines DEPTH blocks and the other DEPTH+1; the time
//!   from reconnecting until the lighter one follows the heavier.
//! - `memory SCION_BIN PEERS`: a `scion` process with PEERS peer processes: its RSS idle and
//!   while sealing 5 blocks per second.

use alloy_primitives::Address;
use alloy_signer_local::PrivateKeySigner;
use scion_e2e::net::{addr, mine, start, transfer, wait_for};
use scion_node::Node;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Seen = Arc<parking_lot::Mutex<HashMap<alloy_primitives::B256, Instant>>>;

fn watch(n: &Node) -> Seen {
    let seen: Seen = Default::default();
    let s = seen.clone();
    n.chain.subscribe(Box::new(move |e| {
        if let scion_chain::ChainEvent::BlockAdded(h) = e {
            s.lock().entry(*h).or_insert_with(Instant::now);
        }
    }));
    seen
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p / 100.0).round() as usize;
    v.get(i).copied().unwrap_or(f64::NAN)
}

fn loopback_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/net/dev").unwrap_or_default();
    text.lines()
        .find(|l| l.trim_start().starts_with("lo:"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|b| b.parse().ok())
        .unwrap_or(0)
}

/// Dev keys 0..19 of the test mnemonic.
fn keys() -> Vec<PrivateKeySigner> {
    scion_node::dev_signers().expect("dev keys")
}

/// Pools `n` transfers on `node`, round-robin over the dev keys.
fn pool_transfers(node: &Node, keys: &[PrivateKeySigner], nonces: &mut [u64], n: usize) {
    for i in 0..n {
        let k = i % keys.len();
        let raw = transfer(&keys[k], nonces[k], Address::with_last_byte(0x77));
        nonces[k] += 1;
        node.chain.submit_raw(&raw).expect("pooled");
    }
}

async fn propagation(blocks: u64, txs: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let miner = start(dir.path(), "miner", &[], false).await;
    let n0 = start(dir.path(), "n0", &[&miner], false).await;
    let n1 = start(dir.path(), "n1", &[&n0], false).await;
    let n2 = start(dir.path(), "n2", &[&miner], false).await;
    let n3 = start(dir.path(), "n3", &[&n2], false).await;
    let others = [&n0, &n1, &n2, &n3];
    wait_for("the mesh", 60, || {
        others.iter().all(|n| scion_e2e::net::peers(n) >= 1)
    })
    .await;
    // Let gossipsub graft its mesh before measuring.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let reference =
        scion_chain::Chain::open(&dir.path().join("reference"), scion_types::ChainSpec::dev())
            .expect("reference chain");
    let seen_miner = watch(&miner);
    let seen: Vec<Seen> = others.iter().map(|n| watch(n)).collect();
    let keys = keys();
    let mut nonces = vec![0u64; keys.len()];
    let (mut spread, mut local) = (Vec::new(), Vec::new());
    let bytes_before = loopback_bytes();
    for _ in 0..blocks {
        pool_transfers(&miner, &keys, &mut nonces, txs);
        mine(&miner, 1).await;
        let head = miner.chain.head();
        let hash = head.hash();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !seen.iter().all(|s| s.lock().contains_key(&hash)) {
            if Instant::now() > deadline {
                let state: Vec<_> = others
                    .iter()
                    .map(|n| {
                        (
                            n.chain.head().number,
                            n.chain.pool().len(),
                            scion_e2e::net::peers(n),
                        )
                    })
                    .collect();
                let bans: Vec<_> = others
                    .iter()
                    .chain([&&miner])
                    .map(|n| {
                        n.network
                            .as_ref()
                            .map(|h| h.info().banned)
                            .unwrap_or_default()
                    })
                    .collect();
                panic!(
                    "block {} missing; (head, pool, peers) per node: {state:?}; miner peers {}; bans {bans:?}",
                    head.number,
                    scion_e2e::net::peers(&miner)
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let t0 = seen_miner.lock()[&hash];
        let last = seen.iter().map(|s| s.lock()[&hash]).max().expect("nodes");
        spread.push(ms(last.saturating_duration_since(t0)));
        let block = miner
            .chain
            .store()
            .block(hash)
            .expect("read")
            .expect("block");
        let t = Instant::now();
        let r = reference.import_block(block).expect("import");
        local.push(ms(t.elapsed()));
        assert_eq!(r.result, scion_chain::ImportResult::ImportedBest);
        // Every pool drops what the block mined before the next one is built.
        wait_for("pools to settle", 60, || {
            others.iter().all(|n| n.chain.head().hash() == hash)
        })
        .await;
    }
    let bytes = loopback_bytes().saturating_sub(bytes_before);
    let median_local = percentile(&mut local, 50.0);
    println!(
        "propagation txs={txs} blocks={blocks}: to all 5 nodes p50 {:.2} ms p99 {:.2} ms; local import median {:.2} ms (target p99 <= {:.2} ms); loopback {:.0} bytes per block per node",
        percentile(&mut spread.clone(), 50.0),
        percentile(&mut spread, 99.0),
        median_local,
        3.0 * median_local + 10.0,
        bytes as f64 / blocks as f64 / 5.0
    );
    for n in [n3, n2, n1, n0, miner] {
        n.stop().await;
    }
}

async fn sync(blocks: u64, loaded: u64, txs: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = start(dir.path(), "source", &[], false).await;
    let keys = keys();
    let mut nonces = vec![0u64; keys.len()];
    let every = blocks / loaded.max(1);
    for n in 1..=blocks {
        if loaded > 0 && n % every == 0 {
            pool_transfers(&source, &keys, &mut nonces, txs);
        }
        mine(&source, 1).await;
    }
    let head = source.chain.head();
    let mut gas = 0u64;
    for n in 1..=head.number {
        let h = source.chain.canonical_hash(n).expect("read").expect("hash");
        gas += source
            .chain
            .store()
            .header(h)
            .expect("read")
            .expect("header")
            .gas_used;
    }
    let t = Instant::now();
    let fresh = start(dir.path(), "fresh", &[&source], false).await;
    wait_for("the sync", 3_600, || {
        fresh.chain.head().hash() == head.hash()
    })
    .await;
    let synced = t.elapsed().as_secs_f64();
    let file = dir.path().join("chain.rlp");
    scion_node::export::export(&source.chain, &file, 0, None).expect("export");
    let imported = scion_chain::Chain::open_with(
        &dir.path().join("imported"),
        scion_types::ChainSpec::dev(),
        false,
    )
    .expect("open");
    let t = Instant::now();
    scion_node::export::import(&imported, &file).expect("import");
    let import_secs = t.elapsed().as_secs_f64();
    let mgas = |s: f64| gas as f64 / s / 1e6;
    println!(
        "sync blocks={blocks} loaded={loaded} txs={txs}: from a peer {synced:.2} s ({:.1} blocks/s, {:.1} Mgas/s); scion import {import_secs:.2} s ({:.1} Mgas/s); ratio {:.0}%",
        blocks as f64 / synced,
        mgas(synced),
        mgas(import_secs),
        100.0 * mgas(synced) / mgas(import_secs)
    );
    fresh.stop().await;
    source.stop().await;
}

async fn reorg(depth: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let light = start(dir.path(), "light", &[], false).await;
    let heavy = start(dir.path(), "heavy", &[], false).await;
    mine(&light, depth).await;
    // A clock a minute ahead, so the heavier branch differs from the lighter from block 1
    // (the same empty blocks at the same second would be the same blocks).
    heavy.chain.increase_time(60);
    mine(&heavy, depth + 1).await;
    let target = heavy.chain.head().hash();
    let t = Instant::now();
    light
        .network
        .as_ref()
        .expect("net")
        .add_peer(&addr(&heavy))
        .await
        .expect("dial");
    wait_for("the reorg", 3_600, || light.chain.head().hash() == target).await;
    println!("reorg depth={depth}: {:.1} ms from reconnecting to following the heavier branch ({} blocks unwound, {} executed)", ms(t.elapsed()), depth, depth + 1);
    light.stop().await;
    heavy.stop().await;
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn memory(bin: &Path, peers: usize) {
    std::env::set_var("SCION_BIN", bin);
    let dir = tempfile::tempdir().expect("tempdir");
    let target = scion_e2e::NodeProcess::start(
        &dir.path().join("target"),
        &["--p2p.port", "0", "--no-automine"],
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while target.p2p_addr().is_none() {
        assert!(Instant::now() < deadline, "no p2p address");
        std::thread::sleep(Duration::from_millis(50));
    }
    let boot = target.p2p_addr().expect("address");
    let before = rss_kib(target.child.id());
    let mut others = Vec::new();
    for i in 0..peers {
        others.push(scion_e2e::NodeProcess::start(
            &dir.path().join(format!("peer{i}")),
            &[
                "--p2p.port",
                "0",
                "--bootnodes",
                &boot,
                "--no-automine",
                "--no-discovery",
            ],
        ));
    }
    let count = || {
        scion_e2e::quantity(&scion_e2e::rpc(
            target.addr,
            "net_peerCount",
            serde_json::json!([]),
        )) as usize
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while count() < peers {
        assert!(
            Instant::now() < deadline,
            "only {} of {peers} peers",
            count()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(5));
    let idle = rss_kib(target.child.id());
    let mut busy = idle;
    let start = Instant::now();
    for i in 0..50u32 {
        scion_e2e::rpc(target.addr, "evm_mine", serde_json::json!([]));
        busy = busy.max(rss_kib(target.child.id()));
        let next = start + Duration::from_millis(200) * (i + 1);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    println!(
        "memory peers={peers}: RSS alone {:.1} MiB, idle with peers {:.1} MiB, at 5 blocks/s {:.1} MiB; ({:.2} MiB per peer idle)",
        before as f64 / 1024.0,
        idle as f64 / 1024.0,
        busy as f64 / 1024.0,
        (idle.saturating_sub(before)) as f64 / 1024.0 / peers.max(1) as f64
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    match args.first().map(String::as_str) {
        Some("propagation") => {
            propagation(num(1, 100), usize::try_from(num(2, 0)).unwrap_or(0)).await
        }
        Some("sync") => {
            sync(
                num(1, 10_000),
                num(2, 1_000),
                usize::try_from(num(3, 100)).unwrap_or(100),
            )
            .await
        }
        Some("reorg") => reorg(num(1, 10)).await,
        Some("memory") => {
            let bin = args
                .get(1)
                .map(std::path::PathBuf::from)
                .expect("memory SCION_BIN PEERS");
            let peers = usize::try_from(num(2, 1)).unwrap_or(1);
            tokio::task::spawn_blocking(move || memory(&bin, peers))
                .await
                .expect("memory task");
        }
        _ => {
            eprintln!("usage: scion-netbench propagation BLOCKS TXS | sync BLOCKS LOADED TXS | reorg DEPTH | memory SCION_BIN PEERS");
            std::process::exit(2);
        }
    }
}
