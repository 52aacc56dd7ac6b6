//! The store on a real MDBX environment: state roots against an independent trie
//! implementation (alloy-trie's HashBuilder), state history at past blocks, persistence.

mod support;

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_trie::{HashBuilder, Nibbles};
use rand::{Rng, SeedableRng};
use scion_storage::{BlockInfo, StorageError, Store};
use scion_types::{
    Account, AccountChange, AccountInfo, Block, ChainSpec, Header, StateChanges, EMPTY_ROOT,
    KECCAK_EMPTY,
};
use std::collections::BTreeMap;
use support::{balance_change, commit_on_head};

/// The full state: account fields and storage.
type Model = BTreeMap<Address, (u64, U256, B256, BTreeMap<U256, U256>)>;

fn trie_root(leaves: impl IntoIterator<Item = (B256, Vec<u8>)>) -> B256 {
    let sorted: BTreeMap<B256, Vec<u8>> = leaves.into_iter().collect();
    let mut hb = HashBuilder::default();
    for (k, v) in &sorted {
        hb.add_leaf(Nibbles::unpack(k), v);
    }
    hb.root()
}

fn reference_root(model: &Model) -> B256 {
    trie_root(
        model
            .iter()
            .map(|(addr, (nonce, balance, code_hash, storage))| {
                let storage_root = trie_root(
                    storage
                        .iter()
                        .filter(|(_, v)| !v.is_zero())
                        .map(|(k, v)| (keccak256(k.to_be_bytes::<32>()), alloy_rlp::encode(v))),
                );
                let acc = Account {
                    nonce: *nonce,
                    balance: *balance,
                    storage_root,
                    code_hash: *code_hash,
                };
                (keccak256(addr), acc.rlp())
            }),
    )
}

#[test]
fn genesis_root_matches_an_independent_trie() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = ChainSpec::dev();
    // Give one account storage so that storage roots are covered too.
    let first = *spec.alloc.keys().next().unwrap();
    let slots = spec.alloc.get_mut(&first).unwrap();
    slots
        .storage
        .insert(B256::with_last_byte(1), U256::from(42));
    slots.storage.insert(B256::with_last_byte(2), U256::MAX);

    let store = Store::open(dir.path()).unwrap();
    let header = store.init_genesis(&spec).unwrap();
    let model: Model = spec
        .alloc
        .iter()
        .map(|(a, g)| {
            let storage = g.storage.iter().map(|(k, v)| ((*k).into(), *v)).collect();
            (
                *a,
                (g.nonce, g.balance, Account::code_hash_of(&g.code), storage),
            )
        })
        .collect();
    assert_eq!(header.state_root, reference_root(&model));
    assert_ne!(header.state_root, EMPTY_ROOT);
    // Code and storage are readable at block 0.
    let state = store.state_at(0).unwrap();
    assert_eq!(state.storage(first, U256::from(2)).unwrap(), U256::MAX);
    let mc3: Address = "0xcA11bde05977b3631167028862bE2a173976CA11"
        .parse()
        .unwrap();
    let acc = state.account(mc3).unwrap().unwrap();
    assert_eq!(state.code(acc.code_hash).unwrap().len(), 3808);
}

/// Sixty blocks of random account and storage changes (creations, updates, deletions,
/// storage wipes): after every block the root equals a from-scratch rebuild, and reads at
/// every past block return what the state was then.
#[test]
fn random_blocks_keep_root_and_history_exact() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let addrs: Vec<Address> = (0..40u8).map(|i| Address::with_last_byte(i + 1)).collect();
    let mut model: Model = BTreeMap::new();
    let mut snapshots: Vec<Model> = Vec::new();
    store.init_genesis(&empty_spec()).unwrap();
    snapshots.push(model.clone());

    for number in 1..60u64 {
        let mut changes = StateChanges::default();
        for _ in 0..rng.random_range(1..12) {
            let addr = addrs[rng.random_range(0..addrs.len())];
            let roll: f64 = rng.random();
            let change = if roll < 0.1 && model.contains_key(&addr) {
                model.remove(&addr);
                AccountChange {
                    info: None,
                    wiped: true,
                    storage: BTreeMap::new(),
                }
            } else {
                let wiped = roll < 0.2;
                let entry =
                    model
                        .entry(addr)
                        .or_insert((0, U256::ZERO, KECCAK_EMPTY, BTreeMap::new()));
                if wiped {
                    entry.3.clear();
                }
                entry.0 += 1;
                entry.1 = U256::from(rng.random::<u64>());
                let mut storage = BTreeMap::new();
                for _ in 0..rng.random_range(0..6) {
                    let slot = U256::from(rng.random_range(0..20u64));
                    let value = if rng.random_bool(0.3) {
                        U256::ZERO
                    } else {
                        U256::from(rng.random::<u32>())
                    };
                    storage.insert(slot, value);
                    if value.is_zero() {
                        entry.3.remove(&slot);
                    } else {
                        entry.3.insert(slot, value);
                    }
                }
                let info = AccountInfo {
                    nonce: entry.0,
                    balance: entry.1,
                    code_hash: KECCAK_EMPTY,
                    new_code: None,
                };
                AccountChange {
                    info: Some(info),
                    wiped,
                    storage,
                }
            };
            // Several changes to one account in a block merge as the executor merges them.
            let slot_entry = changes.accounts.entry(addr).or_default();
            if change.wiped {
                *slot_entry = change;
            } else {
                slot_entry.info = change.info;
                slot_entry.storage.extend(change.storage);
            }
        }
        let root = commit_on_head(&store, &changes).unwrap();
        assert_eq!(root, reference_root(&model), "block {number}");
        snapshots.push(model.clone());
    }

    check_history(&store, &snapshots, &addrs);

    // Unwind back to block 0, one block at a time: each step lands exactly on the earlier
    // state (unwind_head checks the parent's root itself) and reads agree again.
    for number in (1..60u64).rev() {
        let removed = store
            .unwind_head()
            .unwrap_or_else(|e| panic!("unwinding {number}: {e}"));
        assert_eq!(removed.header.number, number);
        let head = store.head().unwrap();
        assert_eq!(head.number, number - 1);
        assert_eq!(
            head.state_root,
            reference_root(&snapshots[number as usize - 1])
        );
        assert_eq!(store.canonical_hash(number).unwrap(), None);
        if number % 10 == 0 {
            check_history(&store, &snapshots[..number as usize], &addrs);
        }
    }
    // Going forward again from the unwound state reproduces the same roots.
    let mut model = snapshots[0].clone();
    let a = addrs[0];
    let entry = model
        .entry(a)
        .or_insert((0, U256::ZERO, KECCAK_EMPTY, BTreeMap::new()));
    entry.0 += 1;
    entry.3.insert(U256::from(1), U256::from(5));
    let mut changes = StateChanges::default();
    let info = AccountInfo {
        nonce: entry.0,
        balance: entry.1,
        code_hash: KECCAK_EMPTY,
        new_code: None,
    };
    changes.accounts.insert(
        a,
        AccountChange {
            info: Some(info),
            wiped: false,
            storage: [(U256::from(1), U256::from(5))].into(),
        },
    );
    assert_eq!(
        commit_on_head(&store, &changes).unwrap(),
        reference_root(&model)
    );
}

fn check_history(store: &Store, snapshots: &[Model], addrs: &[Address]) {
    for (number, snap) in snapshots.iter().enumerate() {
        let state = store.state_at(number as u64).unwrap();
        for addr in addrs {
            let acc = state.account(*addr).unwrap();
            match snap.get(addr) {
                None => assert_eq!(acc, None, "block {number} {addr}"),
                Some((nonce, balance, _, storage)) => {
                    let acc = acc.unwrap();
                    assert_eq!(
                        (acc.nonce, acc.balance),
                        (*nonce, *balance),
                        "block {number}"
                    );
                    for slot in 0..20u64 {
                        let want = storage.get(&U256::from(slot)).copied().unwrap_or_default();
                        let got = state.storage(*addr, U256::from(slot)).unwrap();
                        assert_eq!(got, want, "block {number} {addr} slot {slot}");
                    }
                }
            }
        }
    }
}

/// A chain spec with nothing allocated, so that block 0's state is empty.
fn empty_spec() -> ChainSpec {
    let mut spec = ChainSpec::dev();
    spec.alloc.clear();
    spec
}

#[test]
fn reopening_keeps_the_head_and_refuses_another_chain() {
    let dir = tempfile::tempdir().unwrap();
    let spec = ChainSpec::dev();
    let a = Address::with_last_byte(9);
    {
        let store = Store::open(dir.path()).unwrap();
        store.init_genesis(&spec).unwrap();
        let mut changes = StateChanges::default();
        let info = AccountInfo {
            nonce: 1,
            balance: U256::from(5),
            code_hash: keccak256([1]),
            new_code: Some(Bytes::from(vec![1])),
        };
        changes.accounts.insert(
            a,
            AccountChange {
                info: Some(info),
                wiped: false,
                storage: BTreeMap::new(),
            },
        );
        commit_on_head(&store, &changes).unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    store.init_genesis(&spec).unwrap();
    assert_eq!(store.head().unwrap().number, 1);
    let state = store.state_at(1).unwrap();
    assert_eq!(state.account(a).unwrap().unwrap().balance, U256::from(5));
    assert_eq!(state.code(keccak256([1])).unwrap(), vec![1]);
    assert_eq!(store.state_at(0).unwrap().account(a).unwrap(), None);
    // A read transaction keeps the environment open; close everything before reopening.
    drop(state);
    drop(store);

    let mut other = ChainSpec::dev();
    other.chain_id = 1;
    other.alloc.clear();
    let store = Store::open(dir.path()).unwrap();
    let err = store.init_genesis(&other).unwrap_err();
    assert!(matches!(err, StorageError::GenesisMismatch { .. }), "{err}");
}

#[test]
fn a_block_whose_root_does_not_match_its_changes_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.init_genesis(&ChainSpec::dev()).unwrap();
    let mut changes = StateChanges::default();
    let info = AccountInfo {
        nonce: 1,
        balance: U256::from(1),
        code_hash: KECCAK_EMPTY,
        new_code: None,
    };
    changes.accounts.insert(
        Address::with_last_byte(1),
        AccountChange {
            info: Some(info),
            ..Default::default()
        },
    );
    let update = store.prepare_state(&changes).unwrap();
    let header = Header {
        number: 1,
        state_root: B256::repeat_byte(1),
        ..Default::default()
    };
    let block = Block {
        header,
        transactions: vec![],
        uncles: vec![],
    };
    assert!(store
        .commit_block(&block, BlockInfo::default(), &[], &[], &changes, &update)
        .is_err());
    assert_eq!(
        store.head().unwrap().number,
        0,
        "nothing of the bad block is stored"
    );
}

#[test]
fn a_database_of_another_format_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.init_genesis(&ChainSpec::dev()).unwrap();
    drop(store);
    // Rewrite the stored format as an older build would have left it.
    let env = raw_env(dir.path());
    let txn = env.begin_rw_sync().unwrap();
    let meta = txn.open_db(Some(scion_storage::tables::META)).unwrap();
    txn.del(meta, b"version", None).unwrap();
    txn.commit().unwrap();
    drop(env);

    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StorageError::Format { found: 1, expected, .. } if expected == scion_storage::FORMAT),
        "{err}"
    );
    assert!(err.to_string().contains("Move the directory away"), "{err}");
}

#[test]
fn contract_code_is_read_analysed_and_found_once_a_block_stores_it() {
    use revm::database_interface::DatabaseRef;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.init_genesis(&empty_spec()).unwrap();
    // PUSH1 4 JUMP INVALID JUMPDEST STOP: offset 4 is a jump destination, offset 3 is not.
    let code = Bytes::from(vec![0x60, 0x04, 0x56, 0xfe, 0x5b, 0x00]);
    let hash = keccak256(&code);
    // Not stored yet: empty, and a later block's code must not be hidden by this answer.
    assert!(store
        .state_at(0)
        .unwrap()
        .code_by_hash_ref(hash)
        .unwrap()
        .is_empty());

    let mut changes = StateChanges::default();
    changes.accounts.insert(
        Address::with_last_byte(7),
        AccountChange {
            info: Some(AccountInfo {
                nonce: 1,
                balance: U256::ZERO,
                code_hash: hash,
                new_code: Some(code.clone()),
            }),
            wiped: false,
            storage: BTreeMap::new(),
        },
    );
    commit_on_head(&store, &changes).unwrap();
    // Every reader, the first and the later ones (served from the code cache), gets the code
    // with its jump destinations analysed.
    for _ in 0..3 {
        let got = store.state_at(1).unwrap().code_by_hash_ref(hash).unwrap();
        assert_eq!(got.original_bytes(), code);
        let jumps = got.legacy_jump_table().expect("analysed legacy code");
        assert!(jumps.is_valid(4));
        assert!(!jumps.is_valid(3));
    }
}

/// With 3,000 accounts (three levels of branches) and blocks that create, update and delete
/// accounts, every root stays exact: forward, after unwinding five blocks, along a diverging
/// branch of blocks from there, and after reopening the store.
#[test]
fn roots_stay_exact_across_unwinds_and_diverging_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.init_genesis(&empty_spec()).unwrap();
    let addrs: Vec<Address> = (0..3_000u64)
        .map(|i| Address::from_slice(&keccak256(i.to_be_bytes())[12..]))
        .collect();
    let mut model: Model = BTreeMap::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let block = |store: &Store, model: &mut Model, rng: &mut rand::rngs::StdRng, size| {
        let mut changes = StateChanges::default();
        for _ in 0..size {
            let addr = addrs[rng.random_range(0..addrs.len())];
            if rng.random_bool(0.2) && model.remove(&addr).is_some() {
                let gone = AccountChange {
                    info: None,
                    wiped: true,
                    storage: BTreeMap::new(),
                };
                changes.accounts.insert(addr, gone);
                continue;
            }
            let balance = U256::from(rng.random::<u64>());
            model.insert(addr, (1, balance, KECCAK_EMPTY, BTreeMap::new()));
            let info = AccountInfo {
                nonce: 1,
                balance,
                code_hash: KECCAK_EMPTY,
                new_code: None,
            };
            let change = AccountChange {
                info: Some(info),
                wiped: false,
                storage: BTreeMap::new(),
            };
            changes.accounts.insert(addr, change);
        }
        let root = commit_on_head(store, &changes).unwrap();
        assert_eq!(root, reference_root(model));
    };
    block(&store, &mut model, &mut rng, 2_500);
    let mut snapshots = vec![model.clone()];
    for _ in 0..10 {
        block(&store, &mut model, &mut rng, 300);
        snapshots.push(model.clone());
    }
    for _ in 0..5 {
        store.unwind_head().unwrap();
        snapshots.pop();
    }
    let mut model = snapshots.pop().unwrap();
    assert_eq!(store.head().unwrap().state_root, reference_root(&model));
    for _ in 0..5 {
        block(&store, &mut model, &mut rng, 300);
    }
    drop(store);
    store = Store::open(dir.path()).unwrap();
    block(&store, &mut model, &mut rng, 300);
}

#[test]
fn a_format_2_database_moves_its_account_trie_out_of_the_trie_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.init_genesis(&empty_spec()).unwrap();
    let mut changes = StateChanges::default();
    for i in 0..50u64 {
        changes.accounts.insert(
            Address::from_slice(&keccak256(i.to_be_bytes())[12..]),
            balance_change(1 + i),
        );
    }
    let root = commit_on_head(&store, &changes).unwrap();
    drop(store);
    // As a format-2 build left it: account-trie nodes (owner zero) in TrieNodes, version 2.
    let env = raw_env(dir.path());
    let txn = env.begin_rw_sync().unwrap();
    let trie = txn.open_db(Some(scion_storage::tables::TRIE)).unwrap();
    for k in [&[0u8; 32][..], &[[0u8; 32].as_slice(), &[1, 2]].concat()] {
        txn.put(trie, k, b"stale", signet_libmdbx::WriteFlags::empty())
            .unwrap();
    }
    let meta = txn.open_db(Some(scion_storage::tables::META)).unwrap();
    txn.put(
        meta,
        b"version",
        2u32.to_be_bytes(),
        signet_libmdbx::WriteFlags::empty(),
    )
    .unwrap();
    txn.commit().unwrap();
    drop(env);

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.head().unwrap().state_root, root);
    // The account trie was rebuilt from the accounts: the next block's root is exact.
    let mut next = StateChanges::default();
    next.accounts
        .insert(Address::repeat_byte(7), balance_change(5));
    let root = commit_on_head(&store, &next).unwrap();
    drop(store);
    let env = raw_env(dir.path());
    let txn = env.begin_ro_sync().unwrap();
    let meta = txn.open_db(Some(scion_storage::tables::META)).unwrap();
    let version: Vec<u8> = txn.get(meta.dbi(), b"version").unwrap().unwrap();
    assert_eq!(version, scion_storage::FORMAT.to_be_bytes());
    let trie = txn.open_db(Some(scion_storage::tables::TRIE)).unwrap();
    let mut cursor = txn.cursor(trie).unwrap();
    let first: Option<(Vec<u8>, Vec<u8>)> = cursor.first().unwrap();
    assert!(
        first.is_none_or(|(k, _)| k[..32] != [0u8; 32]),
        "account-trie nodes left"
    );
    drop(cursor);
    drop(txn);
    drop(env);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.head().unwrap().state_root, root);
}

#[test]
fn an_account_proof_read_after_a_newer_commit_asks_to_be_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.init_genesis(&empty_spec()).unwrap();
    let addr = Address::repeat_byte(9);
    let mut changes = StateChanges::default();
    changes.accounts.insert(addr, balance_change(1));
    commit_on_head(&store, &changes).unwrap();
    let old = store.state_at(u64::MAX).unwrap();
    changes.accounts.insert(addr, balance_change(2));
    let root = commit_on_head(&store, &changes).unwrap();
    assert!(matches!(
        old.account_proof(addr),
        Err(StorageError::HeadMoved)
    ));
    let proof = store
        .state_at(u64::MAX)
        .unwrap()
        .account_proof(addr)
        .unwrap();
    assert_eq!(keccak256(&proof[0]), root);
}

#[test]
fn a_block_prepared_on_an_earlier_head_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.init_genesis(&empty_spec()).unwrap();
    let parent = store.head().unwrap();
    let mut first = StateChanges::default();
    first
        .accounts
        .insert(Address::repeat_byte(1), balance_change(1));
    let stale = store.prepare_state(&first).unwrap();
    let mut other = StateChanges::default();
    other
        .accounts
        .insert(Address::repeat_byte(2), balance_change(2));
    commit_on_head(&store, &other).unwrap();
    let head = store.head().unwrap();
    let block = Block {
        header: Header {
            number: parent.number + 1,
            parent_hash: parent.hash(),
            state_root: stale.state_root,
            ..Default::default()
        },
        transactions: vec![],
        uncles: vec![],
    };
    let err = store
        .commit_block(&block, BlockInfo::default(), &[], &[], &first, &stale)
        .unwrap_err();
    assert!(err.to_string().contains("builds on"), "{err}");
    assert_eq!(store.head().unwrap(), head);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.head().unwrap(), head);
}

/// The store's MDBX environment opened directly, to write what an older build left.
fn raw_env(dir: &std::path::Path) -> signet_libmdbx::Environment {
    signet_libmdbx::Environment::builder()
        .set_max_dbs(32)
        .open(dir)
        .unwrap()
}
