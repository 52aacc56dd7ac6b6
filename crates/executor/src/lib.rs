//! Scion's execution engine: revm wired with Scion's rules. It turns a block's environment
//! and transactions into receipts and state changes, and answers calls and gas estimates.
//! It never touches storage: it reads state through any revm `DatabaseRef`.
//!
//! Where to start: block.rs ([`execute_block`], a block's transactions in order), then tx.rs
//! (a signed transaction as revm's input) and precompiles.rs (Ethereum's set plus the Bridge).
//! call.rs, simulate.rs and trace.rs run transactions for the RPC without keeping them.

// A panic on the block path halts the chain; an error only rejects a block.
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

mod block;
mod call;
mod precompiles;
mod simulate;
mod trace;
mod tx;

pub use block::{execute_block, invalid_tx_message, BlockOutcome, Mode, Rejected};
pub use call::{
    call, call_bounded, estimate_gas, gas_allowance, CallOutcome, CALL_BUDGET, STATE_ACCESS_COST,
    TX_GAS_CAP,
};
pub use precompiles::ScionPrecompiles;
pub use simulate::{simulate, SimBlock, SimOutcome};
pub use trace::{trace, Traced};
pub use tx::{tx_env, TxError};

use alloy_primitives::{Address, B256, U256};
use revm::context::{BlockEnv, CfgEnv};
use revm::context_interface::block::BlobExcessGasAndPrice;
use revm::primitives::hardfork::SpecId;

/// The EVM rules Scion runs: Ethereum's latest (Osaka), blob transactions excluded.
pub const SPEC: SpecId = SpecId::OSAKA;

/// Errors of the executor.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// A transaction is invalid in this block (someone else's input).
    #[error("transaction {index} is invalid: {reason}")]
    InvalidTransaction {
        /// Position in the block.
        index: usize,
        /// Why, in geth's words where geth has words for it.
        reason: String,
    },
    /// The state database failed.
    #[error("state database: {0}")]
    Database(String),
    /// A transaction could not be turned into an EVM transaction.
    #[error(transparent)]
    Tx(#[from] TxError),
    /// The chain specification's Bridge section is invalid.
    #[error(transparent)]
    Bridge(#[from] scion_bridge::BridgeError),
}

/// What execution needs from the chain specification: the chain id and the Bridge's
/// parameters.
#[derive(Debug, Clone)]
pub struct ExecEnv {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// The Bridge's configuration.
    pub bridge: std::sync::Arc<scion_bridge::Config>,
}

impl ExecEnv {
    /// Parses the Bridge parameters of `spec` and adds the Bridge's initial storage (its
    /// Bitcoin checkpoint) to the genesis allocation.
    pub fn prepare(spec: &mut scion_types::ChainSpec) -> Result<Self, ExecError> {
        let bridge = scion_bridge::Config::new(&spec.params.bridge, &spec.params.bitcoin_network)?;
        let storage = scion_bridge::genesis_storage(&bridge)?;
        let account = spec.alloc.entry(scion_bridge::BRIDGE_ADDRESS).or_default();
        account.storage.extend(storage);
        Ok(Self {
            chain_id: spec.chain_id,
            bridge: std::sync::Arc::new(bridge),
        })
    }

    /// The dev chain's environment (genesis/dev.json).
    pub fn dev() -> Result<Self, ExecError> {
        Self::prepare(&mut scion_types::ChainSpec::dev())
    }

    /// The precompile set for this chain.
    pub fn precompiles(&self) -> ScionPrecompiles {
        ScionPrecompiles::new(SPEC, self.bridge.clone())
    }
}

/// The block-level inputs to execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockParams {
    /// Height.
    pub number: u64,
    /// Unix time.
    pub timestamp: u64,
    /// Receives all fees.
    pub beneficiary: Address,
    /// Gas limit.
    pub gas_limit: u64,
    /// Base fee per gas.
    pub base_fee: u64,
    /// PREVRANDAO.
    pub prevrandao: B256,
}

impl BlockParams {
    /// The parameters a header's block ran with.
    pub fn of(h: &scion_types::Header) -> Self {
        Self {
            number: h.number,
            timestamp: h.timestamp,
            beneficiary: h.beneficiary,
            gas_limit: h.gas_limit,
            base_fee: h.base_fee_per_gas,
            prevrandao: h.mix_hash,
        }
    }

    /// The revm block environment.
    pub fn block_env(&self) -> BlockEnv {
        BlockEnv {
            number: U256::from(self.number),
            beneficiary: self.beneficiary,
            timestamp: U256::from(self.timestamp),
            gas_limit: self.gas_limit,
            basefee: self.base_fee,
            difficulty: U256::ZERO,
            prevrandao: Some(self.prevrandao),
            blob_excess_gas_and_price: Some(BlobExcessGasAndPrice::new_with_spec(0, SPEC)),
            ..Default::default()
        }
    }
}

/// The revm configuration for a chain id.
pub fn cfg_env(chain_id: u64) -> CfgEnv {
    let mut cfg = CfgEnv::new_with_spec(SPEC);
    cfg.chain_id = chain_id;
    cfg
}

/// `price × gas` in wei. At most (2^128 − 1)(2^64 − 1) < 2^256, so it never saturates.
pub(crate) fn gas_cost(price: u128, gas: u64) -> U256 {
    U256::from(price).saturating_mul(U256::from(gas))
}
