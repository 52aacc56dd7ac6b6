//! Merge-mined blocks through the one import path: every dev block carries a real proof,
//! every broken rule is refused with its own reason, heavier branches win through reorgs (and
//! an invalid heavier branch leaves the chain as it was), uncles count in the chain's weight.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use scion_chain::{Chain, ChainError, ImportResult, InvalidBlock};
use scion_consensus::work::seal;
use scion_consensus::{verify, Commitment, MergeMiningProof};
use scion_types::{Block, ChainSpec};

const GWEI: u128 = 1_000_000_000;
const DEV_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

fn open(spec: ChainSpec) -> (tempfile::TempDir, Chain) {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::open(dir.path(), spec).unwrap();
    (dir, chain)
}

/// Dev account 1 of the test mnemonic.
const DEV_KEY1: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

fn transfer(nonce: u64, to: Address, value: u64) -> Vec<u8> {
    transfer_from(DEV_KEY, nonce, to, value)
}

fn transfer_from(key: &str, nonce: u64, to: Address, value: u64) -> Vec<u8> {
    let k: PrivateKeySigner = key.parse().unwrap();
    let tx = TxEip1559 {
        chain_id: 7773,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 10 * GWEI,
        max_priority_fee_per_gas: GWEI,
        to: TxKind::Call(to),
        value: U256::from(value),
        ..Default::default()
    };
    let sig = k.sign_hash_sync(&tx.signature_hash()).unwrap();
    TxEnvelope::from(tx.into_signed(sig)).encoded_2718()
}

fn dev_address() -> Address {
    DEV_KEY.parse::<PrivateKeySigner>().unwrap().address()
}

fn block(chain: &Chain, n: u64) -> Block {
    let hash = chain.store().canonical_hash(n).unwrap().unwrap();
    chain.store().block(hash).unwrap().unwrap()
}

fn balance(chain: &Chain, a: Address) -> U256 {
    chain
        .store()
        .latest_account(a)
        .unwrap()
        .map(|x| x.balance)
        .unwrap_or_default()
}

/// A change made to a template before it is sealed.
type Tamper = Box<dyn FnOnce(&mut Block)>;

/// A spec whose blocks need real work: a wrong proof fails with overwhelming likelihood.
fn hard_spec() -> ChainSpec {
    let mut spec = ChainSpec::dev();
    spec.params.minimum_difficulty = U256::from(100_000);
    spec.difficulty = U256::from(100_000);
    spec
}

/// Seals a block as it stands (its hash for merged mining, its difficulty, its time).
fn sealed(mut b: Block, extra_nonce: u64) -> Block {
    let h = &b.header;
    let s = seal(
        h.hash_for_merged_mining(),
        h.difficulty,
        h.timestamp as u32,
        extra_nonce,
    )
    .unwrap();
    b.header.btc_header = s.btc_header.into();
    b.header.merkle_proof = s.merkle_proof.into();
    b.header.compressed_coinbase = s.compressed_coinbase.into();
    b
}

/// Builds a template on the head, lets `tamper` change the header, seals and imports it.
fn import_tampered(
    chain: &Chain,
    tamper: impl FnOnce(&mut Block),
) -> (ImportResult, Option<String>) {
    let t = chain.build_template(None).unwrap();
    let mut b = t.block.clone();
    tamper(&mut b);
    let r = chain.import_block(sealed(b, 1)).unwrap();
    (r.result, r.reason.map(|e| e.to_string()))
}

#[test]
fn dev_blocks_carry_real_proofs_at_their_difficulty() {
    let (_d, chain) = open(hard_spec());
    chain
        .submit_raw(&transfer(0, Address::repeat_byte(1), 5))
        .unwrap();
    let mined = chain.mine_block(None).unwrap();
    let h = &mined.header;
    assert_eq!(h.btc_header.len(), 80);
    assert!(!h.compressed_coinbase.is_empty());
    assert_ne!(h.hash(), h.hash_for_merged_mining());
    let proof = MergeMiningProof {
        btc_header: &h.btc_header,
        merkle_proof: &h.merkle_proof,
        compressed_coinbase: &h.compressed_coinbase,
    };
    assert_eq!(
        verify(
            &proof,
            Commitment::Full(h.hash_for_merged_mining()),
            h.difficulty
        ),
        Ok(())
    );
    // Cumulative difficulty: genesis plus this block.
    assert_eq!(
        chain.total_difficulty(h.hash()).unwrap(),
        Some(U256::from(200_000))
    );
}

#[test]
fn every_broken_rule_is_refused_with_its_own_reason() {
    let (_d, chain) = open(hard_spec());
    chain.mine_block(None).unwrap();
    let cases: Vec<(&str, Tamper)> = vec![
        (
            "difficulty",
            Box::new(|b: &mut Block| b.header.difficulty += U256::from(1)),
        ),
        (
            "base fee",
            Box::new(|b: &mut Block| b.header.base_fee_per_gas += 1),
        ),
        (
            "timestamp",
            Box::new(|b: &mut Block| b.header.timestamp = 0),
        ),
        (
            "gas limit",
            Box::new(|b: &mut Block| b.header.gas_limit *= 2),
        ),
        (
            "extra data",
            Box::new(|b: &mut Block| b.header.extra_data = Bytes::from(vec![0; 33])),
        ),
        (
            "state root",
            Box::new(|b: &mut Block| b.header.state_root = B256::repeat_byte(1)),
        ),
        ("gas used", Box::new(|b: &mut Block| b.header.gas_used = 1)),
        (
            "transactions root",
            Box::new(|b: &mut Block| b.header.transactions_root = B256::repeat_byte(2)),
        ),
        (
            "ommers hash",
            Box::new(|b: &mut Block| b.header.ommers_hash = B256::repeat_byte(3)),
        ),
    ];
    for (what, tamper) in cases {
        let (result, reason) = import_tampered(&chain, tamper);
        assert_eq!(result, ImportResult::InvalidBlock, "{what}");
        let reason = reason.unwrap();
        assert!(reason.contains(what), "{what}: {reason}");
    }
    // Proof-level breakage on an honest template.
    let t = chain.build_template(None).unwrap();
    let h = &t.block.header;
    let good = seal(
        t.hash_for_merged_mining,
        h.difficulty,
        h.timestamp as u32,
        9,
    )
    .unwrap();
    let with = |btc: Vec<u8>, proof: Vec<u8>, cc: Vec<u8>| {
        let mut b = t.block.clone();
        b.header.btc_header = btc.into();
        b.header.merkle_proof = proof.into();
        b.header.compressed_coinbase = cc.into();
        chain.import_block(b).unwrap()
    };
    let mut lazy = good.btc_header.clone();
    lazy[76] ^= 0xff; // another nonce: almost surely not enough work
    let r = with(
        lazy,
        good.merkle_proof.clone(),
        good.compressed_coinbase.clone(),
    );
    assert!(r
        .reason
        .unwrap()
        .to_string()
        .contains("does not meet difficulty"));
    let r = with(
        good.btc_header[..79].to_vec(),
        good.merkle_proof.clone(),
        good.compressed_coinbase.clone(),
    );
    assert!(r.reason.unwrap().to_string().contains("80 bytes"));
    let other = seal(B256::repeat_byte(9), h.difficulty, h.timestamp as u32, 9).unwrap();
    let r = with(
        other.btc_header,
        other.merkle_proof,
        other.compressed_coinbase,
    );
    assert!(r
        .reason
        .unwrap()
        .to_string()
        .contains("does not commit to this block"));
    let r = with(
        good.btc_header.clone(),
        vec![0; 32],
        good.compressed_coinbase.clone(),
    );
    assert!(r.reason.unwrap().to_string().contains("merkle"));
    assert_eq!(chain.head().number, 1, "nothing invalid became the head");
    // The honest one imports; twice is EXIST; an orphan is NO_PARENT.
    let r = with(
        good.btc_header.clone(),
        good.merkle_proof.clone(),
        good.compressed_coinbase.clone(),
    );
    assert_eq!(r.result, ImportResult::ImportedBest);
    let r = with(good.btc_header, good.merkle_proof, good.compressed_coinbase);
    assert_eq!(r.result, ImportResult::Exist);
    let mut orphan = block(&chain, 2);
    orphan.header.parent_hash = B256::repeat_byte(7);
    assert_eq!(
        chain.import_block(orphan).unwrap().result,
        ImportResult::NoParent
    );
}

/// Two nodes share a genesis; B mines a longer, different branch; A imports it block by block
/// and reorgs `depth` blocks deep. Afterwards every answer follows B's chain and A's dropped
/// transactions are back in its pool.
fn reorg(depth: u64) {
    let (_da, a) = open(ChainSpec::dev());
    let (_db, b) = open(ChainSpec::dev());
    let (x, y) = (Address::repeat_byte(0xaa), Address::repeat_byte(0xbb));
    // A's branch carries transfers from account 1, which B's branch does not touch.
    for i in 0..depth {
        a.submit_raw(&transfer_from(DEV_KEY1, i, x, 100)).unwrap();
        a.mine_block(None).unwrap();
    }
    for i in 0..=depth {
        b.submit_raw(&transfer(i, y, 7)).unwrap();
        b.mine_block(None).unwrap();
    }
    assert_eq!(balance(&a, x), U256::from(100 * depth));
    let a_tx = *block(&a, 1).transactions[0].tx_hash();
    let mut results = Vec::new();
    for n in 1..=depth + 1 {
        results.push(a.import_block(block(&b, n)).unwrap().result);
    }
    // Equal weight until B's branch is longer: then it becomes best.
    assert!(results[..depth as usize]
        .iter()
        .all(|r| *r == ImportResult::ImportedNotBest || *r == ImportResult::ImportedBest));
    assert_eq!(*results.last().unwrap(), ImportResult::ImportedBest);
    assert_eq!(a.head().hash(), b.head().hash());
    assert_eq!(a.head().state_root, b.head().state_root);
    assert_eq!(
        balance(&a, x),
        U256::ZERO,
        "A's transfers are gone with its branch"
    );
    assert_eq!(balance(&a, y), U256::from(7 * (depth + 1)));
    assert_eq!(a.state_nonce(dev_address()).unwrap(), depth + 1);
    assert!(
        a.store().tx_location(a_tx).unwrap().is_none(),
        "dropped receipts are not served"
    );
    for n in 1..=depth + 1 {
        assert_eq!(block(&a, n).hash(), block(&b, n).hash());
        let receipts = a.store().receipts(block(&a, n).hash()).unwrap().unwrap();
        assert_eq!(receipts.len(), 1);
    }
    // A's dropped transactions are back in its pool and the next block includes them all.
    assert_eq!(a.pool().len() as u64, depth);
    assert!(a.has_pending().unwrap());
    let next = a.mine_block(None).unwrap();
    assert_eq!(next.header.number, depth + 2);
    assert_eq!(next.tx_hashes.len() as u64, depth);
    assert!(next.tx_hashes.contains(&a_tx));
    assert_eq!(balance(&a, x), U256::from(100 * depth));
}

#[test]
fn a_heavier_branch_wins_one_block_deep() {
    reorg(1);
}

#[test]
fn a_heavier_branch_wins_twelve_blocks_deep() {
    reorg(12);
}

#[test]
fn outside_dev_the_bitcoin_time_must_match_the_block() {
    let mut spec = ChainSpec::dev();
    spec.params.dev = false;
    let (_d, chain) = open(spec);
    let t = chain.build_template(None).unwrap();
    let h = &t.block.header;
    let far = seal(
        t.hash_for_merged_mining,
        h.difficulty,
        h.timestamp as u32 - 1_000,
        1,
    )
    .unwrap();
    let mut b = t.block.clone();
    b.header.btc_header = far.btc_header.into();
    b.header.merkle_proof = far.merkle_proof.into();
    b.header.compressed_coinbase = far.compressed_coinbase.into();
    let r = chain.import_block(b).unwrap();
    assert_eq!(r.result, ImportResult::InvalidBlock);
    assert!(r
        .reason
        .unwrap()
        .to_string()
        .contains("bitcoin header time"));
    let near = seal(
        t.hash_for_merged_mining,
        h.difficulty,
        h.timestamp as u32 - 10,
        1,
    )
    .unwrap();
    let r = chain
        .submit_solution(near.btc_header, near.merkle_proof, near.compressed_coinbase)
        .unwrap();
    assert_eq!(r.result, ImportResult::ImportedBest);
}

#[test]
fn the_last_twenty_templates_stay_valid() {
    let (_d, chain) = open(ChainSpec::dev());
    let first = chain.build_template(Some(1_000)).unwrap();
    // Nineteen newer templates (other timestamps, so other hashes): the first is still kept.
    for i in 1..20u64 {
        chain.build_template(Some(1_000 + i)).unwrap();
    }
    assert!(chain.template(&first.hash_for_merged_mining).is_some());
    // One more pushes it out; a solution for it is then refused.
    chain.build_template(Some(2_000)).unwrap();
    assert!(chain.template(&first.hash_for_merged_mining).is_none());
    let h = &first.block.header;
    let s = seal(
        first.hash_for_merged_mining,
        h.difficulty,
        h.timestamp as u32,
        1,
    )
    .unwrap();
    let err = chain
        .submit_solution(s.btc_header, s.merkle_proof, s.compressed_coinbase)
        .unwrap_err();
    assert!(
        matches!(err, ChainError::UnknownWork(h) if h == first.hash_for_merged_mining),
        "{err}"
    );
    assert!(err.to_string().contains("no template"), "{err}");
    // A solution for a kept, older template imports even though newer work exists.
    let kept = chain.build_template(Some(3_000)).unwrap();
    chain.build_template(Some(3_001)).unwrap();
    let h = &kept.block.header;
    let s = seal(
        kept.hash_for_merged_mining,
        h.difficulty,
        h.timestamp as u32,
        1,
    )
    .unwrap();
    let r = chain
        .submit_solution(s.btc_header, s.merkle_proof, s.compressed_coinbase)
        .unwrap();
    assert_eq!(r.result, ImportResult::ImportedBest);
}

#[test]
fn an_invalid_heavier_branch_leaves_the_chain_as_it_was() {
    let (_da, a) = open(ChainSpec::dev());
    let (_db, b) = open(ChainSpec::dev());
    a.submit_raw(&transfer(0, Address::repeat_byte(1), 1))
        .unwrap();
    a.mine_block(None).unwrap();
    let head = a.head();
    // B's branch: a good block 1, then a block 2 with a wrong state root but a valid proof.
    b.mine_block(None).unwrap();
    let t = b.build_template(None).unwrap();
    let mut bad = t.block.clone();
    bad.header.state_root = B256::repeat_byte(0xee);
    let bad = sealed(bad, 3);

    a.import_block(block(&b, 1)).unwrap();
    let r = a.import_block(bad).unwrap();
    assert_eq!(r.result, ImportResult::InvalidBlock, "{:?}", r.reason);
    match &r.reason {
        Some(InvalidBlock::Branch { number: 2, reason }) => match **reason {
            InvalidBlock::StateRoot(root) => assert_eq!(root.expected, B256::repeat_byte(0xee)),
            ref other => panic!("not the state root: {other}"),
        },
        other => panic!("not a branch block: {other:?}"),
    }
    assert!(r.reason.unwrap().to_string().contains("state root"));
    assert_eq!(a.head().hash(), head.hash(), "the old chain was restored");
    assert_eq!(balance(&a, Address::repeat_byte(1)), U256::from(1));
    assert_eq!(a.mine_block(None).unwrap().header.number, 2);
}

#[test]
fn siblings_become_uncles_and_add_their_weight() {
    let (_da, a) = open(ChainSpec::dev());
    let (_db, b) = open(ChainSpec::dev());
    a.mine_block(None).unwrap();
    b.import_block(block(&a, 1)).unwrap();
    // Both mine block 2; A sees B's as a side block (or prefers it on the tie-break).
    let own = a.mine_block(None).unwrap().header.hash();
    b.submit_raw(&transfer(0, Address::repeat_byte(5), 1))
        .unwrap();
    b.mine_block(None).unwrap();
    let sibling = block(&b, 2).hash();
    let r = a.import_block(block(&b, 2)).unwrap();
    assert!(matches!(
        r.result,
        ImportResult::ImportedNotBest | ImportResult::ImportedBest
    ));
    let uncle = if a.head().hash() == own { sibling } else { own };
    let next = a.mine_block(None).unwrap();
    let b3 = a.store().block(next.header.hash()).unwrap().unwrap();
    assert_eq!(b3.uncles.len(), 1);
    assert_eq!(b3.uncles[0].hash(), uncle);
    let td = a.total_difficulty(next.header.hash()).unwrap().unwrap();
    // Genesis, blocks 1–3 and one uncle, difficulty 1 each.
    assert_eq!(td, U256::from(5));
    // B accepts A's block with the uncle too (it knows the uncle's parent).
    // A later block may not reference the same uncle again.
    let b4 = a.mine_block(None).unwrap();
    assert!(a
        .store()
        .block(b4.header.hash())
        .unwrap()
        .unwrap()
        .uncles
        .is_empty());
}
