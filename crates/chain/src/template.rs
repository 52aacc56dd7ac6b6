//! What block production hands to import: a template (a block built on the head, waiting for a
//! merged-mining proof) and its execution, which import takes instead of running the block
//! again when the sealed block is the one executed.

use alloy_consensus::ReceiptEnvelope;
use alloy_primitives::{Address, B256, U256};
use scion_storage::StateUpdate;
use scion_types::{Block, StateChanges};

/// A block executed on a known parent, ready to commit.
#[derive(Debug)]
pub(crate) struct Executed {
    /// The parent it was executed on.
    pub(crate) parent: B256,
    /// The hash for merged mining of the block executed (it commits to every field a proof
    /// does not add, so a sealed block with this hash is the block executed).
    pub(crate) hash_for_merged_mining: B256,
    /// Each transaction's sender.
    pub(crate) senders: Vec<Address>,
    /// Each transaction's receipt.
    pub(crate) receipts: Vec<ReceiptEnvelope>,
    /// The state changes, dev patches included.
    pub(crate) changes: StateChanges,
    /// The state update, valid while the head is still `parent`.
    pub(crate) update: StateUpdate,
    /// Fees the block pays its miner.
    pub(crate) fees: U256,
    /// Dev patches included.
    pub(crate) patches_applied: usize,
}

impl Executed {
    /// True when this is the execution of `block` on `head`.
    pub(crate) fn is_of(&self, block: &Block, head: B256) -> bool {
        self.parent == head
            && block.header.parent_hash == head
            && self.hash_for_merged_mining == block.header.hash_for_merged_mining()
    }
}

/// A block built on the head, waiting for a merged-mining proof.
#[derive(Debug)]
pub struct Template {
    /// The block, merged-mining fields empty.
    pub block: Block,
    /// Its hash for merged mining: what the coinbase must commit to.
    pub hash_for_merged_mining: B256,
    /// Fees the block pays its miner.
    pub fees: U256,
    /// Its execution, for import to reuse.
    pub(crate) executed: Executed,
    /// The pool version the template was built from.
    pub(crate) pool_version: u64,
}
