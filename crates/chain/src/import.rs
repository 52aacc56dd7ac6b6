//! Importing sealed blocks: header rules, the merged-mining proof, uncles, execution, fork
//! choice by cumulative difficulty, and reorgs that re-execute the heavier branch. Every block
//! in every mode (dev miner, pool, peer) comes through here.

use crate::clock::now;
use crate::events::ChainEvent;
use crate::pool::PooledTx;
use crate::template::Executed;
use crate::{Chain, ChainError, InvalidBlock};
use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{proofs, Transaction};
use alloy_primitives::{Address, B256, U256};
use scion_consensus::{
    check_header, is_better_head, next_difficulty, ConsensusError, GotExpected, Tip, MAX_UNCLES,
    UNCLE_GENERATIONS,
};
use scion_executor::{execute_block, BlockParams, ExecError, Mode};
use scion_storage::BlockInfo;
use scion_types::{Block, Header};
use std::collections::HashSet;

/// How an import ended, with Rootstock's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportResult {
    /// Imported and now the head.
    ImportedBest,
    /// Imported on a side branch.
    ImportedNotBest,
    /// Already known.
    Exist,
    /// Its parent is unknown.
    NoParent,
    /// It breaks a rule.
    InvalidBlock,
}

impl ImportResult {
    /// Rootstock's name (`IMPORTED_BEST`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Self::ImportedBest => "IMPORTED_BEST",
            Self::ImportedNotBest => "IMPORTED_NOT_BEST",
            Self::Exist => "EXIST",
            Self::NoParent => "NO_PARENT",
            Self::InvalidBlock => "INVALID_BLOCK",
        }
    }
}

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// How it ended.
    pub result: ImportResult,
    /// The block's hash.
    pub hash: B256,
    /// The block's number.
    pub number: u64,
    /// Why it is invalid, for `InvalidBlock`.
    pub reason: Option<InvalidBlock>,
}

/// Why a block is invalid, or a failure of our own.
enum Failure {
    Invalid(InvalidBlock),
    Internal(ChainError),
}

// No blanket `From<impl Into<ChainError>>`: `InvalidBlock` converts into `ChainError` too, and
// `?` must never turn a block's fault into one of ours.
impl From<InvalidBlock> for Failure {
    fn from(e: InvalidBlock) -> Self {
        Failure::Invalid(e)
    }
}

impl From<ChainError> for Failure {
    fn from(e: ChainError) -> Self {
        match e {
            ChainError::Block(reason) => Failure::Invalid(reason),
            other => Failure::Internal(other),
        }
    }
}

impl From<scion_storage::StorageError> for Failure {
    fn from(e: scion_storage::StorageError) -> Self {
        Failure::Internal(e.into())
    }
}

fn invalid<T>(reason: InvalidBlock) -> Result<T, Failure> {
    Err(Failure::Invalid(reason))
}

impl Chain {
    /// Imports a sealed block from anywhere (a peer, a pool, a test).
    pub fn import_block(&self, block: Block) -> Result<Imported, ChainError> {
        self.import_with(block, None, None, true)
    }

    /// Imports a block whose senders the caller has already recovered from its transactions'
    /// signatures (`senders[i]` signed transaction `i`), as `scion import` does on another
    /// thread. Everything else is checked as in [`Chain::import_block`].
    pub fn import_recovered(
        &self,
        block: Block,
        senders: Vec<Address>,
    ) -> Result<Imported, ChainError> {
        self.import_with(block, None, Some(senders), true)
    }

    /// [`Chain::import_recovered`] (or, without senders, [`Chain::import_block`]) without the
    /// fsync: the block is committed and visible, and a crash reopens the chain at an earlier
    /// block until [`Chain::flush`] returns. For blocks from peers, which a crash only makes
    /// the node fetch again: a sync batch, flushed at its end, and a gossiped block, relayed
    /// while it is flushed. Blocks sealed here are flushed before they become the head.
    pub fn import_unflushed(
        &self,
        block: Block,
        senders: Option<Vec<Address>>,
    ) -> Result<Imported, ChainError> {
        self.import_with(block, None, senders, false)
    }

    pub(crate) fn import_with(
        &self,
        block: Block,
        executed: Option<&Executed>,
        senders: Option<Vec<Address>>,
        flush: bool,
    ) -> Result<Imported, ChainError> {
        let _writer = self.writer.lock();
        let hash = block.hash();
        let number = block.header.number;
        let done = |result, reason| {
            Ok(Imported {
                result,
                hash,
                number,
                reason,
            })
        };
        if self.invalid.lock().contains(&hash) {
            return done(ImportResult::InvalidBlock, Some(InvalidBlock::KnownInvalid));
        }
        if self.store.header(hash)?.is_some() {
            return done(ImportResult::Exist, None);
        }
        let Some(parent) = self.store.header(block.header.parent_hash)? else {
            return done(ImportResult::NoParent, None);
        };
        {
            let bad = self.invalid.lock();
            if bad.contains(&block.header.parent_hash) {
                drop(bad);
                self.invalid.lock().insert(hash);
                return done(
                    ImportResult::InvalidBlock,
                    Some(InvalidBlock::InvalidAncestor(block.header.parent_hash)),
                );
            }
        }
        let uncle_difficulty = match self.check_block(&block, &parent) {
            Ok(d) => d,
            Err(Failure::Invalid(reason)) => return done(ImportResult::InvalidBlock, Some(reason)),
            Err(Failure::Internal(e)) => return Err(e),
        };
        let parent_td = self
            .store
            .block_info(parent.hash())?
            .unwrap_or_default()
            .total_difficulty;
        // Saturating: reaching 2^256 would take more work than can ever be done.
        let td = parent_td
            .saturating_add(block.header.difficulty)
            .saturating_add(uncle_difficulty);
        let head = self.head();
        if block.header.parent_hash == head.hash() {
            return match self.execute_and_commit(&block, td, executed, senders, flush) {
                Ok(()) => done(ImportResult::ImportedBest, None),
                Err(Failure::Invalid(reason)) => {
                    self.invalid.lock().insert(hash);
                    done(ImportResult::InvalidBlock, Some(reason))
                }
                Err(Failure::Internal(e)) => Err(e),
            };
        }
        // A side branch: keep it, and switch to it if it is now the heaviest. Its fees are not
        // known until it runs (the header does not carry them), so ties count them as zero for
        // every side block, wherever it came from: all nodes then decide alike, and a tie keeps
        // the head seen first.
        let fees = U256::ZERO;
        self.store.put_side_block(
            &block,
            BlockInfo {
                total_difficulty: td,
                fees,
            },
        )?;
        self.side.lock().entry(number).or_default().push(hash);
        if flush {
            self.flush()?;
        }
        let head_info = self.store.block_info(head.hash())?.unwrap_or_default();
        let new = Tip {
            total_difficulty: td,
            fees,
            hash,
        };
        let current = Tip {
            total_difficulty: head_info.total_difficulty,
            fees: head_info.fees,
            hash: head.hash(),
        };
        if !is_better_head(&new, &current) {
            return done(ImportResult::ImportedNotBest, None);
        }
        match self.reorg_to(&block, flush) {
            Ok(()) => done(ImportResult::ImportedBest, None),
            Err(Failure::Invalid(reason)) => done(ImportResult::InvalidBlock, Some(reason)),
            Err(Failure::Internal(e)) => Err(e),
        }
    }

    /// Header rules against the parent (PROTOCOL.md §1.5–1.6), on this chain and at this time.
    fn header_rules(&self, h: &Header, parent: &Header) -> Result<(), ConsensusError> {
        check_header(h, parent, self.spec.params.dev, now())
    }

    /// Everything that can be checked before execution; returns the uncles' difficulty.
    fn check_block(&self, block: &Block, parent: &Header) -> Result<U256, Failure> {
        let h = &block.header;
        self.header_rules(h, parent).map_err(InvalidBlock::Header)?;
        let expected = next_difficulty(
            parent.difficulty,
            parent.timestamp,
            h.timestamp,
            u64::try_from(block.uncles.len()).unwrap_or(u64::MAX),
            &self.difficulty_params(),
        );
        if h.difficulty != expected {
            return invalid(InvalidBlock::Difficulty(GotExpected::new(
                h.difficulty,
                expected,
            )));
        }
        let ommers = proofs::calculate_ommers_root(&block.uncles);
        if h.ommers_hash != ommers {
            return invalid(InvalidBlock::OmmersHash(GotExpected::new(
                ommers,
                h.ommers_hash,
            )));
        }
        let transactions = proofs::calculate_transaction_root(&block.transactions);
        if h.transactions_root != transactions {
            return invalid(InvalidBlock::TransactionsRoot(GotExpected::new(
                transactions,
                h.transactions_root,
            )));
        }
        self.check_uncles(block, parent)
    }

    /// Hashes of the uncles referenced by `from` and its ancestors, `generations` deep.
    pub(crate) fn recent_uncles(
        &self,
        from: &Header,
        generations: u64,
    ) -> Result<HashSet<B256>, ChainError> {
        let mut out = HashSet::new();
        let mut hash = from.hash();
        for _ in 0..generations {
            let Some(b) = self.store.block(hash)? else {
                break;
            };
            out.extend(b.uncles.iter().map(Header::hash));
            if b.header.number == 0 {
                break;
            }
            hash = b.header.parent_hash;
        }
        Ok(out)
    }

    fn check_uncles(&self, block: &Block, parent: &Header) -> Result<U256, Failure> {
        if block.uncles.is_empty() {
            return Ok(U256::ZERO);
        }
        if block.uncles.len() > MAX_UNCLES {
            return invalid(InvalidBlock::TooManyUncles {
                count: block.uncles.len(),
                max: MAX_UNCLES,
            });
        }
        // The block's ancestors within the uncle window.
        let mut ancestors = HashSet::new();
        let mut h = parent.clone();
        for _ in 0..=UNCLE_GENERATIONS {
            ancestors.insert(h.hash());
            if h.number == 0 {
                break;
            }
            match self.store.header(h.parent_hash)? {
                Some(p) => h = p,
                None => break,
            }
        }
        let referenced = self.recent_uncles(parent, UNCLE_GENERATIONS)?;
        let mut seen = HashSet::new();
        let mut total = U256::ZERO;
        let n = block.header.number;
        for u in &block.uncles {
            let uh = u.hash();
            if !seen.insert(uh) {
                return invalid(InvalidBlock::DuplicateUncle(uh));
            }
            if referenced.contains(&uh) {
                return invalid(InvalidBlock::UncleAlreadyReferenced(uh));
            }
            if ancestors.contains(&uh) {
                return invalid(InvalidBlock::UncleIsAncestor(uh));
            }
            if u.number >= n || u.number.saturating_add(UNCLE_GENERATIONS) < n {
                return invalid(InvalidBlock::UncleOutOfRange {
                    hash: uh,
                    number: u.number,
                    low: n.saturating_sub(UNCLE_GENERATIONS),
                    high: n,
                });
            }
            if !ancestors.contains(&u.parent_hash) {
                return invalid(InvalidBlock::UncleParentNotAncestor(uh));
            }
            let Some(up) = self.store.header(u.parent_hash)? else {
                return invalid(InvalidBlock::UncleParentUnknown(uh));
            };
            self.header_rules(u, &up)
                .map_err(|error| InvalidBlock::Uncle { hash: uh, error })?;
            // Saturating, as the cumulative difficulty is.
            total = total.saturating_add(u.difficulty);
        }
        Ok(total)
    }

    /// Executes a block on the head (or takes its execution, when `executed` is this block's
    /// on the head) and commits it.
    fn execute_and_commit(
        &self,
        block: &Block,
        td: U256,
        executed: Option<&Executed>,
        known_senders: Option<Vec<Address>>,
        flush: bool,
    ) -> Result<(), Failure> {
        let head = self.head();
        let reuse = executed.filter(|e| e.is_of(block, head.hash()));
        let (senders, receipts, changes, update, fees);
        let recomputed;
        match reuse {
            Some(e) => {
                senders = &e.senders;
                receipts = &e.receipts;
                changes = &e.changes;
                update = &e.update;
                fees = e.fees;
            }
            None => {
                let recovered = match known_senders {
                    Some(s) if s.len() == block.transactions.len() => s,
                    _ => recover_senders(block)?,
                };
                let h = &block.header;
                let params = BlockParams::of(h);
                let state = self.store.state_at(head.number)?;
                let txs = block
                    .transactions
                    .iter()
                    .cloned()
                    .zip(recovered.iter().copied());
                let outcome = match execute_block(&state, &self.exec, &params, txs, Mode::Import) {
                    Ok(o) => o,
                    Err(ExecError::InvalidTransaction { index, reason }) => {
                        return invalid(InvalidBlock::Transaction { index, reason })
                    }
                    Err(ExecError::Tx(e)) => return invalid(InvalidBlock::Unexecutable(e)),
                    // The state database or the Bridge's configuration: ours, not the block's.
                    Err(e @ (ExecError::Database(_) | ExecError::Bridge(_))) => {
                        return Err(Failure::Internal(e.into()))
                    }
                };
                drop(state);
                if outcome.gas_used != h.gas_used {
                    return invalid(InvalidBlock::GasUsed(GotExpected::new(
                        outcome.gas_used,
                        h.gas_used,
                    )));
                }
                let receipts_root = proofs::calculate_receipt_root(&outcome.receipts);
                if receipts_root != h.receipts_root {
                    return invalid(InvalidBlock::ReceiptsRoot(GotExpected::new(
                        receipts_root,
                        h.receipts_root,
                    )));
                }
                if outcome.logs_bloom != h.logs_bloom {
                    return invalid(InvalidBlock::LogsBloom(Box::new(GotExpected::new(
                        outcome.logs_bloom,
                        h.logs_bloom,
                    ))));
                }
                let up = self.store.prepare_state(&outcome.changes)?;
                if up.state_root != h.state_root {
                    return invalid(InvalidBlock::StateRoot(GotExpected::new(
                        up.state_root,
                        h.state_root,
                    )));
                }
                recomputed = (recovered, outcome, up);
                senders = &recomputed.0;
                receipts = &recomputed.1.receipts;
                changes = &recomputed.1.changes;
                update = &recomputed.2;
                fees = recomputed.1.fees;
            }
        }
        let info = BlockInfo {
            total_difficulty: td,
            fees,
        };
        // Readers do not wait for the commit and its fsync: they keep the old head until both
        // return. Lookups by transaction hash or block number hide the block until then
        // (`Chain::tx_location`, `Chain::canonical_hash`), so whoever has seen its receipt
        // also sees it as the head, with the nonces after it, and it is on disk. A failed
        // fsync still moves the head (the block is committed) and is reported after.
        self.store
            .commit_block(block, info, senders, receipts, changes, update)?;
        let flushed = if flush { self.flush() } else { Ok(()) };
        *self.head.write() = block.header.clone();
        let mut pool = self.pool.lock();
        for (tx, sender) in block.transactions.iter().zip(senders) {
            pool.prune_sender(*sender, tx.nonce().saturating_add(1));
        }
        drop(pool);
        self.block_committed(
            block.header.timestamp,
            reuse.map(|e| e.patches_applied).unwrap_or(0),
        );
        self.emit(&ChainEvent::BlockAdded(block.hash()));
        Ok(flushed?)
    }

    /// Moves the head to `tip`'s branch: unwinds to the common ancestor, executes the branch,
    /// and returns the dropped transactions to the pool. If the branch turns out invalid, the
    /// old chain is restored. With `flush`, the last commit is flushed (and every one before
    /// it with it).
    fn reorg_to(&self, tip: &Block, flush: bool) -> Result<(), Failure> {
        let mut branch = vec![tip.clone()];
        let mut cursor = tip.header.clone();
        loop {
            let parent = self
                .store
                .block(cursor.parent_hash)?
                .ok_or(ChainError::Missing {
                    what: "reorg branch parent",
                    hash: cursor.parent_hash,
                })?;
            if self.store.canonical_hash(parent.header.number)? == Some(parent.hash()) {
                break;
            }
            cursor = parent.header.clone();
            branch.push(parent);
        }
        branch.reverse();
        // The branch's first block has a stored parent, so it is not block 0.
        let fork_number = branch
            .first()
            .and_then(|b| b.header.number.checked_sub(1))
            .ok_or(ChainError::Internal("a reorg branch starts at block 0"))?;
        let mut dropped = Vec::new();
        while self.head().number > fork_number {
            let removed = self.unwind_one()?;
            let senders = self.store.senders(removed.hash())?;
            self.emit(&ChainEvent::BlockRemoved(removed.hash()));
            // It stays stored, and may still be referenced as an uncle.
            self.side
                .lock()
                .entry(removed.header.number)
                .or_default()
                .push(removed.hash());
            dropped.push((removed, senders));
        }
        tracing::info!(depth = dropped.len(), new_blocks = branch.len(), "reorg");
        let last = branch.len().saturating_sub(1);
        for (i, b) in branch.iter().enumerate() {
            let td = self
                .store
                .block_info(b.hash())?
                .unwrap_or_default()
                .total_difficulty;
            match self.execute_and_commit(b, td, None, None, flush && i == last) {
                Ok(()) => {}
                Err(Failure::Invalid(reason)) => {
                    let mut bad = self.invalid.lock();
                    for later in branch.iter().skip(i) {
                        bad.insert(later.hash());
                    }
                    drop(bad);
                    self.restore(fork_number, &dropped, flush)?;
                    return invalid(InvalidBlock::Branch {
                        number: b.header.number,
                        reason: Box::new(reason),
                    });
                }
                Err(e) => {
                    // Our own failure: put the old chain back as well as we can, keep its
                    // transactions, and report the failure.
                    if self.restore(fork_number, &dropped, flush).is_err() {
                        tracing::error!("restoring the chain after a failed reorg failed too");
                    }
                    self.repool(&dropped)?;
                    return Err(e);
                }
            }
        }
        self.repool(&dropped)
    }

    /// Returns the transactions of dropped blocks that are not on the canonical chain now to
    /// the pool, and prunes what their senders' nonces make stale.
    fn repool(&self, dropped: &[(Block, Vec<Address>)]) -> Result<(), Failure> {
        let mut pool = self.pool.lock();
        for (block, senders) in dropped {
            for (tx, sender) in block.transactions.iter().zip(senders) {
                if self.store.tx_location(*tx.tx_hash())?.is_none() {
                    let ptx = PooledTx {
                        tx: tx.clone(),
                        sender: *sender,
                        hash: *tx.tx_hash(),
                    };
                    let _ = pool.add(ptx);
                }
            }
        }
        let senders: HashSet<Address> = dropped
            .iter()
            .flat_map(|(_, s)| s.iter().copied())
            .collect();
        for s in senders {
            let nonce = self.store.latest_account(s)?.map(|a| a.nonce).unwrap_or(0);
            pool.prune_sender(s, nonce);
        }
        drop(pool);
        self.pool_version
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Puts the old canonical blocks back after a failed reorg (flushing the last, with
    /// `flush`).
    fn restore(
        &self,
        fork_number: u64,
        dropped: &[(Block, Vec<Address>)],
        flush: bool,
    ) -> Result<(), Failure> {
        while self.head().number > fork_number {
            let removed = self.unwind_one()?;
            self.emit(&ChainEvent::BlockRemoved(removed.hash()));
        }
        if dropped.is_empty() && flush {
            self.flush()?;
        }
        for (i, (block, _)) in dropped.iter().rev().enumerate() {
            let td = self
                .store
                .block_info(block.hash())?
                .unwrap_or_default()
                .total_difficulty;
            let is_last = i.saturating_add(1) == dropped.len();
            match self.execute_and_commit(block, td, None, None, flush && is_last) {
                Ok(()) => {}
                Err(Failure::Invalid(reason)) => {
                    return Err(Failure::Internal(ChainError::Restore {
                        number: block.header.number,
                        reason,
                    }))
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Each transaction's signer, or the block is invalid.
fn recover_senders(block: &Block) -> Result<Vec<Address>, Failure> {
    let mut senders = Vec::with_capacity(block.transactions.len());
    for (i, tx) in block.transactions.iter().enumerate() {
        match tx.recover_signer() {
            Ok(a) => senders.push(a),
            Err(_) => return invalid(InvalidBlock::InvalidSignature { index: i }),
        }
    }
    Ok(senders)
}
