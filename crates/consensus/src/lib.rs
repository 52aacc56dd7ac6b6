//! Scion's consensus rules as pure functions: Rootstock's merged-mining proof (compressed
//! coinbase, `RSKBLOCK:` commitment, RSKIP92 inclusion proof, proof of work), difficulty
//! adjustment and fork choice. No storage, no async.

// A panic here halts the chain; an invalid proof must only reject a block.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod difficulty;
pub mod merge_mining;
pub mod work;

pub use difficulty::{is_better_head, next_difficulty, DifficultyParams, Tip};
pub use merge_mining::{check_btc_time, verify, Commitment, MergeMiningProof};

use alloy_primitives::U256;

/// Why a block or proof is not valid. One variant per rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsensusError {
    /// The Bitcoin header is not 80 bytes.
    #[error("bitcoin header must be 80 bytes, found {len}")]
    BtcHeaderSize {
        /// Its length.
        len: usize,
    },
    /// The merkle proof exceeds 960 bytes (RSKIP180).
    #[error("merkle proof is {len} bytes, at most 960")]
    MerkleProofTooLong {
        /// Its length.
        len: usize,
    },
    /// The merkle proof is not whole 32-byte hashes.
    #[error("merkle proof length {len} is not a multiple of 32")]
    MerkleProofNotMultipleOf32 {
        /// Its length.
        len: usize,
    },
    /// The Bitcoin header's hash does not meet the block's difficulty.
    #[error("bitcoin header hash does not meet difficulty {difficulty}")]
    InsufficientWork {
        /// The difficulty required.
        difficulty: U256,
    },
    /// The compressed coinbase is shorter than its 40-byte midstate prefix.
    #[error("compressed coinbase is {len} bytes, shorter than its 40-byte midstate")]
    CompressedCoinbaseTooShort {
        /// Its length.
        len: usize,
    },
    /// The midstate's byte count is not a whole number of SHA-256 blocks.
    #[error("compressed coinbase byte count {byte_count} is not a multiple of 64")]
    MidstateNotBlockAligned {
        /// The byte count.
        byte_count: u64,
    },
    /// `RSKBLOCK:` followed by the expected hash is not in the coinbase tail.
    #[error("coinbase does not commit to this block (no RSKBLOCK: with its hash)")]
    CommitmentNotFound,
    /// The commitment starts too deep in the tail.
    #[error("commitment at tail offset {position}, must be below 64")]
    CommitmentTooDeep {
        /// Its offset.
        position: usize,
    },
    /// Another `RSKBLOCK:` follows the commitment.
    #[error("a later RSKBLOCK: tag follows the commitment")]
    CommitmentNotLastTag,
    /// More than 128 bytes follow the commitment.
    #[error("{bytes} bytes follow the commitment, at most 128")]
    TooManyBytesAfterCommitment {
        /// How many.
        bytes: usize,
    },
    /// RSKIP110 fork-detection data names another block number.
    #[error("fork-detection data names block {found}, expected {expected}")]
    ForkDetectionBlockNumber {
        /// The block's number.
        expected: u64,
        /// The number in the coinbase.
        found: u32,
    },
    /// The whole coinbase is 64 bytes or shorter.
    #[error("coinbase is {len} bytes, must be longer than 64")]
    CoinbaseTooShort {
        /// Its length.
        len: u64,
    },
    /// A merkle step's 64-byte input parses as a Bitcoin transaction.
    #[error("merkle proof node parses as a 64-byte transaction")]
    MerkleNodeLooksLikeTransaction,
    /// The proof does not lead to the Bitcoin header's merkle root.
    #[error("coinbase merkle proof does not match the bitcoin header's merkle root")]
    MerkleRootMismatch,
    /// The Bitcoin header's time is too far from the block's timestamp.
    #[error("bitcoin header time {btc_time} is 300 s or more from the block's {timestamp}")]
    BitcoinTimeTooFar {
        /// The Bitcoin header's time.
        btc_time: u32,
        /// The block's timestamp.
        timestamp: u64,
    },
}
