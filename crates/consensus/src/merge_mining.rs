//! Rootstock's merged-mining proof (PROTOCOL.md §1.2–1.5): the compressed coinbase (SHA-256
//! midstate ‖ tail), the `RSKBLOCK:` commitment rules, the RSKIP92 coinbase inclusion proof,
//! and proof of work against the Scion difficulty. Checks run in rskj's order, so the first
//! failure is the error.

use crate::ConsensusError;
use alloy_primitives::{B256, U256, U512};
use bitcoin::hashes::{sha256, sha256d, Hash, HashEngine};

/// `RSKBLOCK:`, the tag that precedes the commitment in the coinbase.
pub const RSK_TAG: &[u8] = b"RSKBLOCK:";
/// Longest merkle proof accepted (RSKIP180: 30 levels).
pub const MAX_MERKLE_PROOF_LEN: usize = 960;
/// The commitment must start within the first 64 bytes of the coinbase tail.
pub const MAX_TAG_POSITION: usize = 64;
/// At most this many bytes may follow the 32-byte commitment.
pub const MAX_BYTES_AFTER_COMMITMENT: usize = 128;
/// Length of the compressed coinbase's prefix: byte count (8) and eight state words (32).
const MIDSTATE_LEN: usize = 40;
/// `RSKBLOCK:` and the 32-byte commitment after it.
const TAG_AND_COMMITMENT_LEN: usize = RSK_TAG.len() + 32;

/// What the coinbase must commit to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commitment {
    /// The full 32-byte hash for merged mining (Scion).
    Full(B256),
    /// RSKIP110 (Rootstock since Orchid): the first 20 bytes of the hash for merged mining,
    /// then 12 fork-detection bytes whose last 4 are the block number. Used to check
    /// Rootstock's own blocks.
    Rskip110 {
        /// First 20 bytes of the hash for merged mining.
        prefix: [u8; 20],
        /// The block's number.
        block_number: u64,
    },
}

/// The three merged-mining fields of a header.
#[derive(Debug, Clone, Copy)]
pub struct MergeMiningProof<'a> {
    /// The 80-byte Bitcoin header.
    pub btc_header: &'a [u8],
    /// Sibling hashes, bottom to top, 32 bytes each in display order.
    pub merkle_proof: &'a [u8],
    /// byte count (u64 BE) ‖ SHA-256 state (8 × u32 BE) ‖ tail.
    pub compressed_coinbase: &'a [u8],
}

/// Double SHA-256 of a Bitcoin header, internal byte order.
pub fn btc_header_hash(header: &[u8]) -> [u8; 32] {
    sha256d::Hash::hash(header).to_byte_array()
}

/// floor(2^256 / max(difficulty, 3)): the largest header hash that meets `difficulty`.
pub fn target(difficulty: U256) -> U256 {
    // 2^256: limb 4 (little-endian, 64 bits each) is 1.
    const TWO_POW_256: U512 = U512::from_limbs([0, 0, 0, 0, 1, 0, 0, 0]);
    let d = U512::from(difficulty.max(U256::from(3)));
    // d ≥ 3, so the division cannot fail and t < 2^255 fits.
    let t = TWO_POW_256.checked_div(d).unwrap_or_default();
    U256::from_limbs_slice(&t.as_limbs()[..4])
}

/// True when the header's hash, read little-endian as Bitcoin does, is at most the target.
pub fn meets_difficulty(btc_header: &[u8], difficulty: U256) -> bool {
    U256::from_le_bytes(btc_header_hash(btc_header)) <= target(difficulty)
}

/// The Bitcoin header's time must be within 300 s of the block's timestamp (PROTOCOL.md §1.5).
pub fn check_btc_time(btc_header: &[u8], timestamp: u64) -> Result<(), ConsensusError> {
    let t: [u8; 4] = btc_header
        .get(68..72)
        .and_then(|t| t.try_into().ok())
        .ok_or(ConsensusError::BtcHeaderSize {
            len: btc_header.len(),
        })?;
    let btc_time = u32::from_le_bytes(t);
    if u64::from(btc_time).abs_diff(timestamp) >= 300 {
        return Err(ConsensusError::BitcoinTimeTooFar {
            btc_time,
            timestamp,
        });
    }
    Ok(())
}

/// Splits a compressed coinbase into (byte count, state words, tail).
fn split_compressed(cc: &[u8]) -> Result<(u64, [u8; 32], &[u8]), ConsensusError> {
    // The MIDSTATE_LEN-byte prefix: the count (8) and the state (32).
    let too_short = || ConsensusError::CompressedCoinbaseTooShort { len: cc.len() };
    let (count, rest) = cc.split_first_chunk::<8>().ok_or_else(too_short)?;
    let (state, tail) = rest.split_first_chunk::<32>().ok_or_else(too_short)?;
    let count = u64::from_be_bytes(*count);
    if count % 64 != 0 {
        return Err(ConsensusError::MidstateNotBlockAligned { byte_count: count });
    }
    Ok((count, *state, tail))
}

/// The coinbase txid (internal order) from a compressed coinbase: resume SHA-256 from the
/// midstate, feed the tail, finish, and hash once more.
pub fn coinbase_txid(compressed_coinbase: &[u8]) -> Result<[u8; 32], ConsensusError> {
    let (count, state, tail) = split_compressed(compressed_coinbase)?;
    let count = usize::try_from(count)
        .map_err(|_| ConsensusError::MidstateNotBlockAligned { byte_count: count })?;
    let midstate = sha256::Midstate::from_byte_array(state);
    let mut engine = sha256::HashEngine::from_midstate(midstate, count);
    engine.input(tail);
    let first = sha256::Hash::from_engine(engine);
    Ok(sha256::Hash::hash(first.as_byte_array()).to_byte_array())
}

/// Compresses a (witness-stripped) coinbase the way pools do: everything before the 64-byte
/// block that holds the last `RSKBLOCK:` goes into the midstate.
pub fn compress_coinbase(coinbase: &[u8]) -> Result<Vec<u8>, ConsensusError> {
    let pos = rfind(coinbase, RSK_TAG).ok_or(ConsensusError::CommitmentNotFound)?;
    // The start of the 64-byte block holding `pos`: at most `pos`, so no overflow.
    let cut = (pos / 64).saturating_mul(64);
    // cut ≤ pos < coinbase.len(), so the split cannot panic.
    let (midstate_part, tail) = coinbase.split_at(cut);
    let mut engine = sha256::HashEngine::default();
    engine.input(midstate_part);
    let midstate = engine.midstate();
    let mut out = Vec::with_capacity(MIDSTATE_LEN.saturating_add(tail.len()));
    out.extend_from_slice(&crate::len_u64(cut).to_be_bytes());
    out.extend_from_slice(midstate.as_ref());
    out.extend_from_slice(tail);
    Ok(out)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// The 32 bytes after the last `RSKBLOCK:` in a coinbase tail, if there are 32.
pub fn find_commitment(tail: &[u8]) -> Option<B256> {
    let pos = rfind(tail, RSK_TAG)?;
    let after_tag = tail.get(pos..)?.strip_prefix(RSK_TAG)?;
    after_tag.first_chunk::<32>().map(|c| B256::new(*c))
}

/// The commitment a compressed coinbase carries (the template key for mnr_ submissions).
pub fn commitment_of(compressed_coinbase: &[u8]) -> Result<B256, ConsensusError> {
    let (_, _, tail) = split_compressed(compressed_coinbase)?;
    find_commitment(tail).ok_or(ConsensusError::CommitmentNotFound)
}

/// Checks the coinbase commitment rules on the tail (PROTOCOL.md §1.2).
fn check_tag(tail: &[u8], byte_count: u64, expected: Commitment) -> Result<(), ConsensusError> {
    // The last occurrence of the tag followed by a commitment we accept.
    let matches = |w: &[u8]| -> bool {
        let Some(c) = w.strip_prefix(RSK_TAG) else {
            return false;
        };
        match expected {
            Commitment::Full(h) => c == h.as_slice(),
            Commitment::Rskip110 { prefix, .. } => c.starts_with(&prefix),
        }
    };
    let pos = tail
        .windows(TAG_AND_COMMITMENT_LEN)
        .rposition(matches)
        .ok_or(ConsensusError::CommitmentNotFound)?;
    if pos >= MAX_TAG_POSITION {
        return Err(ConsensusError::CommitmentTooDeep { position: pos });
    }
    if rfind(tail, RSK_TAG) != Some(pos) {
        return Err(ConsensusError::CommitmentNotLastTag);
    }
    // The window matched at `pos`, so the tag and 32 bytes are there.
    let (commitment, after) = tail
        .get(pos..)
        .and_then(|w| w.strip_prefix(RSK_TAG))
        .and_then(|w| w.split_first_chunk::<32>())
        .ok_or(ConsensusError::CommitmentNotFound)?;
    if after.len() > MAX_BYTES_AFTER_COMMITMENT {
        return Err(ConsensusError::TooManyBytesAfterCommitment { bytes: after.len() });
    }
    if let Commitment::Rskip110 { block_number, .. } = expected {
        let [.., a, b, c, d] = *commitment;
        let found = u32::from_be_bytes([a, b, c, d]);
        if u64::from(found) != block_number {
            return Err(ConsensusError::ForkDetectionBlockNumber {
                expected: block_number,
                found,
            });
        }
    }
    let total = byte_count.saturating_add(crate::len_u64(tail.len()));
    if total <= 64 {
        return Err(ConsensusError::CoinbaseTooShort { len: total });
    }
    Ok(())
}

/// A 64-byte merkle node input that also parses as a Bitcoin transaction could let a forged
/// "transaction" stand in for an inner node; such steps are refused.
fn looks_like_transaction(node: &[u8; 64]) -> bool {
    bitcoin::consensus::deserialize::<bitcoin::Transaction>(node).is_ok()
}

/// Folds the RSKIP92 proof from the coinbase txid up to a merkle root (internal order).
fn fold_proof(txid: [u8; 32], proof: &[u8]) -> Result<[u8; 32], ConsensusError> {
    let mut node = txid;
    let (entries, _) = proof.as_chunks::<32>();
    for entry in entries {
        let mut sibling = *entry;
        sibling.reverse();
        let input = concat(&node, &sibling);
        if looks_like_transaction(&input) {
            return Err(ConsensusError::MerkleNodeLooksLikeTransaction);
        }
        node = sha256d::Hash::hash(&input).to_byte_array();
    }
    Ok(node)
}

/// The RSKIP92 proof for the coinbase (leaf 0) of a block with these txids (internal order):
/// sibling hashes bottom to top, each in display order.
pub fn coinbase_merkle_proof(txids: &[[u8; 32]]) -> Vec<u8> {
    let mut level: Vec<[u8; 32]> = txids.to_vec();
    let mut proof = Vec::new();
    // While there is more than one node, the coinbase (node 0) has a sibling (node 1).
    while let Some(sibling) = level.get(1) {
        proof.extend(sibling.iter().rev());
        level = merkle_parents(&level);
    }
    proof
}

/// One level up Bitcoin's merkle tree (an odd last node pairs with itself).
pub fn merkle_parents(level: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let mut parents = Vec::with_capacity(level.len().div_ceil(2));
    let mut nodes = level.iter();
    while let Some(left) = nodes.next() {
        let right = nodes.next().unwrap_or(left);
        parents.push(sha256d::Hash::hash(&concat(left, right)).to_byte_array());
    }
    parents
}

/// `left ‖ right`, the 64-byte input of a merkle step.
fn concat(left: &[u8; 32], right: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (dst, src) in out.iter_mut().zip(left.iter().chain(right)) {
        *dst = *src;
    }
    out
}

/// Verifies a merged-mining proof: Bitcoin header size, proof shape, proof of work against
/// `difficulty`, the coinbase commitment to `expected`, and the coinbase's inclusion under the
/// Bitcoin header's merkle root.
pub fn verify(
    proof: &MergeMiningProof<'_>,
    expected: Commitment,
    difficulty: U256,
) -> Result<(), ConsensusError> {
    if proof.btc_header.len() != 80 {
        return Err(ConsensusError::BtcHeaderSize {
            len: proof.btc_header.len(),
        });
    }
    if proof.merkle_proof.len() > MAX_MERKLE_PROOF_LEN {
        return Err(ConsensusError::MerkleProofTooLong {
            len: proof.merkle_proof.len(),
        });
    }
    if !proof.merkle_proof.len().is_multiple_of(32) {
        return Err(ConsensusError::MerkleProofNotMultipleOf32 {
            len: proof.merkle_proof.len(),
        });
    }
    if !meets_difficulty(proof.btc_header, difficulty) {
        return Err(ConsensusError::InsufficientWork { difficulty });
    }
    let (count, _, tail) = split_compressed(proof.compressed_coinbase)?;
    check_tag(tail, count, expected)?;
    let txid = coinbase_txid(proof.compressed_coinbase)?;
    let root = fold_proof(txid, proof.merkle_proof)?;
    // The header is 80 bytes (checked above); its merkle root is bytes 36..68.
    if proof.btc_header.get(36..68) != Some(&root[..]) {
        return Err(ConsensusError::MerkleRootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merkle_step_that_parses_as_a_transaction_is_refused() {
        use bitcoin::{
            absolute, transaction, Amount, OutPoint, ScriptBuf, Sequence, TxIn, TxOut, Witness,
        };
        // A 64-byte transaction: 60 bytes of structure and 4 bytes of scripts.
        let tx = bitcoin::Transaction {
            version: transaction::Version::ONE,
            lock_time: absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::null(),
                script_sig: ScriptBuf::from_bytes(vec![0x51]),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            }],
            output: vec![TxOut {
                value: Amount::ZERO,
                script_pubkey: ScriptBuf::from_bytes(vec![0x51; 3]),
            }],
        };
        let raw = bitcoin::consensus::serialize(&tx);
        assert_eq!(raw.len(), 64);
        // A "coinbase txid" equal to its first half and a sibling equal to its second half
        // make the first fold step hash exactly those 64 bytes.
        let mut node = [0u8; 32];
        node.copy_from_slice(&raw[..32]);
        let sibling: Vec<u8> = raw[32..].iter().rev().copied().collect();
        assert_eq!(
            fold_proof(node, &sibling),
            Err(ConsensusError::MerkleNodeLooksLikeTransaction)
        );
        // An ordinary step passes.
        assert!(fold_proof([1u8; 32], &[2u8; 32]).is_ok());
    }

    #[test]
    fn bitcoin_time_must_be_within_300_seconds() {
        let mut h = [0u8; 80];
        h[68..72].copy_from_slice(&1_000_000u32.to_le_bytes());
        assert_eq!(check_btc_time(&h, 1_000_299), Ok(()));
        assert_eq!(check_btc_time(&h, 999_701), Ok(()));
        assert!(matches!(
            check_btc_time(&h, 1_000_300),
            Err(ConsensusError::BitcoinTimeTooFar { .. })
        ));
        assert!(check_btc_time(&h[..60], 0).is_err());
    }

    #[test]
    fn target_is_exact_at_powers_of_two() {
        assert_eq!(target(U256::from(4)), U256::from(1) << 254);
        assert_eq!(target(U256::from(1)), target(U256::from(3)));
        assert_eq!(target(U256::from(3)), (U256::MAX / U256::from(3)));
    }

    #[test]
    fn compression_round_trips_the_txid() {
        let mut coinbase = vec![0x42u8; 150];
        coinbase.extend_from_slice(RSK_TAG);
        coinbase.extend_from_slice(&[7u8; 32]);
        coinbase.extend_from_slice(&[0u8; 20]);
        let cc = compress_coinbase(&coinbase).unwrap();
        assert_eq!(&cc[..8], &128u64.to_be_bytes());
        let direct = sha256d::Hash::hash(&coinbase).to_byte_array();
        assert_eq!(coinbase_txid(&cc).unwrap(), direct);
        assert_eq!(commitment_of(&cc).unwrap(), B256::repeat_byte(7));
    }

    #[test]
    fn proofs_built_here_fold_to_the_root() {
        let txids: Vec<[u8; 32]> = (0..7u8).map(|i| [i; 32]).collect();
        let proof = coinbase_merkle_proof(&txids);
        assert_eq!(proof.len(), 3 * 32);
        // Reference root: Bitcoin's merkle tree over the same txids.
        let hashes = txids.iter().map(|t| bitcoin::Txid::from_byte_array(*t));
        let root = bitcoin::merkle_tree::calculate_root(hashes).unwrap();
        assert_eq!(fold_proof(txids[0], &proof).unwrap(), root.to_byte_array());
        assert!(coinbase_merkle_proof(&txids[..1]).is_empty());
    }
}
