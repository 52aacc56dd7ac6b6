//! The miner's side of merged mining, as a pool does it: a Bitcoin coinbase that commits to a
//! Scion block (BIP34 height, payout, witness commitment, the `RSKBLOCK:` output last), a
//! Bitcoin header over it and other transactions, and grinding the nonce until the Scion
//! target is met. Used by the dev node's embedded miner and by `scion miner`.

use crate::merge_mining::merkle_parents;
use crate::merge_mining::{coinbase_merkle_proof, compress_coinbase, meets_difficulty, RSK_TAG};
use crate::ConsensusError;
use alloy_primitives::{B256, U256};
use bitcoin::blockdata::{opcodes, script};
use bitcoin::hashes::{sha256d, Hash};
use bitcoin::{
    absolute, transaction, Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness,
};

/// The three merged-mining header fields of a sealed block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    /// 80-byte Bitcoin header.
    pub btc_header: Vec<u8>,
    /// RSKIP92 coinbase proof (display-order siblings).
    pub merkle_proof: Vec<u8>,
    /// Compressed coinbase.
    pub compressed_coinbase: Vec<u8>,
}

/// A Bitcoin coinbase for `height` paying `payout`, with a segwit witness commitment and the
/// `RSKBLOCK:` commitment to `hash_for_merged_mining` in a zero-value OP_RETURN output placed last.
pub fn coinbase(
    height: u32,
    extra_nonce: u64,
    payout: ScriptBuf,
    hash_for_merged_mining: B256,
    witness_root: [u8; 32],
) -> Transaction {
    let script_sig = script::Builder::new()
        .push_int(i64::from(height))
        .push_slice(extra_nonce.to_le_bytes())
        .into_script();
    // BIP141: commitment = SHA256d(witness root ‖ witness reserved value (32 zero bytes)).
    let mut preimage = [0u8; 64];
    preimage[..32].copy_from_slice(&witness_root);
    let commitment = sha256d::Hash::hash(&preimage).to_byte_array();
    let mut wc = vec![0xaa, 0x21, 0xa9, 0xed];
    wc.extend_from_slice(&commitment);
    let mut rsk = RSK_TAG.to_vec();
    rsk.extend_from_slice(hash_for_merged_mining.as_slice());
    let op_return = |data: Vec<u8>| -> ScriptBuf {
        let push = script::PushBytesBuf::try_from(data).unwrap_or_default();
        script::Builder::new()
            .push_opcode(opcodes::all::OP_RETURN)
            .push_slice(push)
            .into_script()
    };
    Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig,
            sequence: Sequence::MAX,
            witness: Witness::from_slice(&[[0u8; 32]]),
        }],
        output: vec![
            TxOut {
                value: Amount::from_sat(312_500_000),
                script_pubkey: payout,
            },
            TxOut {
                value: Amount::ZERO,
                script_pubkey: op_return(wc),
            },
            TxOut {
                value: Amount::ZERO,
                script_pubkey: op_return(rsk),
            },
        ],
    }
}

/// The coinbase as Scion hashes and searches it: without its witness.
pub fn stripped(tx: &Transaction) -> Vec<u8> {
    let mut t = tx.clone();
    for input in &mut t.input {
        input.witness = Witness::new();
    }
    bitcoin::consensus::serialize(&t)
}

/// An 80-byte Bitcoin header.
pub fn btc_header(
    prev: [u8; 32],
    merkle_root: [u8; 32],
    time: u32,
    bits: u32,
    nonce: u32,
) -> [u8; 80] {
    let mut h = [0u8; 80];
    h[..4].copy_from_slice(&0x2000_0000u32.to_le_bytes());
    h[4..36].copy_from_slice(&prev);
    h[36..68].copy_from_slice(&merkle_root);
    h[68..72].copy_from_slice(&time.to_le_bytes());
    h[72..76].copy_from_slice(&bits.to_le_bytes());
    h[76..80].copy_from_slice(&nonce.to_le_bytes());
    h
}

/// Bitcoin's merkle root of txids (internal order).
pub fn merkle_root(txids: &[[u8; 32]]) -> [u8; 32] {
    let mut level = txids.to_vec();
    while level.len() > 1 {
        level = merkle_parents(&level);
    }
    level.first().copied().unwrap_or_default()
}

/// Tries nonces from `start` until the header meets `difficulty`; `None` after `tries`.
pub fn grind(header: &mut [u8; 80], difficulty: U256, start: u32, tries: u32) -> Option<u32> {
    for i in 0..tries {
        let nonce = start.wrapping_add(i);
        header[76..80].copy_from_slice(&nonce.to_le_bytes());
        if meets_difficulty(header, difficulty) {
            return Some(nonce);
        }
    }
    None
}

/// Seals a block whose hash for merged mining is `hash_for_merged_mining` at `difficulty`: a coinbase-only
/// Bitcoin block at `time`, nonce ground until the target is met. For dev and tests; a real
/// miner builds the block around its pool's transactions.
pub fn seal(
    hash_for_merged_mining: B256,
    difficulty: U256,
    time: u32,
    extra_nonce: u64,
) -> Result<Seal, ConsensusError> {
    let payout = ScriptBuf::new_op_return([0u8; 0]);
    seal_with(
        hash_for_merged_mining,
        difficulty,
        time,
        extra_nonce,
        payout,
        &[],
    )
}

/// Seals with `others` (txids, internal order) after the coinbase in the Bitcoin block.
pub fn seal_with(
    hash_for_merged_mining: B256,
    difficulty: U256,
    time: u32,
    extra_nonce: u64,
    payout: ScriptBuf,
    others: &[[u8; 32]],
) -> Result<Seal, ConsensusError> {
    let mut extra = extra_nonce;
    loop {
        let cb = coinbase(
            800_000,
            extra,
            payout.clone(),
            hash_for_merged_mining,
            [0u8; 32],
        );
        let raw = stripped(&cb);
        let txid = sha256d::Hash::hash(&raw).to_byte_array();
        let mut txids = vec![txid];
        txids.extend_from_slice(others);
        let mut header = btc_header([0u8; 32], merkle_root(&txids), time, 0x207f_ffff, 0);
        if grind(&mut header, difficulty, 0, u32::MAX).is_some() {
            return Ok(Seal {
                btc_header: header.to_vec(),
                merkle_proof: coinbase_merkle_proof(&txids),
                compressed_coinbase: compress_coinbase(&raw)?,
            });
        }
        // The nonce space ran out: change the coinbase and try again.
        extra = extra.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{verify, Commitment, MergeMiningProof};

    #[test]
    fn sealed_blocks_verify_and_break_when_touched() {
        let hash_for_merged_mining = B256::repeat_byte(0x3c);
        let difficulty = U256::from(1000);
        let others: Vec<[u8; 32]> = (1..6u8).map(|i| [i; 32]).collect();
        let seal = seal_with(
            hash_for_merged_mining,
            difficulty,
            1_700_000_000,
            7,
            ScriptBuf::new(),
            &others,
        )
        .unwrap();
        let proof = MergeMiningProof {
            btc_header: &seal.btc_header,
            merkle_proof: &seal.merkle_proof,
            compressed_coinbase: &seal.compressed_coinbase,
        };
        assert_eq!(
            verify(&proof, Commitment::Full(hash_for_merged_mining), difficulty),
            Ok(())
        );
        assert_eq!(seal.merkle_proof.len(), 3 * 32);
        // Another block's hash is not committed to.
        let other = B256::repeat_byte(0x3d);
        assert!(verify(&proof, Commitment::Full(other), difficulty).is_err());
    }
}
