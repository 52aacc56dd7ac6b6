//! The account trie's nodes, held in memory instead of in the TrieNodes table.
//!
//! At 1,000,000 accounts, writing a block's account-trie nodes to MDBX dirtied about 3,100
//! scattered pages per 1,000 changed accounts, and reading the nodes near the leaves missed
//! every cache: a commit cost 2.4–2.9× what it cost at 10,000 accounts. With the nodes here the
//! commit benchmark grew 1.5–1.7× (docs/PERFORMANCE.md, "State growth"). The map costs about
//! 151 MiB at 1M accounts, while the 213 MiB of trie pages leave the mapped file.
//!
//! Nothing of it is written to disk: the store rebuilds it when it opens, from the latest value
//! of every account in AccountHistory (an unwind deletes the unwound block's entries, so those
//! are the head's state), and checks the root against the head's header. That took 6.7 s at
//! 1M accounts. Changes are applied only after the MDBX transaction that makes them durable
//! has committed, so a refused commit leaves the map as it was.

use crate::trie::{NodeWrites, TrieUpdate};
use crate::{codec, tables, StorageError};
use alloy_primitives::{keccak256, Address, B256};
use scion_types::Header;
use signet_libmdbx::tx::aliases::RoTxSync;
use std::collections::HashMap;

/// The account trie at one block: nodes by their path, as the trie code reads and writes them.
#[derive(Debug, Default)]
pub(crate) struct AccountTrie {
    /// Boxed slices, not vectors: no spare capacity and no length-and-capacity header for
    /// each of about 1.4 million nodes at 1M accounts.
    nodes: HashMap<Box<[u8]>, Box<[u8]>>,
    /// The block whose state these nodes are (zero before genesis).
    head: B256,
}

impl AccountTrie {
    /// The trie of the state after `head`, built from the latest AccountHistory entries.
    pub(crate) fn rebuild(txn: &RoTxSync, head: &Header) -> Result<Self, StorageError> {
        let db = txn.open_db(Some(tables::ACCOUNT_HISTORY))?;
        let mut cursor = txn.cursor(db)?;
        // Keys are address ‖ block number, so each address's entries are adjacent and in
        // block order: the last one at or below the head is its current value.
        let mut latest: Vec<(Address, Vec<u8>)> = Vec::new();
        let mut entry: Option<(Vec<u8>, Vec<u8>)> = cursor.first()?;
        while let Some((k, v)) = entry {
            let (addr, number) = split_key(&k)?;
            if number <= head.number {
                match latest.last_mut() {
                    Some((a, value)) if *a == addr => *value = v,
                    _ => latest.push((addr, v)),
                }
            }
            entry = cursor.next()?;
        }
        drop(cursor);
        let empty = |_: &[u8]| -> Result<Option<Vec<u8>>, StorageError> { Ok(None) };
        let mut trie = TrieUpdate::new(&empty);
        for (addr, value) in latest {
            let account = codec::decode_account(&value)
                .map_err(|e| StorageError::Corrupt(format!("account {addr}: {e}")))?;
            if let Some(account) = account {
                trie.insert(keccak256(addr).as_slice(), account.rlp())?;
            }
        }
        let (root, writes) = trie.finish()?;
        if root != head.state_root {
            return Err(StorageError::Corrupt(format!(
                "the accounts after block {} give state root {root}, its header says {}",
                head.number, head.state_root
            )));
        }
        let mut out = Self::default();
        out.apply(writes, head.hash());
        Ok(out)
    }

    /// The node stored at `path`.
    pub(crate) fn get(&self, path: &[u8]) -> Option<Vec<u8>> {
        self.nodes.get(path).map(|n| n.to_vec())
    }

    /// The block whose state this is.
    pub(crate) fn head(&self) -> B256 {
        self.head
    }

    /// Applies a committed block's (or unwind's) node writes; the trie is then `head`'s.
    pub(crate) fn apply(&mut self, writes: NodeWrites, head: B256) {
        for (path, node) in writes {
            match node {
                Some(node) => self.nodes.insert(path.into(), node.into()),
                None => self.nodes.remove(path.as_slice()),
            };
        }
        self.head = head;
    }
}

/// Address and block number of an AccountHistory key.
fn split_key(k: &[u8]) -> Result<(Address, u64), StorageError> {
    let corrupt = || StorageError::Corrupt(format!("account history key of {} bytes", k.len()));
    let (addr, number) = (k.get(..20).ok_or_else(corrupt)?, k.get(20..28));
    let number = number
        .and_then(|n| n.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(corrupt)?;
    Ok((Address::from_slice(addr), number))
}
