//! Property tests of the header and block RLP: any header or block decodes back to itself
//! from its encoding, re-encodes to the same bytes, keeps its hashes, and refuses a truncated
//! or extended encoding. The two header hashes are checked against the encoding itself: the
//! block hash is keccak256 of the list without its last two items (merkle proof and compressed
//! coinbase), the hash for merged mining without its last three (RSKIP92).

use alloy_consensus::{Signed, TxEip1559, TxEip2930, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::{keccak256, Address, Bloom, Bytes, Signature, TxKind, B256, U256};
use proptest::collection::vec;
use proptest::prelude::*;
use scion_types::{Block, Header};

fn bytes(len: std::ops::Range<usize>) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), len).prop_map(Bytes::from)
}

fn b256() -> impl Strategy<Value = B256> {
    any::<[u8; 32]>().prop_map(B256::new)
}

fn u256() -> impl Strategy<Value = U256> {
    // Small numbers (short encodings, zero) as often as full-width ones.
    prop_oneof![
        any::<u64>().prop_map(U256::from),
        any::<[u8; 32]>().prop_map(U256::from_be_bytes),
    ]
}

fn header() -> impl Strategy<Value = Header> {
    let ethereum = (
        (b256(), b256(), any::<[u8; 20]>(), b256(), b256(), b256()),
        vec(any::<u8>(), 256),
        u256(),
        (any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>()),
        bytes(0..33),
        b256(),
        any::<u64>(),
    );
    // The merged-mining fields: an 80-byte Bitcoin header mostly, other lengths too (the RLP
    // does not judge them), proofs of up to 12 levels, coinbases of any size.
    let mm = (
        prop_oneof![3 => bytes(80..81), 1 => bytes(0..120)],
        bytes(0..12 * 32),
        bytes(0..300),
    );
    (ethereum, mm).prop_map(
        |(
            (
                (parent, ommers, beneficiary, state, txs, receipts),
                bloom,
                difficulty,
                nums,
                extra,
                mix,
                fee,
            ),
            (btc_header, merkle_proof, compressed_coinbase),
        )| Header {
            parent_hash: parent,
            ommers_hash: ommers,
            beneficiary: Address::new(beneficiary),
            state_root: state,
            transactions_root: txs,
            receipts_root: receipts,
            logs_bloom: Bloom::from_slice(&bloom),
            difficulty,
            number: nums.0,
            gas_limit: nums.1,
            gas_used: nums.2,
            timestamp: nums.3,
            extra_data: extra,
            mix_hash: mix,
            base_fee_per_gas: fee,
            btc_header,
            merkle_proof,
            compressed_coinbase,
        },
    )
}

fn to() -> impl Strategy<Value = TxKind> {
    prop_oneof![
        Just(TxKind::Create),
        any::<[u8; 20]>().prop_map(|a| TxKind::Call(Address::new(a))),
    ]
}

fn access_list() -> impl Strategy<Value = AccessList> {
    vec(
        (any::<[u8; 20]>(), vec(b256(), 0..3)).prop_map(|(a, keys)| AccessListItem {
            address: Address::new(a),
            storage_keys: keys,
        }),
        0..3,
    )
    .prop_map(AccessList)
}

fn signature() -> impl Strategy<Value = Signature> {
    (u256(), u256(), any::<bool>()).prop_map(|(r, s, y)| Signature::new(r, s, y))
}

/// Nonce, gas limit, a gas price, recipient, value, input and signature.
type Common = (u64, u64, u128, TxKind, U256, Bytes, Signature);

fn common() -> impl Strategy<Value = Common> {
    (
        any::<u64>(),
        any::<u64>(),
        any::<u128>(),
        to(),
        u256(),
        bytes(0..64),
        signature(),
    )
}

/// Legacy (with and without EIP-155), EIP-2930 and EIP-1559 transactions.
fn transaction() -> impl Strategy<Value = TxEnvelope> {
    let legacy = (common(), proptest::option::of(1..=u64::from(u32::MAX))).prop_map(
        |((nonce, gas_limit, gas_price, to, value, input, sig), chain_id)| {
            let tx = TxLegacy {
                chain_id,
                nonce,
                gas_price,
                gas_limit,
                to,
                value,
                input,
            };
            TxEnvelope::Legacy(Signed::new_unhashed(tx, sig))
        },
    );
    let eip2930 = (common(), any::<u64>(), access_list()).prop_map(
        |((nonce, gas_limit, gas_price, to, value, input, sig), chain_id, access_list)| {
            let tx = TxEip2930 {
                chain_id,
                nonce,
                gas_price,
                gas_limit,
                to,
                value,
                access_list,
                input,
            };
            TxEnvelope::Eip2930(Signed::new_unhashed(tx, sig))
        },
    );
    let eip1559 = (common(), any::<u64>(), any::<u128>(), access_list()).prop_map(
        |((nonce, gas_limit, max_fee, to, value, input, sig), chain_id, tip, access_list)| {
            let tx = TxEip1559 {
                chain_id,
                nonce,
                gas_limit,
                max_fee_per_gas: max_fee,
                max_priority_fee_per_gas: tip,
                to,
                value,
                access_list,
                input,
            };
            TxEnvelope::Eip1559(Signed::new_unhashed(tx, sig))
        },
    );
    prop_oneof![legacy, eip2930, eip1559]
}

fn block() -> impl Strategy<Value = Block> {
    (header(), vec(transaction(), 0..5), vec(header(), 0..3)).prop_map(
        |(header, transactions, uncles)| Block {
            header,
            transactions,
            uncles,
        },
    )
}

/// The items of an RLP list, each with its own header.
fn list_items(rlp: &[u8]) -> Vec<&[u8]> {
    let mut buf = rlp;
    let head = alloy_rlp::Header::decode(&mut buf).unwrap();
    assert!(head.list && buf.len() == head.payload_length);
    let mut items = Vec::new();
    while !buf.is_empty() {
        let start = buf;
        let item = alloy_rlp::Header::decode(&mut buf).unwrap();
        buf = &buf[item.payload_length..];
        items.push(&start[..start.len() - buf.len()]);
    }
    items
}

/// keccak256 of an RLP list of these items.
fn list_hash(items: &[&[u8]]) -> B256 {
    let payload: Vec<u8> = items.concat();
    let mut out = Vec::new();
    alloy_rlp::Header {
        list: true,
        payload_length: payload.len(),
    }
    .encode(&mut out);
    out.extend_from_slice(&payload);
    keccak256(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_header_round_trips_and_its_hashes_cover_the_right_fields(h in header()) {
        let rlp = h.rlp();
        prop_assert_eq!(rlp.len(), alloy_rlp::Encodable::length(&h));
        let back = Header::decode_rlp(&rlp).unwrap();
        prop_assert_eq!(&back, &h);
        prop_assert_eq!(back.rlp(), rlp.clone());
        prop_assert_eq!(back.hash(), h.hash());

        let items = list_items(&rlp);
        prop_assert_eq!(items.len(), 18);
        prop_assert_eq!(h.hash(), list_hash(&items[..16]));
        prop_assert_eq!(h.hash_for_merged_mining(), list_hash(&items[..15]));

        // Any truncation, and any trailing byte, is refused.
        let cut = rlp.len() / 2;
        prop_assert!(Header::decode_rlp(&rlp[..cut]).is_err());
        prop_assert!(Header::decode_rlp(&rlp[..rlp.len() - 1]).is_err());
        let mut longer = rlp;
        longer.push(0x80);
        prop_assert!(Header::decode_rlp(&longer).is_err());
    }

    #[test]
    fn a_block_round_trips_with_its_hashes(b in block()) {
        let rlp = b.rlp();
        let back = Block::decode_rlp(&rlp).unwrap();
        prop_assert_eq!(&back, &b);
        prop_assert_eq!(back.rlp(), rlp.clone());
        prop_assert_eq!(back.hash(), b.header.hash());
        for (a, t) in back.transactions.iter().zip(&b.transactions) {
            prop_assert_eq!(*a.tx_hash(), keccak256(t.encoded_2718()));
        }
        let uncle_hashes: Vec<B256> = back.uncles.iter().map(Header::hash).collect();
        prop_assert_eq!(uncle_hashes, b.uncles.iter().map(Header::hash).collect::<Vec<_>>());

        prop_assert!(Block::decode_rlp(&rlp[..rlp.len() - 1]).is_err());
        let mut longer = rlp;
        longer.push(0x80);
        prop_assert!(Block::decode_rlp(&longer).is_err());
    }
}
