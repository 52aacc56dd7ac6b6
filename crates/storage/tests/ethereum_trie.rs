//! Ethereum's own trie tests (ethereum/tests `TrieTests/`, copied to tests/data/ethereum-trie/)
//! run through the stored trie (`scion_storage::trie::TrieUpdate`).
//!
//! The trie is built for keys of one length (32-byte hashes), so a branch never holds a value.
//! A vector in which one key is a strict prefix of another needs such a branch; those vectors
//! are named in [`OUTSIDE_THE_TRIE`] and the test checks that this, and only this, is why they
//! are left out. Every other vector must give its stated root.

use alloy_primitives::{hex, keccak256, B256};
use scion_storage::trie::{Path, TrieUpdate};
use scion_storage::StorageError;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Vectors whose keys are not prefix-free: they need a value in a branch node.
const OUTSIDE_THE_TRIE: &[&str] = &["emptyValues", "insert-middle-leaf"];

fn load(name: &str) -> serde_json::Map<String, Value> {
    let path = format!(
        "{}/../../tests/data/ethereum-trie/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match serde_json::from_str(&text).unwrap() {
        Value::Object(m) => m,
        other => panic!("{name}: not an object: {other}"),
    }
}

/// A key or value of trietest.json: hex after `0x`, otherwise the UTF-8 bytes of the text.
fn bytes(v: &str) -> Vec<u8> {
    match v.strip_prefix("0x") {
        Some(h) => hex::decode(h).unwrap(),
        None => v.as_bytes().to_vec(),
    }
}

fn root_of(v: &Value) -> B256 {
    v.as_str().unwrap().parse().unwrap()
}

/// A vector's operations in order: `None` removes the key.
type Ops = Vec<(Vec<u8>, Option<Vec<u8>>)>;

fn ops(list: &Value, secure: bool) -> Ops {
    list.as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            let key = bytes(pair[0].as_str().unwrap());
            let key = if secure {
                keccak256(&key).to_vec()
            } else {
                key
            };
            (key, pair[1].as_str().map(bytes))
        })
        .collect()
}

/// An in-memory node table standing in for MDBX.
#[derive(Default)]
struct Mem(RefCell<BTreeMap<Path, Vec<u8>>>);

impl Mem {
    /// One `TrieUpdate` over `ops`, its node writes applied; returns the new root.
    fn apply(&self, ops: &[(Vec<u8>, Option<Vec<u8>>)]) -> B256 {
        let load = |p: &[u8]| -> Result<Option<Vec<u8>>, StorageError> {
            Ok(self.0.borrow().get(p).cloned())
        };
        let mut up = TrieUpdate::new(&load);
        for (k, v) in ops {
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

/// True when some key is a strict prefix of another (compared as nibbles, so as bytes).
fn has_prefix_keys(ops: &Ops) -> bool {
    let keys: Vec<&Vec<u8>> = ops.iter().map(|(k, _)| k).collect();
    keys.iter()
        .any(|a| keys.iter().any(|b| b.len() > a.len() && b.starts_with(a)))
}

/// Runs a vector twice: every operation in its own update on a stored trie (nodes written and
/// read back between them), and all of them in one update on a fresh trie. Both must reach
/// `want`; a vector whose operations leave nothing must leave no stored node either.
fn check(name: &str, ops: &Ops, want: B256) {
    let step_by_step = Mem::default();
    let mut root = B256::ZERO;
    for op in ops {
        root = step_by_step.apply(std::slice::from_ref(op));
    }
    assert_eq!(root, want, "{name}: one update per operation");
    let batch = Mem::default();
    assert_eq!(
        batch.apply(ops),
        want,
        "{name}: all operations in one update"
    );
    if want == scion_types::EMPTY_ROOT {
        assert!(
            step_by_step.0.borrow().is_empty() && batch.0.borrow().is_empty(),
            "{name}: nodes left in an empty trie"
        );
    }
}

#[test]
fn trietest_vectors_give_their_roots() {
    let vectors = load("trietest.json");
    let mut passed = Vec::new();
    let mut outside = Vec::new();
    for (name, v) in &vectors {
        let ops = ops(&v["in"], false);
        if has_prefix_keys(&ops) {
            outside.push(name.as_str());
            continue;
        }
        check(name, &ops, root_of(&v["root"]));
        passed.push(name.as_str());
    }
    // The map's order depends on serde_json's features.
    outside.sort_unstable();
    passed.sort_unstable();
    assert_eq!(outside, OUTSIDE_THE_TRIE, "vectors left out");
    assert_eq!(passed, ["branchingTests", "jeff"], "vectors checked");
}

#[test]
fn secure_trie_vectors_give_their_roots() {
    let vectors = load("hex_encoded_securetrie_test.json");
    assert_eq!(vectors.len(), 1);
    for (name, v) in &vectors {
        assert_eq!(v["hexEncoded"], true, "{name}");
        let ops = ops(&v["data"], true);
        assert!(ops.iter().all(|(k, v)| k.len() == 32 && v.is_some()));
        check(name, &ops, root_of(&v["result"]));
    }
}

/// The check above can fail: one changed value byte in a vector gives another root.
#[test]
fn a_changed_value_changes_the_root() {
    let vectors = load("trietest.json");
    let jeff = &vectors["jeff"];
    let mut ops = ops(&jeff["in"], false);
    let value = ops[0].1.as_mut().unwrap();
    value[0] ^= 1;
    assert_ne!(Mem::default().apply(&ops), root_of(&jeff["root"]));
}
