//! Scion's execution engine: revm wired with Scion's rules. It turns a block's environment
//! and transactions into receipts and state changes, and answers calls and gas estimates.
//! It never touches storage: it reads state through any revm `DatabaseRef`.

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
pub use simulate::{simulate, AccountOverride, SimBlock, SimOutcome};
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

/// EIP-1559 base fee of the block after `parent` (elasticity 2, change denominator 8), never
/// below [`MIN_BASE_FEE`].
pub fn next_base_fee(parent_gas_used: u64, parent_gas_limit: u64, parent_base_fee: u64) -> u64 {
    let target = parent_gas_limit / 2;
    let base = u128::from(parent_base_fee);
    // Both factors are below 2^64, so the product fits a u128 and never saturates; the
    // division fails only for a zero target, where the base fee stays.
    let Some(delta) = base
        .saturating_mul(u128::from(parent_gas_used.abs_diff(target)))
        .checked_div(u128::from(target))
    else {
        return parent_base_fee;
    };
    let delta = delta / 8;
    let next = match parent_gas_used.cmp(&target) {
        std::cmp::Ordering::Equal => base,
        // base < 2^64 and delta < 2^125: no saturation.
        std::cmp::Ordering::Greater => base.saturating_add(delta.max(1)),
        std::cmp::Ordering::Less => base.saturating_sub(delta),
    };
    u64::try_from(next).unwrap_or(u64::MAX).max(MIN_BASE_FEE)
}

/// `price × gas` in wei. At most (2^128 − 1)(2^64 − 1) < 2^256, so it never saturates.
pub(crate) fn gas_cost(price: u128, gas: u64) -> U256 {
    U256::from(price).saturating_mul(U256::from(gas))
}

/// The lowest base fee: low enough to be negligible, high enough that a +12.5% step moves it.
pub const MIN_BASE_FEE: u64 = 7;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_fee_follows_eip1559() {
        // Full block: +12.5%. Empty block: −12.5%. At target: unchanged.
        assert_eq!(
            next_base_fee(30_000_000, 30_000_000, 1_000_000_000),
            1_125_000_000
        );
        assert_eq!(next_base_fee(0, 30_000_000, 1_000_000_000), 875_000_000);
        assert_eq!(
            next_base_fee(15_000_000, 30_000_000, 1_000_000_000),
            1_000_000_000
        );
        assert_eq!(next_base_fee(0, 30_000_000, 7), MIN_BASE_FEE);
        assert!(next_base_fee(30_000_000, 30_000_000, 7) > 7);
    }
}
