//! The account trie's nodes, held in memory instead of in the TrieNodes table (the storage
//! tries stay in MDBX): at a million accounts, writing and reading these nodes was most of a
//! block commit's growth. docs/PERFORMANCE.md ("State growth") has the measurements.
//!
//! Nothing of it is written to disk. The store rebuilds it when it opens
//! ([`AccountTrie::rebuild`]), from the latest value of every account in AccountHistory (an
//! unwind deletes the unwound block's entries, so those are the head's state), and checks the
//! root against the head's header; [`build`] makes the trie bottom-up from the accounts sorted
//! by hashed key, every node once. Changes are applied only after the MDBX transaction that
//! makes them durable has committed, so a refused commit leaves the map as it was.

use crate::trie::{node_ref, Node, NodeWrites};
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
        let mut leaves = Vec::with_capacity(latest.len());
        for (addr, value) in latest {
            let account = codec::decode_account(&value)
                .map_err(|e| StorageError::Corrupt(format!("account {addr}: {e}")))?;
            if let Some(account) = account {
                leaves.push((keccak256(addr), account.rlp()));
            }
        }
        leaves.sort_unstable_by_key(|(k, _)| *k);
        let mut out = Self {
            // About 1.36 nodes per account at 1M accounts: no rehash while the map fills.
            nodes: HashMap::with_capacity(leaves.len() + leaves.len() / 2),
            head: head.hash(),
        };
        let root = build(&leaves, &mut |path, node| {
            out.nodes.insert(path.into(), node.into());
        })?;
        if root != head.state_root {
            return Err(StorageError::Corrupt(format!(
                "the accounts after block {} give state root {root}, its header says {}",
                head.number, head.state_root
            )));
        }
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

/// Builds the trie holding `leaves` (sorted by key, keys distinct) and returns its root. Each
/// node goes to `out` once, under its path and in its stored form, as `TrieUpdate` would have
/// written it.
pub(crate) fn build(
    leaves: &[(B256, Vec<u8>)],
    out: &mut dyn FnMut(&[u8], Vec<u8>),
) -> Result<B256, StorageError> {
    if leaves.is_empty() {
        return Ok(scion_types::EMPTY_ROOT);
    }
    Ok(keccak256(build_at(leaves, &mut Vec::new(), out)?))
}

/// Nibble `i` of a key.
fn nibble(key: &B256, i: usize) -> u8 {
    let b = key[i / 2];
    if i.is_multiple_of(2) {
        b >> 4
    } else {
        b & 0x0f
    }
}

/// The node over `leaves`, all of whose keys start with `path`: written to `out`, and its RLP
/// returned.
fn build_at(
    leaves: &[(B256, Vec<u8>)],
    path: &mut Vec<u8>,
    out: &mut dyn FnMut(&[u8], Vec<u8>),
) -> Result<Vec<u8>, StorageError> {
    let depth = path.len();
    let node = match leaves {
        [(key, value)] => Node::Leaf {
            key: (depth..64).map(|i| nibble(key, i)).collect(),
            value: value.clone(),
        },
        [(first, _), .., (last, _)] => {
            // Sorted, so the nibbles all the keys share are those the first and last share.
            let shared = (depth..64)
                .find(|&i| nibble(first, i) != nibble(last, i))
                .ok_or_else(|| StorageError::Corrupt(format!("account key {first} twice")))?;
            if shared > depth {
                let key: Vec<u8> = (depth..shared).map(|i| nibble(first, i)).collect();
                path.extend_from_slice(&key);
                let child = node_ref(&build_at(leaves, path, out)?);
                path.truncate(depth);
                Node::Ext { key, child }
            } else {
                let mut children: Box<[Option<Vec<u8>>; 16]> = Box::default();
                let mut rest = leaves;
                while let Some((key, _)) = rest.first() {
                    let n = nibble(key, depth);
                    let end = rest.partition_point(|(k, _)| nibble(k, depth) == n);
                    path.push(n);
                    children[usize::from(n)] = Some(node_ref(&build_at(&rest[..end], path, out)?));
                    path.pop();
                    rest = &rest[end..];
                }
                Node::Branch { children }
            }
        }
        [] => return Err(StorageError::Corrupt("an empty subtrie".into())),
    };
    let rlp = node.rlp();
    out(path, node.encode());
    Ok(rlp)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trie::TrieUpdate;
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeMap;

    /// The nodes and root that inserting `leaves` one by one into an empty TrieUpdate gives.
    fn inserted(leaves: &[(B256, Vec<u8>)]) -> (B256, BTreeMap<Vec<u8>, Vec<u8>>) {
        let empty = |_: &[u8]| -> Result<Option<Vec<u8>>, StorageError> { Ok(None) };
        let mut trie = TrieUpdate::new(&empty);
        for (k, v) in leaves {
            trie.insert(k.as_slice(), v.clone()).unwrap();
        }
        let (root, writes) = trie.finish().unwrap();
        let nodes = writes.into_iter().map(|(p, n)| (p, n.unwrap())).collect();
        (root, nodes)
    }

    fn built(leaves: &[(B256, Vec<u8>)]) -> (B256, BTreeMap<Vec<u8>, Vec<u8>>) {
        let mut nodes = BTreeMap::new();
        let root = build(leaves, &mut |p, n| {
            assert!(
                nodes.insert(p.to_vec(), n).is_none(),
                "a path written twice"
            );
        })
        .unwrap();
        (root, nodes)
    }

    #[test]
    fn a_sorted_build_writes_the_nodes_one_by_one_insertion_writes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let account = |i: u64| {
            scion_types::Account {
                nonce: i,
                balance: alloy_primitives::U256::from(i * 1_000),
                storage_root: scion_types::EMPTY_ROOT,
                code_hash: scion_types::KECCAK_EMPTY,
            }
            .rlp()
        };
        for n in [0usize, 1, 2, 3, 16, 17, 300, 5_000] {
            let mut leaves: Vec<(B256, Vec<u8>)> = (0..n as u64)
                .map(|i| (B256::from(rng.random::<[u8; 32]>()), account(i)))
                .collect();
            // Keys that share long prefixes, so that extensions appear below the top.
            if n >= 3 {
                let mut k = leaves[0].0;
                k.0[31] ^= 1;
                leaves.push((k, account(1)));
                k.0[20] ^= 0x10;
                leaves.push((k, account(2)));
            }
            leaves.sort_unstable_by_key(|(k, _)| *k);
            let (root, nodes) = built(&leaves);
            assert_eq!((root, nodes), inserted(&leaves), "{n} leaves");
        }
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        let k = B256::repeat_byte(3);
        let leaves = vec![(k, vec![1]), (k, vec![2])];
        assert!(build(&leaves, &mut |_, _| {}).is_err());
    }
}
