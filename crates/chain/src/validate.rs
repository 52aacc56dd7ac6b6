//! Admission checks for raw transactions, with geth's rejection messages.

use crate::TxRejected;
use alloy_consensus::{Transaction, TxEnvelope};

/// The largest transaction accepted, in bytes (geth's txMaxSize).
pub const MAX_TX_SIZE: usize = 128 * 1024;

/// Intrinsic gas of a transaction under Osaka rules: the base cost, calldata, creation,
/// access list and authorizations, or the EIP-7623 calldata floor if that is higher.
pub fn intrinsic_gas(tx: &TxEnvelope) -> u64 {
    let input = tx.input();
    let zeros = input.iter().filter(|b| **b == 0).count() as u64;
    let nonzeros = input.len() as u64 - zeros;
    let tokens = zeros + nonzeros * 4;
    let mut gas = 21_000 + tokens * 4;
    if tx.kind().is_create() {
        gas += 32_000 + 2 * (input.len() as u64).div_ceil(32);
    }
    if let Some(list) = tx.access_list() {
        for item in list.iter() {
            gas += 2_400 + 1_900 * item.storage_keys.len() as u64;
        }
    }
    if let Some(auths) = tx.authorization_list() {
        gas += 25_000 * auths.len() as u64;
    }
    let floor = 21_000 + tokens * 10;
    gas.max(floor)
}

/// Checks that need no state: type, size, chain id, fee fields, gas against the limits.
pub fn check_stateless(
    tx: &TxEnvelope,
    raw_len: usize,
    chain_id: u64,
    block_gas_limit: u64,
) -> Result<(), TxRejected> {
    if raw_len > MAX_TX_SIZE {
        return Err(TxRejected::Oversized {
            size: raw_len,
            limit: MAX_TX_SIZE,
        });
    }
    if tx.is_eip4844() {
        return Err(TxRejected::TypeNotSupported);
    }
    if let Some(id) = tx.chain_id() {
        if id != chain_id {
            return Err(TxRejected::ChainId {
                have: id,
                want: chain_id,
            });
        }
    }
    if let Some(tip) = tx.max_priority_fee_per_gas() {
        if tip > tx.max_fee_per_gas() {
            return Err(TxRejected::TipAboveFeeCap {
                tip,
                max_fee: tx.max_fee_per_gas(),
            });
        }
    }
    let gas = tx.gas_limit();
    if gas > block_gas_limit {
        return Err(TxRejected::ExceedsBlockGasLimit {
            gas,
            limit: block_gas_limit,
        });
    }
    let cap = scion_executor::TX_GAS_CAP;
    if gas > cap {
        return Err(TxRejected::GasAboveCap { cap, gas });
    }
    let want = intrinsic_gas(tx);
    if gas < want {
        return Err(TxRejected::IntrinsicGasTooLow { have: gas, want });
    }
    Ok(())
}
