//! Ethereum's Merkle-Patricia trie, stored node by node under each node's nibble path, and
//! updated in place: an update loads only the nodes on the paths of the keys it changes, and
//! re-hashes only those, so a block's root costs what the block touches, not the size of the
//! state. All keys are 32-byte hashes (64 nibbles), so branches never carry values.
//!
//! Stored node bytes (the value under `owner ‖ path` in the trie table), key nibbles packed
//! two to a byte (high nibble first, an odd count padded with a zero nibble):
//! - leaf:      `0 ‖ nibble count ‖ packed key ‖ value`
//! - leaf whose value is an account with no storage and no code: `3 ‖ nibble count ‖
//!   packed key ‖ nonce and balance` (the two empty hashes are restored on load, codec.rs)
//! - extension: `1 ‖ nibble count ‖ packed key ‖ child ref`
//! - branch:    `2 ‖ mask (u16 BE) ‖ for each child in mask: ref len (u8) ‖ ref`
//!
//! A ref is the child's MPT reference: its RLP when shorter than 32 bytes, else keccak256 of it.

use crate::{codec, StorageError};
use alloy_primitives::{hex, keccak256, B256};
use alloy_rlp::Encodable;
use alloy_trie::nodes::{BranchNodeRef, ExtensionNodeRef, LeafNodeRef, RlpNode};
use alloy_trie::{Nibbles, TrieMask};
use scion_types::EMPTY_ROOT;
use std::collections::{BTreeMap, HashMap};

/// A nibble path from the root (one nibble per byte).
pub type Path = Vec<u8>;

/// Node writes produced by an update: `Some(bytes)` to store at a path, `None` to delete.
pub type NodeWrites = BTreeMap<Path, Option<Vec<u8>>>;

/// A trie node. A child ref that is empty is "dirty": it must be recomputed before hashing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A leaf: the rest of the key and the value.
    Leaf {
        /// Remaining key nibbles.
        key: Vec<u8>,
        /// The value (already RLP-encoded by the caller where Ethereum requires it).
        value: Vec<u8>,
    },
    /// An extension: shared key nibbles, then one child.
    Ext {
        /// Shared key nibbles.
        key: Vec<u8>,
        /// The child's ref (empty when dirty).
        child: Vec<u8>,
    },
    /// A branch with up to 16 children.
    Branch {
        /// Child refs; `None` absent, empty dirty.
        children: Box<[Option<Vec<u8>>; 16]>,
    },
}

impl Node {
    /// Decodes stored node bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, StorageError> {
        let corrupt = || {
            StorageError::Corrupt(format!(
                "trie node {}",
                hex::encode(bytes.get(..16).unwrap_or(bytes))
            ))
        };
        let (&tag, rest) = bytes.split_first().ok_or_else(corrupt)?;
        match tag {
            0 | 1 | 3 => {
                let (&len, rest) = rest.split_first().ok_or_else(corrupt)?;
                let len = len as usize;
                let packed = len.div_ceil(2);
                if rest.len() < packed || len > 64 {
                    return Err(corrupt());
                }
                let (key, data) = rest.split_at(packed);
                let mut key = nibbles(key);
                if key.pop_if(|_| len % 2 == 1).is_some_and(|pad| pad != 0) {
                    return Err(corrupt());
                }
                Ok(match tag {
                    0 => Node::Leaf {
                        key,
                        value: data.to_vec(),
                    },
                    3 => Node::Leaf {
                        key,
                        value: codec::restore_empty_account(data),
                    },
                    // A ref is at most 32 bytes (a hash; a shorter node inline).
                    _ if data.len() > 32 => return Err(corrupt()),
                    _ => Node::Ext {
                        key,
                        child: data.to_vec(),
                    },
                })
            }
            2 => {
                if rest.len() < 2 {
                    return Err(corrupt());
                }
                let mask = u16::from_be_bytes([rest[0], rest[1]]);
                let mut pos = 2;
                let mut children: Box<[Option<Vec<u8>>; 16]> = Box::default();
                for (i, child) in children.iter_mut().enumerate() {
                    if mask & (1 << i) != 0 {
                        let len = *rest.get(pos).ok_or_else(corrupt)? as usize;
                        if len > 32 {
                            return Err(corrupt());
                        }
                        let r = rest.get(pos + 1..pos + 1 + len).ok_or_else(corrupt)?;
                        *child = Some(r.to_vec());
                        pos += 1 + len;
                    }
                }
                Ok(Node::Branch { children })
            }
            _ => Err(corrupt()),
        }
    }

    /// Encodes for storage. Refs must not be dirty.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Node::Leaf { key, value } => match codec::strip_empty_account(value) {
                Some(short) => packed_key_node(3, key, short),
                None => packed_key_node(0, key, value),
            },
            Node::Ext { key, child } => packed_key_node(1, key, child),
            Node::Branch { children } => {
                let mut mask = 0u16;
                let mut out = vec![2, 0, 0];
                for (i, c) in children.iter().enumerate() {
                    if let Some(r) = c {
                        mask |= 1 << i;
                        out.push(r.len() as u8);
                        out.extend_from_slice(r);
                    }
                }
                out[1..3].copy_from_slice(&mask.to_be_bytes());
                out
            }
        }
    }

    /// The node's Ethereum RLP encoding, through alloy-trie's node types. Refs must not be
    /// dirty.
    pub fn rlp(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        match self {
            Node::Leaf { key, value } => {
                LeafNodeRef::new(&Nibbles::from_nibbles_unchecked(key), value).encode(&mut out)
            }
            Node::Ext { key, child } => {
                let child = rlp_ref(child);
                ExtensionNodeRef::new(&Nibbles::from_nibbles_unchecked(key), &child)
                    .encode(&mut out)
            }
            Node::Branch { children } => {
                let mut mask = TrieMask::default();
                let mut stack = Vec::with_capacity(16);
                for (i, c) in (0u8..).zip(children.iter()) {
                    if let Some(r) = c {
                        mask.set_bit(i);
                        stack.push(rlp_ref(r));
                    }
                }
                BranchNodeRef::new(&stack, mask).encode(&mut out)
            }
        }
        out
    }
}

/// A child ref as its parent's RLP holds it: a hash as a 32-byte string, a short node inline
/// (stored refs are at most 32 bytes: `Node::decode` refuses longer ones).
fn rlp_ref(r: &[u8]) -> RlpNode {
    match <[u8; 32]>::try_from(r) {
        Ok(hash) => RlpNode::word_rlp(&B256::from(hash)),
        Err(_) => RlpNode::from_raw(r).unwrap_or_default(),
    }
}

/// `tag ‖ nibble count ‖ nibbles packed two to a byte ‖ rest`.
fn packed_key_node(tag: u8, key: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + key.len().div_ceil(2) + rest.len());
    out.push(tag);
    out.push(key.len() as u8);
    out.extend(
        key.chunks(2)
            .map(|p| (p[0] << 4) | p.get(1).copied().unwrap_or(0)),
    );
    out.extend_from_slice(rest);
    out
}

/// The MPT reference of a node given its RLP.
pub(crate) fn node_ref(rlp: &[u8]) -> Vec<u8> {
    if rlp.len() < 32 {
        rlp.to_vec()
    } else {
        keccak256(rlp).to_vec()
    }
}

/// Splits bytes into nibbles.
pub fn nibbles(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().flat_map(|b| [b >> 4, b & 0x0f]).collect()
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn join(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(a.len() + b.len());
    v.extend_from_slice(a);
    v.extend_from_slice(b);
    v
}

/// Loads the stored bytes of the node at a path.
pub type Loader<'a> = dyn Fn(&[u8]) -> Result<Option<Vec<u8>>, StorageError> + 'a;

/// A batch of inserts and removals against a stored trie, then its new root and node writes.
pub struct TrieUpdate<'a> {
    load: &'a Loader<'a>,
    /// Nodes loaded or changed; `None` where a node was removed.
    cache: HashMap<Path, Option<Node>>,
    removed: Vec<Path>,
    changed: bool,
}

impl<'a> TrieUpdate<'a> {
    /// Starts an update of the trie whose nodes `load` returns.
    pub fn new(load: &'a Loader<'a>) -> Self {
        Self {
            load,
            cache: HashMap::new(),
            removed: Vec::new(),
            changed: false,
        }
    }

    fn get(&mut self, path: &[u8]) -> Result<Option<Node>, StorageError> {
        if let Some(n) = self.cache.get(path) {
            return Ok(n.clone());
        }
        let node = (self.load)(path)?.map(|b| Node::decode(&b)).transpose()?;
        self.cache.insert(path.to_vec(), node.clone());
        Ok(node)
    }

    fn must_get(&mut self, path: &[u8]) -> Result<Node, StorageError> {
        self.get(path)?.ok_or_else(|| {
            StorageError::Corrupt(format!(
                "trie node missing at path of {} nibbles",
                path.len()
            ))
        })
    }

    fn put(&mut self, path: Path, node: Node) {
        self.cache.insert(path, Some(node));
    }

    fn remove_at(&mut self, path: Path) {
        self.removed.push(path.clone());
        self.cache.insert(path, None);
    }

    /// Sets `key` (32 bytes) to `value`.
    pub fn insert(&mut self, key: &[u8], value: Vec<u8>) -> Result<(), StorageError> {
        self.changed = true;
        let key = nibbles(key);
        self.insert_at(Vec::new(), &key, value)
    }

    fn insert_at(&mut self, path: Path, key: &[u8], value: Vec<u8>) -> Result<(), StorageError> {
        let rest = &key[path.len()..];
        match self.get(&path)? {
            None => self.put(
                path,
                Node::Leaf {
                    key: rest.to_vec(),
                    value,
                },
            ),
            Some(Node::Leaf { key: k, value: old }) => {
                if k == rest {
                    if old != value {
                        self.put(path, Node::Leaf { key: k, value });
                    }
                    return Ok(());
                }
                let c = common_prefix(&k, rest);
                let bp = join(&path, &rest[..c]);
                let mut children: Box<[Option<Vec<u8>>; 16]> = Box::default();
                children[k[c] as usize] = Some(Vec::new());
                children[rest[c] as usize] = Some(Vec::new());
                self.put(
                    join(&bp, &[k[c]]),
                    Node::Leaf {
                        key: k[c + 1..].to_vec(),
                        value: old,
                    },
                );
                self.put(
                    join(&bp, &[rest[c]]),
                    Node::Leaf {
                        key: rest[c + 1..].to_vec(),
                        value,
                    },
                );
                self.put(bp, Node::Branch { children });
                if c > 0 {
                    self.put(
                        path,
                        Node::Ext {
                            key: rest[..c].to_vec(),
                            child: Vec::new(),
                        },
                    );
                }
            }
            Some(Node::Ext { key: k, child }) => {
                let c = common_prefix(&k, rest);
                if c == k.len() {
                    self.insert_at(join(&path, &k), key, value)?;
                    self.put(
                        path,
                        Node::Ext {
                            key: k,
                            child: Vec::new(),
                        },
                    );
                    return Ok(());
                }
                let bp = join(&path, &rest[..c]);
                let mut children: Box<[Option<Vec<u8>>; 16]> = Box::default();
                if c + 1 == k.len() {
                    // The old extension's child sits right under the new branch, unchanged.
                    children[k[c] as usize] = Some(child);
                } else {
                    let ext = Node::Ext {
                        key: k[c + 1..].to_vec(),
                        child,
                    };
                    self.put(join(&bp, &[k[c]]), ext);
                    children[k[c] as usize] = Some(Vec::new());
                }
                children[rest[c] as usize] = Some(Vec::new());
                self.put(
                    join(&bp, &[rest[c]]),
                    Node::Leaf {
                        key: rest[c + 1..].to_vec(),
                        value,
                    },
                );
                self.put(bp, Node::Branch { children });
                if c > 0 {
                    self.put(
                        path,
                        Node::Ext {
                            key: k[..c].to_vec(),
                            child: Vec::new(),
                        },
                    );
                }
            }
            Some(Node::Branch { mut children }) => {
                let nib = rest[0] as usize;
                let child_path = join(&path, &[rest[0]]);
                if children[nib].is_some() {
                    self.insert_at(child_path, key, value)?;
                } else {
                    self.put(
                        child_path,
                        Node::Leaf {
                            key: rest[1..].to_vec(),
                            value,
                        },
                    );
                }
                children[nib] = Some(Vec::new());
                self.put(path, Node::Branch { children });
            }
        }
        Ok(())
    }

    /// Removes `key` (32 bytes); removing an absent key changes nothing.
    pub fn remove(&mut self, key: &[u8]) -> Result<(), StorageError> {
        let key = nibbles(key);
        if self.remove_at_key(Vec::new(), &key)? {
            self.changed = true;
        }
        Ok(())
    }

    /// Removes `key` below `path`; returns whether it was there.
    fn remove_at_key(&mut self, path: Path, key: &[u8]) -> Result<bool, StorageError> {
        let rest = &key[path.len()..];
        match self.get(&path)? {
            None => Ok(false),
            Some(Node::Leaf { key: k, .. }) => {
                if k != rest {
                    return Ok(false);
                }
                self.remove_at(path);
                Ok(true)
            }
            Some(Node::Ext { key: k, child: _ }) => {
                if !rest.starts_with(&k) {
                    return Ok(false);
                }
                let child_path = join(&path, &k);
                if !self.remove_at_key(child_path.clone(), key)? {
                    return Ok(false);
                }
                match self.get(&child_path)? {
                    None => self.remove_at(path),
                    Some(Node::Leaf { key: k2, value }) => {
                        self.remove_at(child_path);
                        self.put(
                            path,
                            Node::Leaf {
                                key: join(&k, &k2),
                                value,
                            },
                        );
                    }
                    Some(Node::Ext { key: k2, child: c2 }) => {
                        self.remove_at(child_path);
                        self.put(
                            path,
                            Node::Ext {
                                key: join(&k, &k2),
                                child: c2,
                            },
                        );
                    }
                    Some(Node::Branch { .. }) => {
                        self.put(
                            path,
                            Node::Ext {
                                key: k,
                                child: Vec::new(),
                            },
                        );
                    }
                }
                Ok(true)
            }
            Some(Node::Branch { mut children }) => {
                let nib = rest[0] as usize;
                if children[nib].is_none() {
                    return Ok(false);
                }
                let child_path = join(&path, &[rest[0]]);
                if !self.remove_at_key(child_path.clone(), key)? {
                    return Ok(false);
                }
                // The child is gone, or changed (its ref is dirty).
                children[nib] = self.get(&child_path)?.map(|_| Vec::new());
                let left: Vec<usize> = (0..16).filter(|i| children[*i].is_some()).collect();
                if left.len() != 1 {
                    self.put(path, Node::Branch { children });
                    return Ok(true);
                }
                // One child left: fold the branch into it.
                let j = left[0];
                let only_path = join(&path, &[j as u8]);
                match self.must_get(&only_path)? {
                    Node::Leaf { key: k2, value } => {
                        self.remove_at(only_path);
                        self.put(
                            path,
                            Node::Leaf {
                                key: join(&[j as u8], &k2),
                                value,
                            },
                        );
                    }
                    Node::Ext { key: k2, child: c2 } => {
                        self.remove_at(only_path);
                        self.put(
                            path,
                            Node::Ext {
                                key: join(&[j as u8], &k2),
                                child: c2,
                            },
                        );
                    }
                    Node::Branch { .. } => {
                        let child = children[j].take().unwrap_or_default();
                        self.put(
                            path,
                            Node::Ext {
                                key: vec![j as u8],
                                child,
                            },
                        );
                    }
                }
                Ok(true)
            }
        }
    }

    /// Re-hashes what changed; returns the new root and the node writes to apply.
    pub fn finish(mut self) -> Result<(B256, NodeWrites), StorageError> {
        let mut writes: NodeWrites = BTreeMap::new();
        for p in std::mem::take(&mut self.removed) {
            writes.insert(p, None);
        }
        let root = match self.get(&[])? {
            None => EMPTY_ROOT,
            Some(_) => {
                if self.changed {
                    self.hash_at(Vec::new(), &mut writes)?;
                }
                let root = self.must_get(&[])?;
                keccak256(root.rlp())
            }
        };
        Ok((root, writes))
    }

    /// Recomputes dirty refs below `path`, stores the node, returns its ref.
    fn hash_at(&mut self, path: Path, writes: &mut NodeWrites) -> Result<Vec<u8>, StorageError> {
        let mut node = self.must_get(&path)?;
        match &mut node {
            Node::Leaf { .. } => {}
            Node::Ext { key, child } => {
                if child.is_empty() {
                    *child = self.hash_at(join(&path, key), writes)?;
                }
            }
            Node::Branch { children } => {
                for (i, c) in children.iter_mut().enumerate() {
                    if matches!(c, Some(r) if r.is_empty()) {
                        *c = Some(self.hash_at(join(&path, &[i as u8]), writes)?);
                    }
                }
            }
        }
        let r = node_ref(&node.rlp());
        writes.insert(path.clone(), Some(node.encode()));
        self.cache.insert(path, Some(node));
        Ok(r)
    }
}

/// Collects the RLP of every node on the path to `key` (an EIP-1186 proof).
pub fn proof(load: &Loader<'_>, key: &[u8]) -> Result<Vec<Vec<u8>>, StorageError> {
    let key = nibbles(key);
    let mut out = Vec::new();
    let mut path: Path = Vec::new();
    while let Some(bytes) = load(&path)? {
        let node = Node::decode(&bytes)?;
        out.push(node.rlp());
        match node {
            Node::Leaf { .. } => break,
            Node::Ext { key: k, .. } => {
                if !key[path.len()..].starts_with(&k) {
                    break;
                }
                path.extend_from_slice(&k);
            }
            Node::Branch { children } => {
                let Some(&nib) = key.get(path.len()) else {
                    break;
                };
                if children[nib as usize].is_none() {
                    break;
                }
                path.push(nib);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_trie::{HashBuilder, Nibbles};
    use rand::{Rng, SeedableRng};
    use std::cell::RefCell;

    #[test]
    fn stored_nodes_pack_their_keys_and_come_back_unchanged() {
        let eoa = scion_types::Account {
            nonce: 1,
            balance: alloy_primitives::U256::from(5u64),
            ..Default::default()
        };
        let contract = scion_types::Account {
            code_hash: B256::repeat_byte(3),
            ..eoa
        };
        let mut children: Box<[Option<Vec<u8>>; 16]> = Box::default();
        children[0] = Some(vec![0xc2, 0x80, 0x80]);
        children[15] = Some(vec![7; 32]);
        let nodes = [
            (
                Node::Leaf {
                    key: vec![1, 2, 3],
                    value: vec![0x05],
                },
                0,
                2 + 2 + 1,
            ),
            (
                Node::Leaf {
                    key: vec![0xf; 64],
                    value: eoa.rlp(),
                },
                3,
                2 + 32 + 2,
            ),
            (
                Node::Leaf {
                    key: vec![],
                    value: contract.rlp(),
                },
                0,
                2 + contract.rlp().len(),
            ),
            (
                Node::Ext {
                    key: vec![9, 0],
                    child: vec![1; 32],
                },
                1,
                2 + 1 + 32,
            ),
            (Node::Branch { children }, 2, 3 + 4 + 33),
        ];
        for (node, tag, len) in nodes {
            let bytes = node.encode();
            assert_eq!((bytes[0], bytes.len()), (tag, len), "{node:?}");
            assert_eq!(Node::decode(&bytes).unwrap(), node);
        }
        // An odd key's padding nibble must be zero, and the key must be all there.
        assert!(Node::decode(&[0, 3, 0x12, 0x31, 5]).is_err());
        assert!(Node::decode(&[1, 5, 0x12]).is_err());
    }

    /// An in-memory node table standing in for MDBX in these unit tests.
    #[derive(Default)]
    struct Mem(RefCell<BTreeMap<Path, Vec<u8>>>);

    impl Mem {
        fn apply(&self, changes: &BTreeMap<[u8; 32], Option<Vec<u8>>>) -> B256 {
            let load = |p: &[u8]| Ok(self.0.borrow().get(p).cloned());
            let mut up = TrieUpdate::new(&load);
            for (k, v) in changes {
                match v {
                    Some(v) => up.insert(k, v.clone()).unwrap(),
                    None => up.remove(k).unwrap(),
                }
            }
            let (root, writes) = up.finish().unwrap();
            let mut m = self.0.borrow_mut();
            for (p, w) in writes {
                match w {
                    Some(b) => m.insert(p, b),
                    None => m.remove(&p),
                };
            }
            root
        }
    }

    fn reference_root(map: &BTreeMap<[u8; 32], Vec<u8>>) -> B256 {
        let mut hb = HashBuilder::default();
        for (k, v) in map {
            hb.add_leaf(Nibbles::unpack(k), v);
        }
        hb.root()
    }

    #[test]
    fn empty_trie_has_the_empty_root() {
        let mem = Mem::default();
        assert_eq!(mem.apply(&BTreeMap::new()), EMPTY_ROOT);
    }

    /// Random inserts, updates and removals over many batches: after each batch the root
    /// equals alloy-trie's root of the same key set built from scratch, and the stored node
    /// table holds exactly the live nodes (nothing stale is left behind).
    #[test]
    fn incremental_root_matches_a_full_rebuild() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mem = Mem::default();
        let mut model: BTreeMap<[u8; 32], Vec<u8>> = BTreeMap::new();
        for round in 0..60 {
            let mut batch = BTreeMap::new();
            for _ in 0..rng.random_range(1..40) {
                // Keys share prefixes often, so splits and merges at every depth happen.
                let mut k = [0u8; 32];
                rng.fill(&mut k[..]);
                if rng.random_bool(0.5) {
                    k[..2].copy_from_slice(&[0xab, rng.random_range(0..4)]);
                }
                if !model.is_empty() && rng.random_bool(0.4) {
                    let idx = rng.random_range(0..model.len());
                    k = *model.keys().nth(idx).unwrap();
                }
                let v = if rng.random_bool(0.3) {
                    None
                } else {
                    // Short values make short leaves, exercising inline (< 32 byte) refs.
                    let len = if rng.random_bool(0.5) {
                        1
                    } else {
                        rng.random_range(1..80)
                    };
                    Some((0..len).map(|_| rng.random()).collect::<Vec<u8>>())
                };
                batch.insert(k, v);
            }
            for (k, v) in &batch {
                match v {
                    Some(v) => model.insert(*k, v.clone()),
                    None => model.remove(k),
                };
            }
            let root = mem.apply(&batch);
            assert_eq!(root, reference_root(&model), "round {round}");
        }
        // Remove everything: the trie and its table must be empty again.
        let all: BTreeMap<_, _> = model.keys().map(|k| (*k, None)).collect();
        assert_eq!(mem.apply(&all), EMPTY_ROOT);
        assert!(
            mem.0.borrow().is_empty(),
            "stale nodes left: {}",
            mem.0.borrow().len()
        );
    }

    #[test]
    fn deep_keys_with_tiny_values_use_inline_refs() {
        // Two keys that differ only in the last nibble give leaves whose RLP is under 32
        // bytes, embedded in their parent branch.
        let mem = Mem::default();
        let mut model = BTreeMap::new();
        let a = [0x11u8; 32];
        let mut b = a;
        b[31] = 0x12;
        model.insert(a, vec![1]);
        model.insert(b, vec![2]);
        let batch = model.iter().map(|(k, v)| (*k, Some(v.clone()))).collect();
        assert_eq!(mem.apply(&batch), reference_root(&model));
        let mut one = BTreeMap::new();
        one.insert(b, None);
        model.remove(&b);
        assert_eq!(mem.apply(&one), reference_root(&model));
    }

    /// Proofs of present and absent keys verify with alloy-trie's verifier against the root;
    /// a proof does not verify a value other than the one it holds.
    #[test]
    fn proofs_verify_against_the_root() {
        use alloy_primitives::Bytes;
        use alloy_trie::proof::verify_proof;
        let mem = Mem::default();
        let mut batch = BTreeMap::new();
        for i in 0..50u8 {
            // Values of 1 byte make inline leaves, of 40 bytes hashed ones.
            let len = if i % 2 == 0 { 40 } else { 1 };
            batch.insert(*keccak256([i]), Some(vec![i; len]));
        }
        let root = mem.apply(&batch);
        let load = |p: &[u8]| Ok(mem.0.borrow().get(p).cloned());
        for i in 0..60u8 {
            let key = *keccak256([i]);
            let nodes: Vec<Bytes> = proof(&load, &key)
                .unwrap()
                .into_iter()
                .map(Bytes::from)
                .collect();
            assert_eq!(keccak256(&nodes[0]), root);
            let value = batch.get(&key).cloned().flatten();
            let nibbles = Nibbles::unpack(key);
            verify_proof(root, nibbles, value.clone(), &nodes)
                .unwrap_or_else(|e| panic!("key {i}: {e}"));
            let wrong = match value {
                Some(mut v) => {
                    v[0] ^= 1;
                    Some(v)
                }
                None => Some(vec![1]),
            };
            assert!(
                matches!(
                    verify_proof(root, nibbles, wrong, &nodes),
                    Err(alloy_trie::proof::ProofVerificationError::ValueMismatch { .. })
                ),
                "key {i}"
            );
        }
    }
}
