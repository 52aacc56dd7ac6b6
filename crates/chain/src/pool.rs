//! The transaction pool: per-sender nonce order, pending (executable now) and queued (behind a
//! nonce gap), replacement only at ≥ 10% higher fees, and a size bound.

use crate::TxRejected;
use alloy_consensus::{Transaction, TxEnvelope};
use alloy_primitives::{Address, B256};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

/// Most transactions one sender may have pooled.
pub const MAX_PER_SENDER: usize = 4_096;

/// A transaction in the pool.
#[derive(Debug, Clone)]
pub struct PooledTx {
    /// The signed transaction.
    pub tx: TxEnvelope,
    /// Its recovered sender.
    pub sender: Address,
    /// Its hash.
    pub hash: B256,
}

impl PooledTx {
    fn nonce(&self) -> u64 {
        self.tx.nonce()
    }
}

/// Pending and queued transactions by sender.
#[derive(Debug)]
pub struct TxPool {
    by_hash: HashMap<B256, PooledTx>,
    by_sender: HashMap<Address, BTreeMap<u64, B256>>,
    max_size: usize,
}

impl TxPool {
    /// An empty pool holding at most `max_size` transactions.
    pub fn new(max_size: usize) -> Self {
        Self {
            by_hash: HashMap::new(),
            by_sender: HashMap::new(),
            max_size,
        }
    }

    /// Number of transactions held.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// A pooled transaction by hash.
    pub fn get(&self, hash: &B256) -> Option<&PooledTx> {
        self.by_hash.get(hash)
    }

    /// Adds a validated transaction; returns the hash of one it replaced, if any. Refuses it
    /// as already known, as an underpriced replacement, or because the pool is full.
    pub fn add(&mut self, ptx: PooledTx) -> Result<Option<B256>, TxRejected> {
        if self.by_hash.contains_key(&ptx.hash) {
            return Err(TxRejected::AlreadyKnown);
        }
        let nonce = ptx.nonce();
        let existing = self
            .by_sender
            .get(&ptx.sender)
            .and_then(|m| m.get(&nonce))
            .copied();
        if let Some(old_hash) = existing {
            let old = &self.by_hash[&old_hash].tx;
            let bump = |old: u128, new: u128| new >= old.saturating_add(old / 10);
            let old_tip = old
                .max_priority_fee_per_gas()
                .unwrap_or(old.max_fee_per_gas());
            let new_tip = ptx
                .tx
                .max_priority_fee_per_gas()
                .unwrap_or(ptx.tx.max_fee_per_gas());
            if !bump(old.max_fee_per_gas(), ptx.tx.max_fee_per_gas()) || !bump(old_tip, new_tip) {
                return Err(TxRejected::ReplacementUnderpriced);
            }
            self.by_hash.remove(&old_hash);
        } else if self.by_hash.len() >= self.max_size
            || self
                .by_sender
                .get(&ptx.sender)
                .is_some_and(|m| m.len() >= MAX_PER_SENDER)
        {
            return Err(TxRejected::PoolFull);
        }
        self.by_sender
            .entry(ptx.sender)
            .or_default()
            .insert(nonce, ptx.hash);
        self.by_hash.insert(ptx.hash, ptx);
        Ok(existing)
    }

    /// The nonce after the sender's contiguous run starting at `state_nonce`.
    pub fn pending_nonce(&self, sender: Address, state_nonce: u64) -> u64 {
        let mut n = state_nonce;
        if let Some(m) = self.by_sender.get(&sender) {
            while m.contains_key(&n) {
                match n.checked_add(1) {
                    Some(next) => n = next,
                    None => break,
                }
            }
        }
        n
    }

    /// Executable transactions, each sender's in nonce order starting at its state nonce,
    /// senders interleaved best tip first. `state_nonce` gives each sender's current nonce.
    pub fn pending(&self, state_nonce: impl Fn(Address) -> u64, base_fee: u64) -> Vec<PooledTx> {
        let mut runs: Vec<Vec<&PooledTx>> = Vec::new();
        for (sender, m) in &self.by_sender {
            let mut n = state_nonce(*sender);
            let mut run = Vec::new();
            while let Some(h) = m.get(&n) {
                run.push(&self.by_hash[h]);
                match n.checked_add(1) {
                    Some(next) => n = next,
                    None => break,
                }
            }
            if !run.is_empty() {
                run.reverse();
                runs.push(run);
            }
        }
        let tip = |p: &PooledTx| p.tx.effective_tip_per_gas(base_fee).unwrap_or(0);
        // Repeatedly take the best head among the senders' runs (ties: lower hash first).
        let mut heap: BinaryHeap<(u128, Reverse<B256>, usize)> = runs
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.last().map(|p| (tip(p), Reverse(p.hash), i)))
            .collect();
        let mut out = Vec::new();
        while let Some((_, _, i)) = heap.pop() {
            if let Some(p) = runs[i].pop() {
                out.push(p.clone());
            }
            if let Some(next) = runs[i].last() {
                heap.push((tip(next), Reverse(next.hash), i));
            }
        }
        out
    }

    /// Every transaction split into pending (a contiguous run from the sender's state nonce)
    /// and queued (behind a nonce gap), each in sender and nonce order.
    pub fn split(&self, state_nonce: impl Fn(Address) -> u64) -> (Vec<PooledTx>, Vec<PooledTx>) {
        let (mut pending, mut queued) = (Vec::new(), Vec::new());
        let mut senders: Vec<&Address> = self.by_sender.keys().collect();
        senders.sort();
        for sender in senders {
            let mut next = state_nonce(*sender);
            for (nonce, hash) in &self.by_sender[sender] {
                let ptx = self.by_hash[hash].clone();
                if *nonce == next {
                    pending.push(ptx);
                    next = next.saturating_add(1);
                } else {
                    queued.push(ptx);
                }
            }
        }
        (pending, queued)
    }

    /// All transactions of a sender, by nonce.
    pub fn by_sender(&self, sender: Address) -> Vec<PooledTx> {
        self.by_sender
            .get(&sender)
            .map(|m| m.values().map(|h| self.by_hash[h].clone()).collect())
            .unwrap_or_default()
    }

    /// Every pooled transaction.
    pub fn all(&self) -> impl Iterator<Item = &PooledTx> {
        self.by_hash.values()
    }

    /// Removes one transaction.
    pub fn remove(&mut self, hash: &B256) -> Option<PooledTx> {
        let ptx = self.by_hash.remove(hash)?;
        if let Some(m) = self.by_sender.get_mut(&ptx.sender) {
            m.remove(&ptx.nonce());
            if m.is_empty() {
                self.by_sender.remove(&ptx.sender);
            }
        }
        Some(ptx)
    }

    /// Drops a sender's transactions whose nonce is below `state_nonce` (mined or stale).
    pub fn prune_sender(&mut self, sender: Address, state_nonce: u64) {
        let Some(m) = self.by_sender.get_mut(&sender) else {
            return;
        };
        let stale: Vec<u64> = m.range(..state_nonce).map(|(n, _)| *n).collect();
        for n in stale {
            if let Some(h) = m.remove(&n) {
                self.by_hash.remove(&h);
            }
        }
        if m.is_empty() {
            self.by_sender.remove(&sender);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{Signed, TxLegacy};
    use alloy_primitives::Signature;

    fn ptx(sender: u8, nonce: u64, price: u128) -> PooledTx {
        let tx = TxLegacy {
            nonce,
            gas_price: price,
            gas_limit: 21_000,
            ..Default::default()
        };
        let signed = Signed::new_unhashed(tx, Signature::test_signature());
        let tx = TxEnvelope::Legacy(signed);
        PooledTx {
            hash: *tx.tx_hash(),
            tx,
            sender: Address::with_last_byte(sender),
        }
    }

    #[test]
    fn pool_is_bounded_and_orders_by_tip_within_nonce_order() {
        let mut pool = TxPool::new(3);
        pool.add(ptx(1, 0, 5)).unwrap();
        pool.add(ptx(1, 1, 100)).unwrap();
        pool.add(ptx(2, 0, 50)).unwrap();
        assert_eq!(pool.add(ptx(3, 0, 1)), Err(TxRejected::PoolFull));
        // A replacement does not need room.
        pool.add(ptx(2, 0, 60)).unwrap();
        let order: Vec<(u8, u64)> = pool
            .pending(|_| 0, 0)
            .iter()
            .map(|p| (p.sender.0[19], p.tx.nonce()))
            .collect();
        // Sender 2 pays more than sender 1's first transaction; sender 1's nonce 1 waits
        // for its nonce 0 even though it pays most.
        assert_eq!(order, vec![(2, 0), (1, 0), (1, 1)]);
        assert_eq!(pool.pending_nonce(Address::with_last_byte(1), 0), 2);
        pool.prune_sender(Address::with_last_byte(1), 1);
        assert_eq!(pool.len(), 2);
        // Queued: a gap means nothing pending for that sender.
        assert!(pool
            .pending(|_| 0, 0)
            .iter()
            .all(|p| p.sender != Address::with_last_byte(1)));
    }
}
