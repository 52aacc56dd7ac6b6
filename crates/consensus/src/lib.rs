//! Scion's consensus rules as pure functions: Rootstock's merged-mining proof (compressed
//! coinbase, `RSKBLOCK:` commitment, RSKIP92 inclusion proof, proof of work), difficulty
//! adjustment and fork choice. No storage, no async.
//!
//! Where to start: header.rs ([`check_header`], every rule a header meets against its
//! parent), merge_mining.rs ([`verify`], the proof), difficulty.rs (the next difficulty and
//! which tip is the head); work.rs is the miner's side, used by the dev node and `scion miner`.

// A panic here halts the chain; an invalid proof must only reject a block.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
// Nor may it overflow silently or index out of bounds (issue #21): checked arithmetic, `get`
// and typed conversions; an overflow from someone else's input is an error.
#![cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::as_conversions
    )
)]

mod difficulty;
mod header;
pub mod merge_mining;
pub mod work;

pub use difficulty::{is_better_head, next_difficulty, DifficultyParams, Tip};
pub use header::{
    check_header, gas_limit_bounds, next_base_fee, GotExpected, GAS_LIMIT_BOUND_DIVISOR,
    MAX_EXTRA_DATA, MAX_FUTURE_SECONDS, MAX_UNCLES, MIN_BASE_FEE, MIN_GAS_LIMIT, UNCLE_GENERATIONS,
};
pub use merge_mining::{check_btc_time, verify, Commitment, MergeMiningProof};

use alloy_primitives::U256;

// A `usize` is at most 64 bits on every target Scion builds for, so `len_u64` never saturates.
const _: () = assert!(usize::BITS <= u64::BITS);

/// A length as `u64`.
pub(crate) fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

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
    /// The block number does not follow the parent's.
    #[error("block number {number} does not follow the parent's {parent}")]
    Number {
        /// The block's number.
        number: u64,
        /// The parent's number.
        parent: u64,
    },
    /// The timestamp is not after the parent's.
    #[error("timestamp {timestamp} is not after the parent's {parent}")]
    TimestampNotAfterParent {
        /// The block's timestamp.
        timestamp: u64,
        /// The parent's timestamp.
        parent: u64,
    },
    /// The timestamp is more than a minute ahead of the clock.
    #[error("timestamp {timestamp} is more than 60 s in the future (now {now})")]
    TimestampInFuture {
        /// The block's timestamp.
        timestamp: u64,
        /// The time it was checked at.
        now: u64,
    },
    /// The gas limit moves more than 1/1024 from the parent's, or is below 5,000.
    #[error("gas limit {gas_limit} is outside {min}..={max}, what the parent's {parent} allows")]
    GasLimit {
        /// The block's gas limit.
        gas_limit: u64,
        /// The parent's gas limit.
        parent: u64,
        /// The lowest allowed.
        min: u64,
        /// The highest allowed.
        max: u64,
    },
    /// More gas used than the gas limit.
    #[error("gas used {gas_used} above the gas limit {gas_limit}")]
    GasUsedAboveLimit {
        /// The header's gas used.
        gas_used: u64,
        /// The header's gas limit.
        gas_limit: u64,
    },
    /// Extra data longer than 32 bytes.
    #[error("extra data is {len} bytes, at most 32")]
    ExtraDataTooLong {
        /// Its length.
        len: usize,
    },
    /// The base fee does not follow EIP-1559 from the parent's.
    #[error("base fee: {0}")]
    BaseFee(GotExpected<u64>),
}
