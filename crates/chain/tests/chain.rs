//! The chain on a real store: transaction admission with geth's messages, pool ordering and
//! replacement, and block production.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEip4844, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, Signature, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use scion_chain::{Chain, ChainError, TxRejected, MAX_TX_SIZE};
use scion_types::ChainSpec;

const GWEI: u128 = 1_000_000_000;
/// Dev account 0 of the test mnemonic.
const DEV_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

fn dev_key() -> PrivateKeySigner {
    DEV_KEY.parse().unwrap()
}

fn open() -> (tempfile::TempDir, Chain) {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::open(dir.path(), ChainSpec::dev()).unwrap();
    (dir, chain)
}

fn tx(nonce: u64, max_fee: u128, tip: u128) -> TxEip1559 {
    TxEip1559 {
        chain_id: 7773,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: tip,
        to: TxKind::Call(Address::repeat_byte(0x11)),
        value: U256::from(1),
        ..Default::default()
    }
}

fn raw<T: SignableTransaction<Signature>>(k: &PrivateKeySigner, t: T) -> Vec<u8>
where
    TxEnvelope: From<alloy_consensus::Signed<T>>,
{
    let sig = k.sign_hash_sync(&t.signature_hash()).unwrap();
    TxEnvelope::from(t.into_signed(sig)).encoded_2718()
}

fn rejection(chain: &Chain, raw: &[u8]) -> TxRejected {
    match chain.submit_raw(raw) {
        Err(ChainError::Tx(r)) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn pooled_transactions_are_mined_in_nonce_order() {
    let (_d, chain) = open();
    let k = dev_key();
    // Submitted out of order: nonce 1 waits (queued) until nonce 0 arrives.
    let h1 = chain.submit_raw(&raw(&k, tx(1, 10 * GWEI, GWEI))).unwrap();
    assert!(!chain.has_pending().unwrap());
    let h0 = chain.submit_raw(&raw(&k, tx(0, 10 * GWEI, GWEI))).unwrap();
    assert!(chain.has_pending().unwrap());
    let b = chain.mine_block(None).unwrap();
    assert_eq!(b.header.number, 1);
    assert_eq!(b.tx_hashes, vec![h0, h1]);
    assert!(chain.pool().is_empty());
    assert_eq!(chain.state_nonce(k.address()).unwrap(), 2);
    let loc = chain.store().tx_location(h1).unwrap().unwrap();
    assert_eq!((loc.block_hash, loc.index), (b.header.hash(), 1));
    assert_eq!(
        chain
            .store()
            .receipts(loc.block_hash)
            .unwrap()
            .unwrap()
            .len(),
        2
    );
    // The next block's base fee follows EIP-1559 (alloy's formula, with Scion's floor): a
    // nearly empty block lowers it.
    assert_eq!(b.header.gas_used, 2 * 21_000);
    let want = alloy_eips::calc_next_block_base_fee(
        b.header.gas_used,
        b.header.gas_limit,
        b.header.base_fee_per_gas,
        alloy_eips::eip1559::BaseFeeParams::ethereum(),
    )
    .max(scion_consensus::MIN_BASE_FEE);
    assert_eq!(chain.next_base_fee(), want);
    assert!(want < b.header.base_fee_per_gas);
    // An empty block still advances the chain.
    assert_eq!(chain.mine_block(None).unwrap().header.number, 2);
}

#[test]
fn replacement_needs_ten_percent_more() {
    let (_d, chain) = open();
    let k = dev_key();
    let first = raw(&k, tx(0, 10 * GWEI, GWEI));
    chain.submit_raw(&first).unwrap();
    assert_eq!(rejection(&chain, &first), TxRejected::AlreadyKnown);
    let low = raw(&k, tx(0, 10 * GWEI + 1, GWEI + 1));
    assert_eq!(rejection(&chain, &low), TxRejected::ReplacementUnderpriced);
    let bumped = chain
        .submit_raw(&raw(&k, tx(0, 11 * GWEI, GWEI * 11 / 10)))
        .unwrap();
    assert_eq!(chain.pool().len(), 1);
    assert_eq!(chain.mine_block(None).unwrap().tx_hashes, vec![bumped]);
}

#[test]
fn bad_transactions_are_refused_with_geths_words_and_nothing_is_stored() {
    let (_d, chain) = open();
    let k = dev_key();
    let stranger = PrivateKeySigner::random();
    let balance = chain
        .store()
        .latest_account(k.address())
        .unwrap()
        .unwrap()
        .balance;
    let gas_limit = chain.head().gas_limit;
    let base_fee = chain.next_base_fee();
    let fee = U256::from(21_000 * 10 * GWEI);
    let oversized = raw(
        &k,
        TxLegacy {
            chain_id: Some(7773),
            gas_limit: 5_000_000,
            gas_price: 10 * GWEI,
            input: Bytes::from(vec![1u8; 130 * 1024]),
            ..Default::default()
        },
    );
    let cases: Vec<(Vec<u8>, TxRejected, &str)> = vec![
        (
            raw(
                &k,
                TxEip1559 {
                    chain_id: 1,
                    ..tx(0, 10 * GWEI, GWEI)
                },
            ),
            TxRejected::ChainId {
                have: 1,
                want: 7773,
            },
            "invalid chain id for signer: have 1 want 7773",
        ),
        (
            raw(
                &k,
                TxEip1559 {
                    gas_limit: 20_000,
                    ..tx(0, 10 * GWEI, GWEI)
                },
            ),
            TxRejected::IntrinsicGasTooLow {
                have: 20_000,
                want: 21_000,
            },
            "intrinsic gas too low: have 20000, want 21000",
        ),
        (
            raw(
                &k,
                TxEip1559 {
                    gas_limit: 31_000_000,
                    ..tx(0, 10 * GWEI, GWEI)
                },
            ),
            TxRejected::ExceedsBlockGasLimit {
                gas: 31_000_000,
                limit: gas_limit,
            },
            "exceeds block gas limit",
        ),
        (
            raw(&k, tx(0, 10 * GWEI, 11 * GWEI)),
            TxRejected::TipAboveFeeCap {
                tip: 11 * GWEI,
                max_fee: 10 * GWEI,
            },
            "max priority fee per gas higher than max fee per gas",
        ),
        (
            raw(&k, tx(0, 100, 1)),
            TxRejected::FeeCapBelowBaseFee {
                sender: k.address(),
                max_fee: 100,
                base_fee,
            },
            "max fee per gas less than block base fee",
        ),
        (
            raw(
                &k,
                TxEip4844 {
                    chain_id: 7773,
                    gas_limit: 21_000,
                    max_fee_per_gas: 10 * GWEI,
                    ..Default::default()
                },
            ),
            TxRejected::TypeNotSupported,
            "transaction type not supported",
        ),
        (
            raw(&stranger, tx(0, 10 * GWEI, GWEI)),
            TxRejected::InsufficientFunds {
                sender: stranger.address(),
                have: U256::ZERO,
                want: Some(fee + U256::from(1)),
            },
            "insufficient funds for gas * price + value",
        ),
        (
            raw(
                &k,
                TxEip1559 {
                    value: U256::MAX / U256::from(2),
                    ..tx(0, 10 * GWEI, GWEI)
                },
            ),
            TxRejected::InsufficientFunds {
                sender: k.address(),
                have: balance,
                want: Some(fee + U256::MAX / U256::from(2)),
            },
            "insufficient funds for gas * price + value",
        ),
        (
            oversized.clone(),
            TxRejected::Oversized {
                size: oversized.len(),
                limit: MAX_TX_SIZE,
            },
            "oversized data",
        ),
        // Cost that overflows 256 bits, a nonce far ahead, the maximal nonce (EIP-2681).
        (
            raw(
                &k,
                TxEip1559 {
                    value: U256::MAX,
                    ..tx(0, 10 * GWEI, GWEI)
                },
            ),
            TxRejected::InsufficientFunds {
                sender: k.address(),
                have: balance,
                want: None,
            },
            "insufficient funds for gas * price + value",
        ),
        (
            raw(&k, tx(5_000, 10 * GWEI, GWEI)),
            TxRejected::NonceTooHigh {
                next: 0,
                nonce: 5_000,
                max_gap: 1_024,
            },
            "nonce too high",
        ),
        (
            raw(&k, tx(u64::MAX, 10 * GWEI, GWEI)),
            TxRejected::NonceMax,
            "nonce has max value",
        ),
    ];
    for (bytes, want, words) in &cases {
        let got = rejection(&chain, bytes);
        assert_eq!(&got, want);
        assert!(got.to_string().starts_with(words), "{got}");
    }
    // Bytes that are not a transaction, and a typed transaction with trailing garbage.
    let mut trailing = raw(&k, tx(0, 10 * GWEI, GWEI));
    trailing.push(0);
    for bytes in [
        vec![0xf8, 0x01, 0x02],
        b"not a transaction".to_vec(),
        trailing,
    ] {
        let got = rejection(&chain, &bytes);
        assert!(matches!(got, TxRejected::Rlp(_)), "{got:?}");
        assert!(got.to_string().starts_with("rlp: "), "{got}");
    }
    // A signature that recovers to no key.
    let t = tx(0, 10 * GWEI, GWEI);
    let bad = TxEnvelope::from(t.into_signed(Signature::new(U256::ZERO, U256::from(1), false)));
    assert_eq!(
        rejection(&chain, &bad.encoded_2718()),
        TxRejected::InvalidSender
    );

    assert!(chain.pool().is_empty(), "nothing was pooled");
    chain.mine_block(None).unwrap();
    // Once nonce 0 is mined, it is too low.
    chain.submit_raw(&raw(&k, tx(0, 10 * GWEI, GWEI))).unwrap();
    chain.mine_block(None).unwrap();
    assert_eq!(
        rejection(&chain, &raw(&k, tx(0, 20 * GWEI, GWEI))),
        TxRejected::NonceTooLow { next: 1, nonce: 0 }
    );
    assert_eq!(chain.head().number, 2);
}

#[test]
fn a_transaction_that_cannot_pay_at_mining_time_is_dropped() {
    let (_d, chain) = open();
    let k = dev_key();
    let to = PrivateKeySigner::random();
    // Fund a fresh account with just enough for one transfer, then let it send two.
    let fee = U256::from(21_000u128 * 10 * GWEI);
    let fund = TxEip1559 {
        to: TxKind::Call(to.address()),
        value: fee + U256::from(1),
        ..tx(0, 10 * GWEI, GWEI)
    };
    chain.submit_raw(&raw(&k, fund)).unwrap();
    chain.mine_block(None).unwrap();
    let first = chain.submit_raw(&raw(&to, tx(0, 10 * GWEI, GWEI))).unwrap();
    // The second passes admission checks against the current balance...
    let second = chain.submit_raw(&raw(&to, tx(1, 10 * GWEI, GWEI))).unwrap();
    let b = chain.mine_block(None).unwrap();
    // ...but cannot pay once the first has run: it is dropped, not mined, not kept.
    assert_eq!(b.tx_hashes, vec![first]);
    assert!(chain.pool().get(&second).is_none());
}

/// A block becomes visible with the head: a reader polling for a transaction, while blocks
/// commit, finds it only once its block (or a later one) is the head, with the sender's nonce
/// at the head already past it.
#[test]
fn a_mined_transaction_is_never_seen_before_its_block_is_the_head() {
    let (_d, chain) = open();
    let chain = std::sync::Arc::new(chain);
    let k = dev_key();
    let sender = k.address();
    let (sent, to_read) = std::sync::mpsc::channel::<(alloy_primitives::B256, u64)>();
    let reader = {
        let chain = chain.clone();
        std::thread::spawn(move || {
            let mut found = 0;
            for (hash, nonce) in to_read {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
                let loc = loop {
                    if let Some(loc) = chain.tx_location(hash).unwrap() {
                        break loc;
                    }
                    assert!(
                        std::time::Instant::now() < deadline,
                        "transaction {nonce} not found 60 s after it was sent"
                    );
                    std::hint::spin_loop();
                };
                let head = chain.head();
                let block = chain.store().header(loc.block_hash).unwrap().unwrap();
                assert!(
                    head.number >= block.number,
                    "transaction {nonce} seen in block {} while the head is {}",
                    block.number,
                    head.number
                );
                let state = chain.store().state_at(head.number).unwrap();
                let at_head = state.account(sender).unwrap().map(|a| a.nonce);
                assert!(
                    at_head > Some(nonce),
                    "nonce {at_head:?} at the head after {nonce}"
                );
                found += 1;
            }
            found
        })
    };
    for nonce in 0..200 {
        let h = chain
            .submit_raw(&raw(&k, tx(nonce, 10 * GWEI, GWEI)))
            .unwrap();
        sent.send((h, nonce)).unwrap();
        chain.mine_block(None).unwrap();
    }
    drop(sent);
    assert_eq!(reader.join().unwrap(), 200);
}
