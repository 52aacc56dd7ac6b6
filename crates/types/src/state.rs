//! What a block changed in the state: the executor produces it, storage applies it.

use alloy_primitives::{Address, Bytes, B256, U256};
use std::collections::BTreeMap;

/// An account's fields after a block, without its storage root (storage computes that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    /// Nonce.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// Code hash.
    pub code_hash: B256,
    /// The code, when the block created it (stored by hash).
    pub new_code: Option<Bytes>,
}

/// The change to one account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountChange {
    /// The account after the block; `None` when it was deleted (self-destructed or EIP-161).
    pub info: Option<AccountInfo>,
    /// True when the account's previous storage must be dropped before `storage` applies
    /// (destroyed, or created anew).
    pub wiped: bool,
    /// Storage slots written, with their new values (zero deletes the slot).
    pub storage: BTreeMap<U256, U256>,
}

/// Every change a block made, by account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StateChanges {
    /// Changed accounts.
    pub accounts: BTreeMap<Address, AccountChange>,
}
