//! Dev account patches (anvil_setBalance, setCode, setNonce, setStorageAt): direct changes to
//! accounts, applied inside the next sealed block so that its state root includes them.

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use scion_types::{AccountChange, AccountInfo, StateChanges, KECCAK_EMPTY};

/// A direct change to an account, applied in the next block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DevPatch {
    /// The account.
    pub address: Address,
    /// New balance.
    pub balance: Option<U256>,
    /// New nonce.
    pub nonce: Option<u64>,
    /// New code.
    pub code: Option<Bytes>,
    /// Storage slots to set.
    pub storage: Vec<(U256, U256)>,
}

/// Applies `patches` on top of a block's changes, in order; `current` reads an account's
/// (nonce, balance, code hash) before the block.
pub(crate) fn apply(
    patches: Vec<DevPatch>,
    changes: &mut StateChanges,
    current: impl Fn(Address) -> Option<(u64, U256, B256)>,
) {
    for p in patches {
        let entry: &mut AccountChange = changes.accounts.entry(p.address).or_default();
        let (nonce, balance, code_hash) = match &entry.info {
            Some(i) => (i.nonce, i.balance, i.code_hash),
            None if entry.wiped => (0, U256::ZERO, KECCAK_EMPTY),
            None => current(p.address).unwrap_or((0, U256::ZERO, KECCAK_EMPTY)),
        };
        let mut info = AccountInfo {
            nonce: p.nonce.unwrap_or(nonce),
            balance: p.balance.unwrap_or(balance),
            code_hash,
            new_code: entry.info.as_ref().and_then(|i| i.new_code.clone()),
        };
        if let Some(code) = p.code {
            info.code_hash = if code.is_empty() {
                KECCAK_EMPTY
            } else {
                keccak256(&code)
            };
            info.new_code = (!code.is_empty()).then_some(code);
        }
        entry.info = Some(info);
        entry.storage.extend(p.storage);
    }
}
