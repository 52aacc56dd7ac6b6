//! EIP-1186 proofs from a real store (`StateDb::account_proof`, `StateDb::storage_proof`)
//! verified with alloy-trie's `verify_proof` against the state root and the storage roots:
//! present accounts and slots prove their values, absent ones (never written, or deleted in a
//! later block) prove their absence, and a proof never verifies a value it does not hold.

mod support;

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_trie::proof::{verify_proof, ProofVerificationError};
use alloy_trie::{HashBuilder, Nibbles};
use scion_storage::Store;
use scion_types::{
    Account, AccountChange, AccountInfo, ChainSpec, StateChanges, EMPTY_ROOT, KECCAK_EMPTY,
};
use std::collections::BTreeMap;
use support::commit_on_head;

/// Expected state: address → (nonce, balance, storage).
type Model = BTreeMap<Address, (u64, U256, BTreeMap<U256, U256>)>;

fn storage_root(storage: &BTreeMap<U256, U256>) -> B256 {
    let leaves: BTreeMap<B256, Vec<u8>> = storage
        .iter()
        .map(|(k, v)| (keccak256(k.to_be_bytes::<32>()), alloy_rlp::encode(v)))
        .collect();
    let mut hb = HashBuilder::default();
    for (k, v) in &leaves {
        hb.add_leaf(Nibbles::unpack(k), v);
    }
    hb.root()
}

fn account(model: &Model, addr: &Address) -> Account {
    let (nonce, balance, storage) = &model[addr];
    Account {
        nonce: *nonce,
        balance: *balance,
        storage_root: storage_root(storage),
        code_hash: KECCAK_EMPTY,
    }
}

fn nodes(proof: Vec<Vec<u8>>) -> Vec<Bytes> {
    proof.into_iter().map(Bytes::from).collect()
}

fn slot_key(slot: U256) -> Nibbles {
    Nibbles::unpack(keccak256(slot.to_be_bytes::<32>()))
}

/// An account write: nonce, balance and slots written (a zero value deletes the slot).
type Write = (u64, u64, Vec<(u64, u64)>);

/// Applies `writes` to the model and commits them as one block; `None` deletes the account.
fn commit(store: &Store, model: &mut Model, writes: Vec<(Address, Option<Write>)>) -> B256 {
    let mut changes = StateChanges::default();
    for (addr, w) in writes {
        let change = match w {
            None => {
                model.remove(&addr);
                AccountChange {
                    info: None,
                    wiped: true,
                    storage: BTreeMap::new(),
                }
            }
            Some((nonce, balance, slots)) => {
                let entry = model.entry(addr).or_default();
                entry.0 = nonce;
                entry.1 = U256::from(balance);
                let mut storage = BTreeMap::new();
                for (k, v) in slots {
                    let (k, v) = (U256::from(k), U256::from(v));
                    storage.insert(k, v);
                    if v.is_zero() {
                        entry.2.remove(&k);
                    } else {
                        entry.2.insert(k, v);
                    }
                }
                AccountChange {
                    info: Some(AccountInfo {
                        nonce,
                        balance: U256::from(balance),
                        code_hash: KECCAK_EMPTY,
                        new_code: None,
                    }),
                    wiped: false,
                    storage,
                }
            }
        };
        changes.accounts.insert(addr, change);
    }
    commit_on_head(store, &changes).unwrap()
}

#[test]
fn account_and_storage_proofs_verify_against_the_roots() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut spec = ChainSpec::dev();
    spec.alloc.clear();
    store.init_genesis(&spec).unwrap();
    let mut model = Model::new();

    // Block 1: sixty accounts (branches and extensions in the account trie); one with many
    // slots, one with a single slot (its storage trie is one leaf), the rest with none.
    let addrs: Vec<Address> = (1..=60u8).map(Address::with_last_byte).collect();
    let mut writes = Vec::new();
    for (i, a) in addrs.iter().enumerate() {
        let slots = match i {
            0 => (0..40u64).map(|s| (s, s * 1_000 + 1)).collect(),
            1 => vec![(7, 0x2a)],
            _ => vec![],
        };
        writes.push((*a, Some((i as u64, 10u64.pow(i as u32 % 19), slots))));
    }
    commit(&store, &mut model, writes);
    // Block 2: a slot is zeroed, another changes, an account is deleted.
    let root = commit(
        &store,
        &mut model,
        vec![
            (addrs[0], Some((100, 5, vec![(3, 0), (4, 99)]))),
            (addrs[59], None),
        ],
    );
    assert_eq!(store.head().unwrap().state_root, root);
    let state = store.state_at(u64::MAX).unwrap();

    for addr in &addrs[..59] {
        let want = account(&model, addr);
        let proof = nodes(state.account_proof(*addr).unwrap());
        let key = Nibbles::unpack(keccak256(addr));
        verify_proof(root, key, Some(want.rlp()), &proof)
            .unwrap_or_else(|e| panic!("account {addr}: {e}"));
        // The same proof does not verify another value, nor absence, nor another root.
        let mut other = want;
        other.nonce += 1;
        assert!(matches!(
            verify_proof(root, key, Some(other.rlp()), &proof),
            Err(ProofVerificationError::ValueMismatch { .. })
        ));
        assert!(matches!(
            verify_proof(root, key, None, &proof),
            Err(ProofVerificationError::ValueMismatch { .. })
        ));
        assert!(matches!(
            verify_proof(B256::repeat_byte(1), key, Some(want.rlp()), &proof),
            Err(ProofVerificationError::ValueMismatch { .. })
        ));

        let storage = &model[addr].2;
        for slot in (0..45u64).map(U256::from) {
            let proof = nodes(state.storage_proof(*addr, B256::from(slot)).unwrap());
            let value = storage.get(&slot).map(alloy_rlp::encode);
            verify_proof(want.storage_root, slot_key(slot), value.clone(), &proof)
                .unwrap_or_else(|e| panic!("account {addr} slot {slot}: {e}"));
            if value.is_some() {
                assert!(matches!(
                    verify_proof(want.storage_root, slot_key(slot), None, &proof),
                    Err(ProofVerificationError::ValueMismatch { .. })
                ));
            }
        }
        if storage.is_empty() {
            assert_eq!(want.storage_root, EMPTY_ROOT);
        }
    }
    // The zeroed slot and the rewritten one.
    assert!(!model[&addrs[0]].2.contains_key(&U256::from(3)));
    assert_eq!(model[&addrs[0]].2[&U256::from(4)], U256::from(99));

    // Absent accounts: never written, and deleted in block 2.
    for addr in (0..20u8)
        .map(|i| Address::repeat_byte(0x80 + i))
        .chain([addrs[59]])
    {
        let proof = nodes(state.account_proof(addr).unwrap());
        assert!(
            !proof.is_empty(),
            "an absence proof still starts at the root"
        );
        let key = Nibbles::unpack(keccak256(addr));
        verify_proof(root, key, None, &proof).unwrap_or_else(|e| panic!("absent {addr}: {e}"));
        let claimed = Account::default().rlp();
        assert!(matches!(
            verify_proof(root, key, Some(claimed), &proof),
            Err(ProofVerificationError::ValueMismatch { .. })
        ));
    }
}
