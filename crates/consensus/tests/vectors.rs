//! Every merged-mining vector (tests/data/merge-mining.json, from Rootstock's own data) passes
//! or fails as labelled, failing with the rule the vector names first.

use alloy_primitives::{B256, U256};
use scion_consensus::merge_mining::{btc_header_hash, coinbase_txid, find_commitment};
use scion_consensus::{verify, Commitment, ConsensusError, MergeMiningProof};
use serde_json::Value;

fn load() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/merge-mining.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["vectors"].as_array().unwrap().clone()
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

/// The vector file's name for each error.
fn reason(e: &ConsensusError) -> &'static str {
    match e {
        ConsensusError::BtcHeaderSize { .. } => "btc_header_not_80_bytes",
        ConsensusError::MerkleProofTooLong { .. } => "merkle_proof_too_long",
        ConsensusError::MerkleProofNotMultipleOf32 { .. } => "merkle_proof_len_not_multiple_of_32",
        ConsensusError::InsufficientWork { .. } => "insufficient_pow_for_difficulty",
        ConsensusError::CommitmentNotFound => "mm_hash_not_found_in_coinbase_tail",
        ConsensusError::CommitmentTooDeep { .. } => "tag_position_ge_64_in_tail",
        ConsensusError::CommitmentNotLastTag => "valid_tag_is_not_last_rsk_tag",
        ConsensusError::TooManyBytesAfterCommitment { .. } => "more_than_128_bytes_after_mm_hash",
        ConsensusError::ForkDetectionBlockNumber { .. } => "fdd_block_number_mismatch",
        ConsensusError::CoinbaseTooShort { .. } => "coinbase_not_longer_than_64_bytes",
        ConsensusError::MerkleNodeLooksLikeTransaction => "merkle_node_looks_like_64_byte_tx",
        ConsensusError::MerkleRootMismatch => "merkle_proof_mismatch",
        ConsensusError::CompressedCoinbaseTooShort { .. }
        | ConsensusError::MidstateNotBlockAligned { .. } => "bad_compressed_coinbase",
        ConsensusError::BitcoinTimeTooFar { .. } => "bitcoin_time_too_far",
        // Header rules against the parent: no merged-mining vector names them.
        ConsensusError::Number { .. }
        | ConsensusError::TimestampNotAfterParent { .. }
        | ConsensusError::TimestampInFuture { .. }
        | ConsensusError::GasLimit { .. }
        | ConsensusError::GasUsedAboveLimit { .. }
        | ConsensusError::ExtraDataTooLong { .. }
        | ConsensusError::BaseFee(_) => "header_rule",
    }
}

#[test]
fn all_forty_vectors_pass_or_fail_as_labelled() {
    let vectors = load();
    assert_eq!(vectors.len(), 40);
    let (mut valid, mut invalid) = (0, 0);
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        let (header, proof, cc) = (
            bytes(&v["btc_header"]),
            bytes(&v["merkle_proof"]),
            bytes(&v["compressed_coinbase"]),
        );
        let hfmm = B256::from_slice(&bytes(&v["hash_for_merged_mining"]));
        let expected = match v["fork_detection"].as_str().unwrap() {
            "none" => Commitment::Full(hfmm),
            _ => Commitment::Rskip110 {
                prefix: hfmm[..20].try_into().unwrap(),
                block_number: v["rsk_block_number"].as_u64().unwrap(),
            },
        };
        let difficulty: U256 = v["difficulty"].as_str().unwrap().parse().unwrap();
        let mm = MergeMiningProof {
            btc_header: &header,
            merkle_proof: &proof,
            compressed_coinbase: &cc,
        };
        let result = verify(&mm, expected, difficulty);
        if v["valid"].as_bool().unwrap() {
            assert_eq!(result, Ok(()), "{name} should be valid");
            valid += 1;
        } else {
            let err = result.expect_err(name);
            assert_eq!(reason(&err), v["reason"].as_str().unwrap(), "{name}: {err}");
            invalid += 1;
        }
        // The derived values agree with the vector wherever it states them.
        if !v["coinbase_txid"].is_null() {
            assert_eq!(
                hex::encode(coinbase_txid(&cc).unwrap()),
                v["coinbase_txid"].as_str().unwrap(),
                "{name}"
            );
        }
        let mut display = btc_header_hash(&header);
        display.reverse();
        assert_eq!(
            hex::encode(display),
            v["btc_header_hash"].as_str().unwrap(),
            "{name}"
        );
        let commitment = find_commitment(&cc[40..]).map(|c| hex::encode(c.as_slice()));
        assert_eq!(commitment.as_deref(), v["commitment"].as_str(), "{name}");
    }
    assert_eq!((valid, invalid), (30, 10));
}

#[test]
fn rskj_block_436_header_hashes_match_its_rlp() {
    // The vector with fork_detection "none" commits to the full hash; Scion's own blocks do
    // the same. Breaking one byte of the commitment breaks the proof.
    let v = load()
        .into_iter()
        .find(|v| v["fork_detection"] == "none")
        .unwrap();
    let (header, proof, mut cc) = (
        bytes(&v["btc_header"]),
        bytes(&v["merkle_proof"]),
        bytes(&v["compressed_coinbase"]),
    );
    let hfmm = B256::from_slice(&bytes(&v["hash_for_merged_mining"]));
    let difficulty: U256 = v["difficulty"].as_str().unwrap().parse().unwrap();
    let mm = MergeMiningProof {
        btc_header: &header,
        merkle_proof: &proof,
        compressed_coinbase: &cc,
    };
    assert_eq!(verify(&mm, Commitment::Full(hfmm), difficulty), Ok(()));
    let mut other = hfmm;
    other.0[31] ^= 1;
    assert_eq!(
        verify(&mm, Commitment::Full(other), difficulty),
        Err(ConsensusError::CommitmentNotFound)
    );
    let last = cc.len() - 1;
    cc[last] ^= 1;
    let mm = MergeMiningProof {
        btc_header: &header,
        merkle_proof: &proof,
        compressed_coinbase: &cc,
    };
    assert_eq!(
        verify(&mm, Commitment::Full(hfmm), difficulty),
        Err(ConsensusError::MerkleRootMismatch)
    );
}
