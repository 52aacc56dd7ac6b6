//! Signed transactions → revm transaction environments.

use alloy_consensus::{Transaction, TxEnvelope};
use alloy_eips::Typed2718;
use alloy_primitives::Address;
use either::Either;
use revm::context::TxEnv;

/// A transaction Scion does not execute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// Blob transactions (type 3): Scion has no blobs.
    #[error("transaction type not supported")]
    TypeNotSupported,
}

/// The revm environment for a signed transaction from `sender`.
pub fn tx_env(tx: &TxEnvelope, sender: Address) -> Result<TxEnv, TxError> {
    if tx.is_eip4844() {
        return Err(TxError::TypeNotSupported);
    }
    let authorization_list = tx
        .authorization_list()
        .map(|list| list.iter().cloned().map(Either::Left).collect())
        .unwrap_or_default();
    Ok(TxEnv {
        tx_type: tx.ty(),
        caller: sender,
        gas_limit: tx.gas_limit(),
        gas_price: tx.max_fee_per_gas(),
        kind: tx.kind(),
        value: tx.value(),
        data: tx.input().clone(),
        nonce: tx.nonce(),
        chain_id: tx.chain_id(),
        access_list: tx.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: tx.max_priority_fee_per_gas(),
        authorization_list,
        ..Default::default()
    })
}
