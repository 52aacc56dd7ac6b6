//! The last few blocks read for receipts, with their senders and receipts. A client that asks
//! for every receipt of a block one at a time (a load tool, an indexer, ethers waiting on a
//! batch) then decodes the block once instead of once per receipt. Entries are keyed by block
//! hash, whose contents never change, so nothing needs invalidating on a reorg.

use alloy_consensus::ReceiptEnvelope;
use alloy_primitives::{Address, B256};
use parking_lot::Mutex;
use schnellru::{ByLength, LruMap};
use scion_storage::{StorageError, Store};
use scion_types::Block;
use std::sync::Arc;

/// How many blocks are kept.
const CAPACITY: u32 = 8;

/// A stored block with what its receipts need.
pub struct BlockData {
    /// The block.
    pub block: Block,
    /// Each transaction's sender.
    pub senders: Vec<Address>,
    /// Each transaction's receipt.
    pub receipts: Vec<ReceiptEnvelope>,
}

/// The most recently read blocks.
pub struct BlockCache {
    recent: Mutex<LruMap<B256, Arc<BlockData>>>,
}

impl Default for BlockCache {
    fn default() -> Self {
        Self {
            recent: Mutex::new(LruMap::new(ByLength::new(CAPACITY))),
        }
    }
}

impl BlockCache {
    /// The block `hash` with its senders and receipts, from the cache or the store.
    pub fn get(&self, store: &Store, hash: B256) -> Result<Option<Arc<BlockData>>, StorageError> {
        if let Some(hit) = self.recent.lock().get(&hash) {
            return Ok(Some(hit.clone()));
        }
        let Some(block) = store.block(hash)? else {
            return Ok(None);
        };
        let senders = store.senders(hash)?;
        let receipts = store.receipts(hash)?.unwrap_or_default();
        let complete =
            receipts.len() == block.transactions.len() && senders.len() == block.transactions.len();
        let data = Arc::new(BlockData {
            block,
            senders,
            receipts,
        });
        // A side block has no receipts until it runs: only complete entries are kept.
        if complete {
            self.recent.lock().insert(hash, data.clone());
        }
        Ok(Some(data))
    }
}
