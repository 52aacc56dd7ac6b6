//! Dev-only controls behind the evm_* / anvil_* / hardhat_* methods: block time, rewinding
//! to a snapshot, state patches, and transactions from impersonated accounts. A patch is applied
//! in the next sealed block (that block's state root includes it), so every change still goes
//! through a block.

use crate::events::ChainEvent;
use crate::patch::{self, DevPatch};
use crate::pool::PooledTx;
use crate::{Chain, ChainError, TxRejected};
use alloy_consensus::{Transaction, TxEnvelope};
use alloy_primitives::{Address, B256, U256};
use scion_types::StateChanges;
use std::sync::atomic::Ordering;

impl Chain {
    /// Moves the dev clock forward by `seconds`; returns the total offset.
    pub fn increase_time(&self, seconds: i64) -> i64 {
        let mut t = self.dev_time.lock();
        t.offset = t.offset.saturating_add(seconds);
        t.offset
    }

    /// Fixes the next block's timestamp.
    pub fn set_next_timestamp(&self, timestamp: u64) -> Result<(), ChainError> {
        let head = self.head();
        if timestamp <= head.timestamp {
            return Err(ChainError::TimestampNotAfterHead {
                timestamp,
                head: head.timestamp,
            });
        }
        self.dev_time.lock().next = Some(timestamp);
        Ok(())
    }

    /// The timestamp a new block gets when none is asked for. A fixed next timestamp stays
    /// until a block at or after it commits.
    pub(crate) fn next_timestamp(&self) -> u64 {
        self.dev_time.lock().next_timestamp()
    }

    /// Called when a block commits: clears what it used up.
    pub(crate) fn block_committed(&self, timestamp: u64, patches_applied: usize) {
        self.dev_time.lock().committed(timestamp);
        let mut p = self.patches.lock();
        let n = patches_applied.min(p.len());
        p.drain(..n);
    }

    /// Queues account changes for the next block.
    pub fn patch(&self, patch: DevPatch) {
        self.patches.lock().push(patch);
    }

    /// Applies queued patches on top of a block's changes; `current` reads an account's
    /// (nonce, balance, code hash) before the block. Returns how many were applied; they stay
    /// queued until that block commits.
    pub(crate) fn apply_patches(
        &self,
        changes: &mut StateChanges,
        current: impl Fn(Address) -> Option<(u64, U256, B256)>,
    ) -> usize {
        let patches: Vec<DevPatch> = self.patches.lock().clone();
        let n = patches.len();
        patch::apply(patches, changes, current);
        n
    }

    /// Rewinds the chain to block `number` (evm_revert): later blocks leave the canonical
    /// chain and their transactions are dropped.
    pub fn rewind_to(&self, number: u64) -> Result<(), ChainError> {
        let _writer = self.writer.lock();
        while self.head().number > number {
            let removed = self.unwind_one()?;
            self.emit(&ChainEvent::BlockRemoved(removed.hash()));
        }
        self.flush()?;
        self.templates.lock().clear();
        self.pool_version.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Pools a transaction from an impersonated account: its signature is not checked, the
    /// given sender is used. Dev only.
    pub fn submit_impersonated(&self, tx: TxEnvelope, sender: Address) -> Result<B256, ChainError> {
        let nonce = self.state_nonce(sender)?;
        if tx.nonce() < nonce {
            return Err(TxRejected::NonceTooLow {
                next: nonce,
                nonce: tx.nonce(),
            }
            .into());
        }
        let hash = *tx.tx_hash();
        self.pool.lock().add(PooledTx { tx, sender, hash })?;
        self.pool_version.fetch_add(1, Ordering::Relaxed);
        self.emit(&ChainEvent::PendingTx(hash));
        Ok(hash)
    }
}
