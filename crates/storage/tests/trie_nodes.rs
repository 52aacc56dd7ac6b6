//! Property tests of the trie node encodings (`scion_storage::trie::Node`): the stored form
//! decodes back to the same node, and the Ethereum RLP form decodes with alloy-trie (an
//! independent implementation) to the same key, value and child references, and re-encodes
//! to the same bytes, so the hash over it is the one Ethereum computes.

use alloy_primitives::{keccak256, B256, U256};
use alloy_rlp::{Decodable, Encodable};
use alloy_trie::nodes::{RlpNode, TrieNode};
use alloy_trie::Nibbles;
use proptest::collection::vec;
use proptest::prelude::*;
use scion_storage::trie::Node;
use scion_types::{Account, EMPTY_ROOT, KECCAK_EMPTY};

fn nibble_key(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<u8>> {
    vec(0u8..16, len)
}

/// Leaf values: arbitrary bytes, and account RLPs, with and without storage or code (an
/// account with neither has its own stored form).
fn value() -> impl Strategy<Value = Vec<u8>> {
    let account = (
        any::<u64>(),
        any::<[u8; 32]>(),
        any::<bool>(),
        any::<bool>(),
        any::<[u8; 32]>(),
    )
        .prop_map(|(nonce, balance, storage, code, h)| {
            // Small balances as often as large ones.
            let balance = if balance[0] % 2 == 0 {
                U256::from(balance[31])
            } else {
                U256::from_be_bytes(balance)
            };
            Account {
                nonce,
                balance,
                storage_root: if storage { B256::new(h) } else { EMPTY_ROOT },
                code_hash: if code { keccak256(h) } else { KECCAK_EMPTY },
            }
            .rlp()
        });
    prop_oneof![vec(any::<u8>(), 0..100), account]
}

/// A child reference: a 32-byte hash, or the RLP of a node shorter than 32 bytes (inline).
fn child_ref() -> impl Strategy<Value = Vec<u8>> {
    let inline = (nibble_key(0..=8), vec(any::<u8>(), 0..16)).prop_filter_map(
        "inline nodes are under 32 bytes",
        |(key, value)| {
            let rlp = Node::Leaf { key, value }.rlp();
            (rlp.len() < 32).then_some(rlp)
        },
    );
    prop_oneof![any::<[u8; 32]>().prop_map(|h| h.to_vec()), inline]
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = (nibble_key(0..=64), value()).prop_map(|(key, value)| Node::Leaf { key, value });
    let ext = (nibble_key(1..=63), child_ref()).prop_map(|(key, child)| Node::Ext { key, child });
    let branch =
        (vec(proptest::option::of(child_ref()), 16), any::<u16>()).prop_map(|(children, seed)| {
            let mut children: Box<[Option<Vec<u8>>; 16]> = Box::new(children.try_into().unwrap());
            // A branch has at least two children.
            let (a, b) = ((seed & 15) as usize, ((seed >> 4) % 15) as usize);
            let b = if b >= a { b + 1 } else { b };
            for i in [a, b] {
                children[i].get_or_insert_with(|| vec![0x11; 32]);
            }
            Node::Branch { children }
        });
    prop_oneof![leaf, ext, branch]
}

/// alloy-trie's form of a child reference.
fn rlp_node(r: &[u8]) -> RlpNode {
    if r.len() == 32 {
        RlpNode::word_rlp(&B256::from_slice(r))
    } else {
        RlpNode::from_raw(r).unwrap()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_stored_form_decodes_to_the_same_node(node in node()) {
        let bytes = node.encode();
        prop_assert_eq!(Node::decode(&bytes).unwrap(), node);
    }

    #[test]
    fn the_rlp_form_is_ethereums(node in node()) {
        let rlp = node.rlp();
        let decoded = TrieNode::decode(&mut rlp.as_slice()).unwrap();
        match (&node, &decoded) {
            (Node::Leaf { key, value }, TrieNode::Leaf(l)) => {
                prop_assert_eq!(&l.key, &Nibbles::from_nibbles(key));
                prop_assert_eq!(&l.value, value);
            }
            (Node::Ext { key, child }, TrieNode::Extension(e)) => {
                prop_assert_eq!(&e.key, &Nibbles::from_nibbles(key));
                prop_assert_eq!(&e.child, &rlp_node(child));
            }
            (Node::Branch { children }, TrieNode::Branch(b)) => {
                let ours: Vec<(u8, RlpNode)> = (0u8..16)
                    .filter_map(|i| children[usize::from(i)].as_deref().map(|r| (i, rlp_node(r))))
                    .collect();
                let theirs: Vec<(u8, RlpNode)> = (0u8..16)
                    .filter(|i| b.state_mask.is_bit_set(*i))
                    .zip(b.stack.iter().cloned())
                    .collect();
                prop_assert_eq!(ours, theirs);
            }
            (ours, theirs) => prop_assert!(false, "{ours:?} decoded as {theirs:?}"),
        }
        // Re-encoded by alloy-trie: the same bytes, so the same node hash.
        let mut again = Vec::new();
        decoded.encode(&mut again);
        prop_assert_eq!(keccak256(&again), keccak256(&rlp));
        prop_assert_eq!(again, rlp);
    }
}
