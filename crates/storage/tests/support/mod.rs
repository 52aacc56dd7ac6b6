//! Shared by the storage tests and the commit benchmark.

use alloy_primitives::B256;
use scion_storage::{BlockInfo, StorageError, Store};
use scion_types::{Block, Header, StateChanges};

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
