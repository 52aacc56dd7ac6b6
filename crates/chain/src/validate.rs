//! Admission checks for raw transactions, with geth's rejection messages.

use crate::TxRejected;
use alloy_consensus::{Transaction, TxEnvelope};
use revm::context_interface::cfg::gas::calculate_initial_tx_gas;

/// The largest transaction accepted, in bytes (geth's txMaxSize).
pub const MAX_TX_SIZE: usize = 128 * 1024;

/// Intrinsic gas of a transaction under the executor's rules (revm's initial-gas calculation
/// at [`scion_executor::SPEC`]): the base cost, calldata, creation, access list and
/// authorizations, or the EIP-7623 calldata floor if that is higher.
pub fn intrinsic_gas(tx: &TxEnvelope) -> u64 {
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    let (accounts, slots) = tx.access_list().map_or((0, 0), |list| {
        let slots = list.iter().map(|item| item.storage_keys.len()).sum();
        (list.len(), slots)
    });
    let gas = calculate_initial_tx_gas(
        scion_executor::SPEC,
        tx.input(),
        tx.kind().is_create(),
        count(accounts),
        count(slots),
        count(tx.authorization_list().map_or(0, <[_]>::len)),
        None,
    );
    gas.initial_total_gas().max(gas.floor_gas())
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{Signed, TxEip1559, TxEip2930, TxEip7702, TxLegacy};
    use alloy_eips::eip2930::{AccessList, AccessListItem};
    use alloy_eips::eip7702::{Authorization, SignedAuthorization};
    use alloy_primitives::{Address, Bytes, Signature, TxKind, B256, U256};

    fn signed<T: alloy_consensus::SignableTransaction<Signature>>(tx: T) -> TxEnvelope
    where
        TxEnvelope: From<Signed<T>>,
    {
        Signed::new_unchecked(tx, Signature::test_signature(), B256::ZERO).into()
    }

    fn list(keys_per_address: &[usize]) -> AccessList {
        AccessList(
            keys_per_address
                .iter()
                .map(|&n| AccessListItem {
                    address: Address::repeat_byte(1),
                    storage_keys: vec![B256::ZERO; n],
                })
                .collect(),
        )
    }

    fn to() -> TxKind {
        TxKind::Call(Address::repeat_byte(7))
    }

    /// Numbers from the Osaka rules (checked before the hand-written formula was replaced by
    /// revm's on 20,000 random transactions of every type).
    #[test]
    fn intrinsic_gas_follows_osaka() {
        let auth = |nonce| {
            let a = Authorization {
                chain_id: U256::from(1),
                address: Address::repeat_byte(9),
                nonce,
            };
            SignedAuthorization::new_unchecked(a, 0, U256::from(1), U256::from(1))
        };
        let cases: Vec<(&str, TxEnvelope, u64)> = vec![
            (
                "a plain transfer",
                signed(TxLegacy {
                    to: to(),
                    ..Default::default()
                }),
                21_000,
            ),
            (
                // 2 zero and 2 nonzero bytes: 10 tokens, the floor (21,000 + 10 × 10) wins.
                "short calldata",
                signed(TxLegacy {
                    to: to(),
                    input: Bytes::from_static(&[0, 1, 0, 2]),
                    ..Default::default()
                }),
                21_100,
            ),
            (
                // 33 nonzero bytes: 21,000 + 132 × 4 + 32,000 + 2 words × 2.
                "a creation",
                signed(TxEip1559 {
                    to: TxKind::Create,
                    input: vec![1; 33].into(),
                    ..Default::default()
                }),
                53_532,
            ),
            (
                // 2 addresses × 2,400 + 3 keys × 1,900.
                "an access list",
                signed(TxEip2930 {
                    to: to(),
                    access_list: list(&[1, 2]),
                    ..Default::default()
                }),
                31_500,
            ),
            (
                "two authorizations",
                signed(TxEip7702 {
                    to: Address::repeat_byte(7),
                    authorization_list: vec![auth(0), auth(1)],
                    ..Default::default()
                }),
                71_000,
            ),
            (
                // 40,000 tokens: the floor, 21,000 + 400,000.
                "large calldata",
                signed(TxEip1559 {
                    to: to(),
                    input: vec![1; 10_000].into(),
                    ..Default::default()
                }),
                421_000,
            ),
            (
                // The access list does not count in the floor: 21,000 + 4,000 × 10.
                "calldata and an access list",
                signed(TxEip1559 {
                    to: to(),
                    input: vec![1; 1_000].into(),
                    access_list: list(&[0]),
                    ..Default::default()
                }),
                61_000,
            ),
        ];
        for (what, tx, want) in cases {
            assert_eq!(intrinsic_gas(&tx), want, "{what}");
        }
    }
}
