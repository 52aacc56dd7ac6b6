//! Rolling the canonical head back one block, for reorgs: state history, trie and indexes
//! return to the parent, checked against the parent's state root, in one write transaction.
//! The block itself stays stored (as a side block) with its body and receipts.

use crate::commit::push_writes;
use crate::state::{account_key, storage_key};
use crate::store::{delete_prefix, Store};
use crate::trie::TrieUpdate;
use crate::{tables, StorageError};
use alloy_primitives::{keccak256, Address, B256, U256};
use scion_types::{Block, EMPTY_ROOT};
use signet_libmdbx::WriteFlags;
use std::collections::BTreeMap;

/// One account of a block's change set.
struct Touched {
    address: Address,
    wiped: bool,
    slots: Vec<U256>,
}

fn parse_changeset(raw: &[u8]) -> Result<Vec<Touched>, StorageError> {
    let corrupt = || StorageError::Corrupt("change set".into());
    let mut out = Vec::new();
    let mut rest = raw;
    while !rest.is_empty() {
        let head = rest.get(..25).ok_or_else(corrupt)?;
        let address = Address::from_slice(&head[..20]);
        let wiped = head[20] != 0;
        let count = u32::from_be_bytes([head[21], head[22], head[23], head[24]]) as usize;
        let body = rest.get(25..25 + count * 32).ok_or_else(corrupt)?;
        let slots = body.chunks_exact(32).map(U256::from_be_slice).collect();
        out.push(Touched {
            address,
            wiped,
            slots,
        });
        rest = &rest[25 + count * 32..];
    }
    Ok(out)
}

impl Store {
    /// Removes the canonical head block from the canonical chain and the state, making its
    /// parent the head. Returns the removed block.
    pub fn unwind_head(&self) -> Result<Block, StorageError> {
        let head = self.head()?;
        let number = head.number;
        if number == 0 {
            return Err(StorageError::Corrupt(
                "cannot unwind the genesis block".into(),
            ));
        }
        let hash = head.hash();
        let block = self
            .block(hash)?
            .ok_or_else(|| StorageError::Corrupt("head body missing".into()))?;
        let parent = self
            .header(head.parent_hash)?
            .ok_or_else(|| StorageError::Corrupt("head's parent missing".into()))?;
        let raw = self
            .get_raw(tables::CHANGESETS, &number.to_be_bytes())?
            .unwrap_or_default();
        let touched = parse_changeset(&raw)?;

        // The values before the block, and the trie brought back to them. The account trie is
        // locked first, as in `prepare_state`, and must be the head's.
        let account_trie = self.shared.account_trie.read();
        if account_trie.head() != hash {
            return Err(StorageError::Corrupt(format!(
                "the account trie is at {}, the head at {hash}",
                account_trie.head()
            )));
        }
        let before = self.state_at(number - 1)?;
        let txn = self.ro()?;
        let trie_db = txn.open_db(Some(tables::TRIE))?;
        let mut trie_writes: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        let mut drop_storage: Vec<B256> = Vec::new();
        let mut accounts = Vec::new();
        for t in &touched {
            let old = before.account(t.address)?;
            let owner = keccak256(t.address);
            let rebuild = t.wiped || old.is_none();
            if rebuild {
                drop_storage.push(owner);
            }
            if let Some(old) = old {
                if !t.slots.is_empty() || rebuild {
                    let load = |path: &[u8]| -> Result<Option<Vec<u8>>, StorageError> {
                        if rebuild {
                            return Ok(None);
                        }
                        Ok(txn.get(trie_db.dbi(), &[owner.as_slice(), path].concat())?)
                    };
                    let mut storage = TrieUpdate::new(&load);
                    for slot in &t.slots {
                        let k = keccak256(slot.to_be_bytes::<32>());
                        let v = before.storage(t.address, *slot)?;
                        if v.is_zero() {
                            storage.remove(k.as_slice())?;
                        } else {
                            storage.insert(k.as_slice(), alloy_rlp::encode(v))?;
                        }
                    }
                    let (root, writes) = storage.finish()?;
                    if root != old.storage_root
                        && !(rebuild && old.storage_root == EMPTY_ROOT && root == EMPTY_ROOT)
                    {
                        return Err(StorageError::Corrupt(format!(
                            "unwinding block {number}: storage of {} gives {root}, expected {}",
                            t.address, old.storage_root
                        )));
                    }
                    push_writes(&mut trie_writes, owner.as_slice(), writes);
                }
            }
            accounts.push((t.address, old));
        }
        let load =
            |path: &[u8]| -> Result<Option<Vec<u8>>, StorageError> { Ok(account_trie.get(path)) };
        let mut trie = TrieUpdate::new(&load);
        for (address, old) in &accounts {
            let key = keccak256(address);
            match old {
                Some(a) => trie.insert(key.as_slice(), a.rlp())?,
                None => trie.remove(key.as_slice())?,
            }
        }
        let (root, writes) = trie.finish()?;
        if root != parent.state_root {
            return Err(StorageError::Corrupt(format!(
                "unwinding block {number} gives state root {root}, parent has {}",
                parent.state_root
            )));
        }
        let account_writes = writes;
        drop(account_trie);
        drop(before);
        drop(txn);

        let slots: usize = touched.iter().map(|t| t.slots.len()).sum();
        let txn = self.begin_rw(2 * touched.len() + slots + trie_writes.len() + 16)?;
        let db = |name: &str| txn.open_db(Some(name));
        for t in &touched {
            let _ = txn.del(
                db(tables::ACCOUNT_HISTORY)?,
                account_key(t.address, number),
                None,
            )?;
            for slot in &t.slots {
                let _ = txn.del(
                    db(tables::STORAGE_HISTORY)?,
                    storage_key(t.address, *slot, number),
                    None,
                )?;
            }
        }
        for owner in &drop_storage {
            delete_prefix(&txn, db(tables::TRIE)?, owner.as_slice())?;
        }
        let trie = db(tables::TRIE)?;
        for (k, v) in &trie_writes {
            match v {
                Some(v) => txn.put(trie, k, v, WriteFlags::empty())?,
                None => {
                    let _ = txn.del(trie, k, None)?;
                }
            }
        }
        for tx in &block.transactions {
            let _ = txn.del(db(tables::TX_LOOKUP)?, tx.tx_hash().as_slice(), None)?;
        }
        let _ = txn.del(db(tables::CANONICAL)?, number.to_be_bytes(), None)?;
        let _ = txn.del(db(tables::CHANGESETS)?, number.to_be_bytes(), None)?;
        txn.put(
            db(tables::META)?,
            b"head",
            parent.hash().as_slice(),
            WriteFlags::empty(),
        )?;
        // Held across the commit, as in `commit_block`.
        let mut account_trie = self.shared.account_trie.write();
        txn.commit()?;
        account_trie.apply(account_writes, parent.hash());
        Ok(block)
    }
}
