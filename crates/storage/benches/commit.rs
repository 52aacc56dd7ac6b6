//! State root and MDBX commit of one block, with 10,000 and with 1,000,000 accounts in state:
//! how commit cost grows with the state (issue 7's "≤ 2× the time" target).
//!
//! Each block changes 1,000 accounts: 900 balance updates of existing accounts (random, so
//! spread over the trie) and 100 new accounts. `prepare` is the state root (trie updates and
//! node reads), `commit` is prepare plus the MDBX write transaction and its fsync
//! (`Store::sync`, as the node flushes each block). `open` is a
//! restart: opening the store, which rebuilds the account trie in memory.

/// The node's allocator, so that the trie's allocations cost what they cost in the node.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[path = "../tests/support/mod.rs"]
mod support;

use alloy_primitives::{keccak256, Address};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use scion_storage::Store;
use scion_types::{ChainSpec, StateChanges};
use std::cell::Cell;
use support::{balance_change, commit_on_head};

fn addr(i: u64) -> Address {
    Address::from_slice(&keccak256(i.to_be_bytes())[12..])
}

/// A store holding `n` accounts, filled 50,000 per block.
fn filled(n: u64) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut spec = ChainSpec::dev();
    spec.alloc.clear();
    store.init_genesis(&spec).unwrap();
    let mut i = 0;
    while i < n {
        let mut c = StateChanges::default();
        for j in i..(i + 50_000).min(n) {
            c.accounts.insert(addr(j), balance_change(1_000 + j));
        }
        commit_on_head(&store, &c).unwrap();
        i += 50_000;
    }
    (dir, store)
}

fn block_changes(n: u64, round: u64) -> StateChanges {
    let mut c = StateChanges::default();
    for k in 0..900u64 {
        let i = u64::from_be_bytes(
            keccak256([round.to_be_bytes(), k.to_be_bytes()].concat()).0[..8]
                .try_into()
                .unwrap(),
        ) % n;
        c.accounts.insert(addr(i), balance_change(round * 7 + k));
    }
    for k in 0..100u64 {
        c.accounts
            .insert(addr(n + round * 100 + k), balance_change(5));
    }
    c
}

fn bench(c: &mut Criterion) {
    let sizes: Vec<u64> = std::env::var("SCION_BENCH_ACCOUNTS")
        .map(|s| s.split(',').map(|x| x.parse().unwrap()).collect())
        .unwrap_or_else(|_| vec![10_000, 1_000_000]);
    let mut g = c.benchmark_group("state");
    g.sample_size(20);
    for n in sizes {
        let (dir, store) = filled(n);
        let round = Cell::new(1u64);
        g.bench_function(format!("prepare 1000 changes, {n} accounts"), |b| {
            b.iter_batched(
                || block_changes(n, round.get()),
                |ch| store.prepare_state(&ch).unwrap(),
                BatchSize::SmallInput,
            )
        });
        g.bench_function(format!("prepare+commit 1000 changes, {n} accounts"), |b| {
            b.iter_batched(
                || {
                    round.set(round.get() + 1);
                    block_changes(n, round.get())
                },
                |ch| {
                    commit_on_head(&store, &ch).unwrap();
                    store.sync().unwrap()
                },
                BatchSize::SmallInput,
            )
        });
        // Not timed: how many pages a commit writes at this size, the cause of its growth.
        let before = store.pages_written().unwrap();
        for _ in 0..10 {
            round.set(round.get() + 1);
            commit_on_head(&store, &block_changes(n, round.get())).unwrap();
        }
        let per_commit = (store.pages_written().unwrap() - before) / 10;
        eprintln!("{n} accounts: {per_commit} pages written per commit");
        // Opening the store again: mostly the rebuild of the in-memory account trie.
        drop(store);
        g.bench_function(format!("open, {n} accounts"), |b| {
            b.iter(|| Store::open(dir.path()).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
