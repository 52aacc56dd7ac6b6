//! Committing a block: its state changes applied to the tries in memory (`prepare_state`),
//! then the block, its receipts, indexes, state history and trie nodes written in one MDBX
//! transaction, and the in-memory account trie moved to it (`commit_block`).

use crate::state::{account_key, storage_key};
use crate::store::{be, delete_prefix, write_block, BlockInfo, Store};
use crate::trie::{NodeWrites, TrieUpdate};
use crate::{codec, tables, StorageError};
use alloy_consensus::ReceiptEnvelope;
use alloy_primitives::{keccak256, Address, B256, U256};
use scion_types::{Account, Block, StateChanges, EMPTY_ROOT};
use signet_libmdbx::{tx::aliases::RwTxSync, WriteFlags};
use std::collections::BTreeMap;

/// The result of applying a block's state changes to the trie, ready to commit.
#[derive(Debug, Default)]
pub struct StateUpdate {
    /// The new state root.
    pub state_root: B256,
    /// Accounts after the block (`None` = deleted), storage roots filled in.
    accounts: BTreeMap<Address, Option<Account>>,
    /// Accounts whose earlier storage is dropped.
    wiped: Vec<Address>,
    /// Storage-trie node writes under their full table keys.
    trie_writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Account-trie node writes, for the in-memory account trie once the block commits.
    account_writes: NodeWrites,
}

impl Store {
    /// Applies a block's state changes to the trie (in memory) on top of the head state, and
    /// returns the new root with everything needed to commit it.
    pub fn prepare_state(&self, changes: &StateChanges) -> Result<StateUpdate, StorageError> {
        // Locked before the snapshots are taken: a commit holds the write lock until both MDBX
        // and the in-memory account trie are at its block, so the two agree here.
        let accounts = self.shared.account_trie.read();
        let txn = self.ro()?;
        let trie_db = txn.open_db(Some(tables::TRIE))?;
        let state = self.state_at(u64::MAX)?;
        let head = state.head_hash().unwrap_or_default();
        if head != accounts.head() {
            return Err(StorageError::Corrupt(format!(
                "the account trie is at {}, the head at {head}",
                accounts.head()
            )));
        }
        let mut update = StateUpdate::default();
        let mut storage_roots: BTreeMap<Address, B256> = BTreeMap::new();

        for (addr, change) in &changes.accounts {
            if change.wiped {
                update.wiped.push(*addr);
            }
            if change.info.is_none() {
                continue;
            }
            let previous = state.account(*addr)?;
            let owner = keccak256(addr);
            let storage_root = if change.storage.is_empty() {
                match previous {
                    Some(prev) if !change.wiped => prev.storage_root,
                    _ => EMPTY_ROOT,
                }
            } else {
                let wiped = change.wiped;
                let load = |path: &[u8]| -> Result<Option<Vec<u8>>, StorageError> {
                    if wiped {
                        return Ok(None);
                    }
                    let key = [owner.as_slice(), path].concat();
                    Ok(txn.get(trie_db.dbi(), &key)?)
                };
                let mut trie = TrieUpdate::new(&load);
                for (slot, value) in &change.storage {
                    let k = keccak256(slot.to_be_bytes::<32>());
                    if value.is_zero() {
                        trie.remove(k.as_slice())?;
                    } else {
                        trie.insert(k.as_slice(), alloy_rlp::encode(value))?;
                    }
                }
                let (root, writes) = trie.finish()?;
                push_writes(&mut update.trie_writes, owner.as_slice(), writes);
                root
            };
            storage_roots.insert(*addr, storage_root);
        }

        let load =
            |path: &[u8]| -> Result<Option<Vec<u8>>, StorageError> { Ok(accounts.get(path)) };
        let mut trie = TrieUpdate::new(&load);
        for (addr, change) in &changes.accounts {
            let key = keccak256(addr);
            match &change.info {
                None => {
                    trie.remove(key.as_slice())?;
                    update.accounts.insert(*addr, None);
                }
                Some(info) => {
                    let account = Account {
                        nonce: info.nonce,
                        balance: info.balance,
                        storage_root: storage_roots.get(addr).copied().unwrap_or(EMPTY_ROOT),
                        code_hash: info.code_hash,
                    };
                    trie.insert(key.as_slice(), account.rlp())?;
                    update.accounts.insert(*addr, Some(account));
                }
            }
        }
        let (root, writes) = trie.finish()?;
        update.account_writes = writes;
        update.state_root = root;
        Ok(update)
    }

    /// Commits a block as the new canonical head, with its receipts and state, in one write
    /// transaction. `update` must come from [`Store::prepare_state`] on the current head.
    pub fn commit_block(
        &self,
        block: &Block,
        info: BlockInfo,
        senders: &[Address],
        receipts: &[ReceiptEnvelope],
        changes: &StateChanges,
        update: &StateUpdate,
    ) -> Result<(), StorageError> {
        if update.state_root != block.header.state_root {
            return Err(StorageError::Corrupt(format!(
                "block {} claims state root {} but its changes give {}",
                block.header.number, block.header.state_root, update.state_root
            )));
        }
        let hash = block.hash();
        let number = block.header.number;
        let slots: usize = changes.accounts.values().map(|c| c.storage.len()).sum();
        let keys = 3 * block.transactions.len()
            + 2 * changes.accounts.len()
            + 2 * slots
            + update.trie_writes.len()
            + 16;
        let txn = self.begin_rw(keys)?;
        let db = |name: &str| txn.open_db(Some(name));
        let put = |name: &str, k: &[u8], v: &[u8]| -> Result<(), StorageError> {
            txn.put(db(name)?, k, v, WriteFlags::empty())?;
            Ok(())
        };

        write_block(&txn, block, info)?;
        let senders_raw: Vec<u8> = senders.iter().flat_map(|a| a.0 .0).collect();
        put(tables::SENDERS, hash.as_slice(), &senders_raw)?;
        put(
            tables::RECEIPTS,
            hash.as_slice(),
            &codec::encode_receipts(receipts),
        )?;
        put(tables::CANONICAL, &be(number), hash.as_slice())?;
        for (i, tx) in block.transactions.iter().enumerate() {
            let loc = codec::encode_tx_location(number, i);
            put(tables::TX_LOOKUP, tx.tx_hash().as_slice(), &loc)?;
        }

        // State history and the change set.
        let mut changeset = Vec::new();
        let storage_db = db(tables::STORAGE_HISTORY)?;
        let mut zeroed: BTreeMap<Address, Vec<U256>> = BTreeMap::new();
        for addr in &update.wiped {
            // Every slot the account had gets a zero entry at this block.
            let written = changes.accounts.get(addr).map(|c| &c.storage);
            let live = live_slots(&txn, storage_db, *addr)?;
            let dropped: Vec<U256> = live
                .into_iter()
                .filter(|s| !written.is_some_and(|w| w.contains_key(s)))
                .collect();
            for slot in &dropped {
                put(
                    tables::STORAGE_HISTORY,
                    &storage_key(*addr, *slot, number),
                    &[0u8; 32],
                )?;
            }
            zeroed.insert(*addr, dropped);
            let owner = keccak256(addr);
            delete_prefix(&txn, db(tables::TRIE)?, owner.as_slice())?;
        }
        for (addr, account) in &update.accounts {
            let value = account
                .map(|a| codec::pack_account(&a.rlp()))
                .unwrap_or_default();
            put(tables::ACCOUNT_HISTORY, &account_key(*addr, number), &value)?;
            let change = changes.accounts.get(addr);
            let mut slots: Vec<U256> = change
                .map(|c| c.storage.keys().copied().collect())
                .unwrap_or_default();
            let wiped = zeroed.get(addr);
            slots.extend(wiped.into_iter().flatten());
            changeset.extend_from_slice(addr.as_slice());
            changeset.push(u8::from(wiped.is_some()));
            changeset.extend_from_slice(&(slots.len() as u32).to_be_bytes());
            for slot in &slots {
                changeset.extend_from_slice(&slot.to_be_bytes::<32>());
            }
            if let Some(change) = change {
                for (slot, value) in &change.storage {
                    put(
                        tables::STORAGE_HISTORY,
                        &storage_key(*addr, *slot, number),
                        &value.to_be_bytes::<32>(),
                    )?;
                }
                if let Some(code) = change.info.as_ref().and_then(|i| i.new_code.as_ref()) {
                    put(tables::CODE, keccak256(code).as_slice(), code)?;
                }
            }
        }
        put(tables::CHANGESETS, &be(number), &changeset)?;

        let trie = db(tables::TRIE)?;
        for (k, v) in &update.trie_writes {
            match v {
                Some(v) => txn.put(trie, k, v, WriteFlags::empty())?,
                None => {
                    txn.del(trie, k, None)?;
                }
            }
        }
        put(tables::META, b"head", hash.as_slice())?;
        // Held across the commit, so that no reader sees MDBX and the account trie apart.
        let mut accounts = self.shared.account_trie.write();
        if accounts.head() != block.header.parent_hash {
            // `update` was prepared on another head: refused, nothing written.
            return Err(StorageError::Corrupt(format!(
                "block {} builds on {}, but the account trie is at {}",
                number,
                block.header.parent_hash,
                accounts.head()
            )));
        }
        txn.commit()?;
        accounts.apply(update.account_writes.clone(), hash);
        Ok(())
    }
}

pub(crate) fn push_writes(
    out: &mut BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    owner: &[u8],
    writes: NodeWrites,
) {
    for (path, v) in writes {
        out.insert([owner, path.as_slice()].concat(), v);
    }
}

/// Slots with a non-zero latest value for an account.
fn live_slots(
    txn: &RwTxSync,
    db: signet_libmdbx::Database,
    addr: Address,
) -> Result<Vec<U256>, StorageError> {
    let mut cursor = txn.cursor(db)?;
    let mut latest: BTreeMap<U256, bool> = BTreeMap::new();
    let mut entry: Option<(Vec<u8>, Vec<u8>)> = cursor.set_range(addr.as_slice())?;
    while let Some((k, v)) = entry {
        if !k.starts_with(addr.as_slice()) || k.len() != 60 {
            break;
        }
        let slot = U256::from_be_slice(&k[20..52]);
        latest.insert(slot, v.iter().any(|b| *b != 0));
        entry = cursor.next()?;
    }
    Ok(latest
        .into_iter()
        .filter(|(_, live)| *live)
        .map(|(s, _)| s)
        .collect())
}
