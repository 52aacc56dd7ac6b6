//! The chain's errors: a refused transaction (geth's words), an invalid block (the rule, with
//! what was found and what was expected), and failures of our own, kept apart so that none of
//! ours is ever reported as someone else's fault.

use alloy_primitives::{Address, Bloom, B256, U256};
use scion_consensus::{ConsensusError, GotExpected};
use scion_executor::TxError;

/// Errors of the chain crate.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// A transaction was refused; its message is geth's wording.
    #[error(transparent)]
    Tx(#[from] TxRejected),
    /// A block, or a merged-mining solution for one, breaks a rule.
    #[error(transparent)]
    Block(#[from] InvalidBlock),
    /// A merged-mining solution commits to work this node never handed out or no longer keeps.
    #[error("no template for hash {0}")]
    UnknownWork(B256),
    /// A dev request for a next timestamp that is not after the head's.
    #[error("timestamp {timestamp} is not after the head's {head}")]
    TimestampNotAfterHead {
        /// The timestamp asked for.
        timestamp: u64,
        /// The head's timestamp.
        head: u64,
    },
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] scion_storage::StorageError),
    /// Execution failed (the state database, or the Bridge's configuration).
    #[error(transparent)]
    Exec(#[from] scion_executor::ExecError),
    /// A genesis or type error.
    #[error(transparent)]
    Types(#[from] scion_types::TypesError),
    /// A block the store must hold is not there.
    #[error("{what} {hash} is missing from the store")]
    Missing {
        /// Which block: "unwound block's parent", "reorg branch parent", "sealed block".
        what: &'static str,
        /// Its hash.
        hash: B256,
    },
    /// After a reorg to an invalid branch, a block of the old chain did not import again.
    #[error("restoring block {number} after a failed reorg: {reason}")]
    Restore {
        /// The old block's number.
        number: u64,
        /// Why it was refused this time.
        reason: InvalidBlock,
    },
    /// The dev miner could not seal its own template.
    #[error("dev sealing: {0}")]
    Seal(ConsensusError),
    /// The dev miner's own block did not become the head.
    #[error("dev block {number} was not imported as best: {result}{}", .reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default())]
    DevImport {
        /// Its number.
        number: u64,
        /// Rootstock's name of the result.
        result: &'static str,
        /// Why, when it was invalid.
        reason: Option<InvalidBlock>,
    },
    /// A state the chain's own logic should never reach.
    #[error("internal: {0}")]
    Internal(&'static str),
}

/// Why a transaction was refused, worded as geth words it (clients match on these).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxRejected {
    /// The bytes are not a transaction.
    #[error("rlp: {0}")]
    Rlp(String),
    /// Larger than [`crate::MAX_TX_SIZE`].
    #[error("oversized data: transaction size {size}, limit {limit}")]
    Oversized {
        /// Its size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Blob transactions (type 3): Scion has no blobs.
    #[error("transaction type not supported")]
    TypeNotSupported,
    /// Signed for another chain.
    #[error("invalid chain id for signer: have {have} want {want}")]
    ChainId {
        /// The transaction's chain id.
        have: u64,
        /// This chain's.
        want: u64,
    },
    /// The priority fee is above the fee cap.
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap {
        /// Its max priority fee per gas.
        tip: u128,
        /// Its max fee per gas.
        max_fee: u128,
    },
    /// More gas than a block holds.
    #[error("exceeds block gas limit")]
    ExceedsBlockGasLimit {
        /// Its gas limit.
        gas: u64,
        /// The block's.
        limit: u64,
    },
    /// More gas than one transaction may use (EIP-7825).
    #[error("transaction gas limit too high (cap: {cap}, tx: {gas})")]
    GasAboveCap {
        /// The cap.
        cap: u64,
        /// Its gas limit.
        gas: u64,
    },
    /// Less gas than its intrinsic cost.
    #[error("intrinsic gas too low: have {have}, want {want}")]
    IntrinsicGasTooLow {
        /// Its gas limit.
        have: u64,
        /// Its intrinsic gas.
        want: u64,
    },
    /// The signature recovers to no key.
    #[error("invalid sender")]
    InvalidSender,
    /// The fee cap is below the next block's base fee.
    #[error("max fee per gas less than block base fee: address {sender}, maxFeePerGas: {max_fee}, baseFee: {base_fee}")]
    FeeCapBelowBaseFee {
        /// The sender.
        sender: Address,
        /// Its max fee per gas.
        max_fee: u128,
        /// The next block's base fee.
        base_fee: u64,
    },
    /// The nonce is already used.
    #[error("nonce too low: next nonce {next}, tx nonce {nonce}")]
    NonceTooLow {
        /// The account's nonce.
        next: u64,
        /// The transaction's.
        nonce: u64,
    },
    /// The nonce is 2^64 − 1 (EIP-2681).
    #[error("nonce has max value")]
    NonceMax,
    /// The nonce is further ahead of the account's than the pool keeps.
    #[error(
        "nonce too high: next nonce {next}, tx nonce {nonce} (at most {max_gap} ahead are kept)"
    )]
    NonceTooHigh {
        /// The account's nonce.
        next: u64,
        /// The transaction's.
        nonce: u64,
        /// How far ahead the pool keeps.
        max_gap: u64,
    },
    /// The balance does not cover gas × fee cap + value (`want` is `None` past 2^256).
    #[error("insufficient funds for gas * price + value: address {sender} have {have} want {}", .want.map(|w| w.to_string()).unwrap_or_else(|| "more than 2^256".into()))]
    InsufficientFunds {
        /// The sender.
        sender: Address,
        /// Its balance.
        have: U256,
        /// What the transaction may cost.
        want: Option<U256>,
    },
    /// The same transaction is already pooled.
    #[error("already known")]
    AlreadyKnown,
    /// A transaction with this nonce is pooled and the new one does not pay 10% more.
    #[error("replacement transaction underpriced")]
    ReplacementUnderpriced,
    /// The pool is at its bound.
    #[error("txpool is full")]
    PoolFull,
}

impl TxRejected {
    /// True when the transaction is at fault whatever the state: it could never be valid, so
    /// whoever signed or relayed it answers for it (a peer that gossips it can be penalised).
    /// False when the refusal depends on the state or the pool (nonces, balance, base fee,
    /// what is already pooled), where an honest relayer may simply see another state.
    pub fn is_sender_fault(&self) -> bool {
        match self {
            Self::Rlp(_)
            | Self::Oversized { .. }
            | Self::TypeNotSupported
            | Self::ChainId { .. }
            | Self::TipAboveFeeCap { .. }
            | Self::ExceedsBlockGasLimit { .. }
            | Self::GasAboveCap { .. }
            | Self::IntrinsicGasTooLow { .. }
            | Self::InvalidSender
            | Self::NonceMax => true,
            Self::FeeCapBelowBaseFee { .. }
            | Self::NonceTooLow { .. }
            | Self::NonceTooHigh { .. }
            | Self::InsufficientFunds { .. }
            | Self::AlreadyKnown
            | Self::ReplacementUnderpriced
            | Self::PoolFull => false,
        }
    }
}

/// Why a block is invalid. Where a value is compared, `got` is the block's and `expected` what
/// the rule asks, except for the body and execution rules, which follow reth: `got` is what the
/// body or its execution gives, `expected` what the header commits to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidBlock {
    /// This very block was found invalid before.
    #[error("already found invalid")]
    KnownInvalid,
    /// Its parent was found invalid.
    #[error("descends from the invalid block {0}")]
    InvalidAncestor(B256),
    /// A header rule against the parent, or the merged-mining proof (scion-consensus).
    #[error(transparent)]
    Header(ConsensusError),
    /// The difficulty does not follow from the parent's.
    #[error("difficulty: {0}")]
    Difficulty(GotExpected<U256>),
    /// The uncles do not hash to the header's ommers hash.
    #[error("ommers hash: {0}")]
    OmmersHash(GotExpected<B256>),
    /// The transactions do not hash to the header's transactions root.
    #[error("transactions root: {0}")]
    TransactionsRoot(GotExpected<B256>),
    /// More uncles than a block may reference.
    #[error("{count} uncles, at most {max}")]
    TooManyUncles {
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The same uncle twice in this block.
    #[error("uncle {0} is referenced twice")]
    DuplicateUncle(B256),
    /// An uncle a recent ancestor already references.
    #[error("uncle {0} is already referenced by an ancestor")]
    UncleAlreadyReferenced(B256),
    /// An uncle that is one of the block's ancestors.
    #[error("uncle {0} is an ancestor")]
    UncleIsAncestor(B256),
    /// An uncle outside the six generations before the block.
    #[error("uncle {hash} at height {number} is outside {low}..{high}")]
    UncleOutOfRange {
        /// The uncle's hash.
        hash: B256,
        /// Its height.
        number: u64,
        /// The lowest height allowed.
        low: u64,
        /// The block's height (excluded).
        high: u64,
    },
    /// An uncle whose parent is not among the block's recent ancestors.
    #[error("uncle {0}'s parent is not an ancestor")]
    UncleParentNotAncestor(B256),
    /// An uncle whose parent is not stored.
    #[error("uncle {0}'s parent is unknown")]
    UncleParentUnknown(B256),
    /// An uncle whose header breaks a rule against its own parent.
    #[error("uncle {hash}: {error}")]
    Uncle {
        /// The uncle's hash.
        hash: B256,
        /// The rule.
        error: ConsensusError,
    },
    /// A transaction whose signature recovers to no key.
    #[error("transaction {index} has an invalid signature")]
    InvalidSignature {
        /// Its position in the block.
        index: usize,
    },
    /// A transaction the block cannot run (nonce, balance, gas, fee).
    #[error("transaction {index} is invalid: {reason}")]
    Transaction {
        /// Its position in the block.
        index: usize,
        /// Why, in geth's words where geth has words for it.
        reason: String,
    },
    /// A transaction Scion does not execute.
    #[error("execution: {0}")]
    Unexecutable(TxError),
    /// The header's gas used is not what the transactions used.
    #[error("gas used: {0}")]
    GasUsed(GotExpected<u64>),
    /// The receipts do not hash to the header's receipts root.
    #[error("receipts root: {0}")]
    ReceiptsRoot(GotExpected<B256>),
    /// The logs do not make the header's bloom (boxed: two blooms are 512 bytes).
    #[error("logs bloom: {0}")]
    LogsBloom(Box<GotExpected<Bloom>>),
    /// The state after execution does not hash to the header's state root.
    #[error("state root: {0}")]
    StateRoot(GotExpected<B256>),
    /// A block of a heavier branch failed during the reorg to it.
    #[error("branch block {number}: {reason}")]
    Branch {
        /// Its number.
        number: u64,
        /// Why.
        reason: Box<InvalidBlock>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_no_state_can_make_valid_is_the_senders_fault() {
        let sender = Address::repeat_byte(1);
        let fault = [
            TxRejected::Rlp("unexpected end of input".into()),
            TxRejected::Oversized {
                size: 200_000,
                limit: 131_072,
            },
            TxRejected::TypeNotSupported,
            TxRejected::ChainId { have: 1, want: 2 },
            TxRejected::TipAboveFeeCap { tip: 2, max_fee: 1 },
            TxRejected::ExceedsBlockGasLimit {
                gas: 31_000_000,
                limit: 30_000_000,
            },
            TxRejected::GasAboveCap {
                cap: 16_777_216,
                gas: 20_000_000,
            },
            TxRejected::IntrinsicGasTooLow {
                have: 20_000,
                want: 21_000,
            },
            TxRejected::InvalidSender,
            TxRejected::NonceMax,
        ];
        let state = [
            TxRejected::FeeCapBelowBaseFee {
                sender,
                max_fee: 1,
                base_fee: 7,
            },
            TxRejected::NonceTooLow { next: 3, nonce: 1 },
            TxRejected::NonceTooHigh {
                next: 0,
                nonce: 5_000,
                max_gap: 1_024,
            },
            TxRejected::InsufficientFunds {
                sender,
                have: U256::ZERO,
                want: None,
            },
            TxRejected::AlreadyKnown,
            TxRejected::ReplacementUnderpriced,
            TxRejected::PoolFull,
        ];
        for r in &fault {
            assert!(r.is_sender_fault(), "{r}");
        }
        for r in &state {
            assert!(!r.is_sender_fault(), "{r}");
        }
    }

    #[test]
    fn messages_keep_geths_words() {
        let sender = Address::repeat_byte(0xab);
        let cases = [
            (
                TxRejected::NonceTooLow { next: 3, nonce: 1 },
                "nonce too low: next nonce 3, tx nonce 1".to_string(),
            ),
            (
                TxRejected::ChainId { have: 1, want: 7773 },
                "invalid chain id for signer: have 1 want 7773".to_string(),
            ),
            (
                TxRejected::InsufficientFunds {
                    sender,
                    have: U256::from(5),
                    want: Some(U256::from(21_000)),
                },
                format!("insufficient funds for gas * price + value: address {sender} have 5 want 21000"),
            ),
            (
                TxRejected::InsufficientFunds {
                    sender,
                    have: U256::from(5),
                    want: None,
                },
                format!("insufficient funds for gas * price + value: address {sender} have 5 want more than 2^256"),
            ),
            (
                TxRejected::ExceedsBlockGasLimit { gas: 2, limit: 1 },
                "exceeds block gas limit".to_string(),
            ),
            (TxRejected::AlreadyKnown, "already known".to_string()),
            (
                TxRejected::ReplacementUnderpriced,
                "replacement transaction underpriced".to_string(),
            ),
        ];
        for (r, want) in cases {
            assert_eq!(r.to_string(), want);
        }
        let e = InvalidBlock::Branch {
            number: 2,
            reason: Box::new(InvalidBlock::StateRoot(GotExpected::new(
                B256::ZERO,
                B256::repeat_byte(1),
            ))),
        };
        assert!(e
            .to_string()
            .starts_with("branch block 2: state root: got 0x0000"));
        let e = ChainError::DevImport {
            number: 4,
            result: "INVALID_BLOCK",
            reason: Some(InvalidBlock::KnownInvalid),
        };
        assert_eq!(
            e.to_string(),
            "dev block 4 was not imported as best: INVALID_BLOCK (already found invalid)"
        );
    }
}
