//! Shared by the storage tests and the commit benchmark.

use alloy_primitives::{B256, U256};
use scion_storage::{BlockInfo, StorageError, Store};
use scion_types::{AccountChange, AccountInfo, Block, Header, StateChanges, KECCAK_EMPTY};

/// A change that leaves an account with `balance` and nothing else.
#[allow(dead_code)] // each test binary compiles this module; not all of them use it
pub fn balance_change(balance: u64) -> AccountChange {
    AccountChange {
        info: Some(AccountInfo {
            nonce: 0,
            balance: U256::from(balance),
            code_hash: KECCAK_EMPTY,
            new_code: None,
        }),
        wiped: false,
        storage: Default::default(),
    }
}

/// Commits `changes` as an empty block on the head (state root computed, durable commit);
/// returns the new state root.
pub fn commit_on_head(store: &Store, changes: &StateChanges) -> Result<B256, StorageError> {
    let update = store.prepare_state(changes)?;
    let head = store.head()?;
    let block = Block {
        header: Header {
            number: head.number + 1,
            parent_hash: head.hash(),
            state_root: update.state_root,
            ..Default::default()
        },
        transactions: vec![],
        uncles: vec![],
    };
    store.commit_block(&block, BlockInfo::default(), &[], &[], changes, &update)?;
    Ok(update.state_root)
}
