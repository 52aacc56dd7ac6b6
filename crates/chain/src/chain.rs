//! `Chain`: the head, the pool and block production.

use crate::clock::DevTime;
use crate::events::{ChainEvent, Listener, Listeners};
use crate::patch::DevPatch;
use crate::pool::{PooledTx, TxPool};
use crate::template::Template;
use crate::validate::{check_stateless, MAX_TX_SIZE};
use crate::{ChainError, TxRejected};
use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Transaction, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, B256, U256};
use parking_lot::{Mutex, MutexGuard, RwLock};
use scion_consensus::{next_base_fee, DifficultyParams};
use scion_executor::ExecEnv;
use scion_storage::{Store, TxLocation};
use scion_types::{ChainSpec, Header};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Default bound on pooled transactions.
const POOL_SIZE: usize = 100_000;
/// How far ahead of its account's nonce a transaction may be and still be pooled.
pub const MAX_NONCE_GAP: u64 = 1_024;

/// The chain: store, pool and head, safe to share between threads.
#[derive(Debug)]
pub struct Chain {
    pub(crate) store: Store,
    pub(crate) spec: ChainSpec,
    /// Chain id and Bridge configuration for execution.
    pub(crate) exec: ExecEnv,
    pub(crate) pool: Mutex<TxPool>,
    /// Bumped on every pool insertion, so work can tell when to rebuild.
    pub(crate) pool_version: AtomicU64,
    /// Serializes everything that writes blocks.
    pub(crate) writer: Mutex<()>,
    /// Serializes dev block production (build, seal, import).
    pub(crate) producer: Mutex<()>,
    pub(crate) head: RwLock<Header>,
    /// The last templates handed out, newest last.
    pub(crate) templates: Mutex<VecDeque<Arc<Template>>>,
    /// What getWork last notified: parent and fees.
    pub(crate) notified: Mutex<Option<(B256, U256)>>,
    /// Side blocks by height (uncle candidates), and blocks found invalid.
    pub(crate) side: Mutex<BTreeMap<u64, Vec<B256>>>,
    pub(crate) invalid: Mutex<HashSet<B256>>,
    /// Listeners for chain events (RPC subscriptions and filters).
    listeners: Listeners,
    /// Dev clock adjustments.
    pub(crate) dev_time: Mutex<DevTime>,
    /// Dev account patches waiting for the next block.
    pub(crate) patches: Mutex<Vec<DevPatch>>,
    /// Whether each block is flushed to disk before it becomes the head (a node), or only at
    /// [`Store::sync`] (a bulk import).
    durable: bool,
}

impl Chain {
    /// Opens the chain in `datadir`, writing genesis on first use.
    pub fn open(datadir: &Path, spec: ChainSpec) -> Result<Self, ChainError> {
        Self::open_with(datadir, spec, true)
    }

    /// Opens the chain; with `durable` false, block commits are flushed to disk only by
    /// [`Store::sync`] (for bulk import: a crash keeps an earlier consistent head), with
    /// `durable` true each block is flushed before it becomes the head (a node).
    pub fn open_with(
        datadir: &Path,
        mut spec: ChainSpec,
        durable: bool,
    ) -> Result<Self, ChainError> {
        let exec = ExecEnv::prepare(&mut spec)?;
        let store = Store::open_with(datadir, durable)?;
        store.init_genesis(&spec)?;
        store.sync()?;
        let head = store.head()?;
        Ok(Self {
            store,
            spec,
            exec,
            pool: Mutex::new(TxPool::new(POOL_SIZE)),
            pool_version: AtomicU64::new(0),
            writer: Mutex::new(()),
            producer: Mutex::new(()),
            head: RwLock::new(head),
            templates: Mutex::new(VecDeque::new()),
            notified: Mutex::new(None),
            side: Mutex::new(BTreeMap::new()),
            invalid: Mutex::new(HashSet::new()),
            listeners: Listeners::default(),
            dev_time: Mutex::new(Default::default()),
            patches: Mutex::new(Vec::new()),
            durable,
        })
    }

    /// Makes every block committed so far durable (an fsync), on a durable chain; a bulk
    /// import's chain is flushed by its caller through [`Store::sync`].
    pub fn flush(&self) -> Result<(), ChainError> {
        if self.durable {
            self.store.sync()?;
        }
        Ok(())
    }

    /// The chain specification.
    pub fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    /// What execution needs: chain id and the Bridge's configuration.
    pub fn exec(&self) -> &ExecEnv {
        &self.exec
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.spec.chain_id
    }

    /// The store, for reads.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The head header.
    pub fn head(&self) -> Header {
        self.head.read().clone()
    }

    /// The base fee the next block will have.
    pub fn next_base_fee(&self) -> u64 {
        let h = self.head.read();
        next_base_fee(h.gas_used, h.gas_limit, h.base_fee_per_gas)
    }

    /// The transaction pool.
    pub fn pool(&self) -> MutexGuard<'_, TxPool> {
        self.pool.lock()
    }

    /// Where a mined transaction is. A block is not shown here before it is the head: its
    /// commit becomes visible in the database a moment before the head moves to it, and a
    /// client that has seen a receipt must also see its block as the head (and the sender's
    /// nonce past it).
    pub fn tx_location(&self, hash: B256) -> Result<Option<TxLocation>, ChainError> {
        let Some(loc) = self.store.tx_location(hash)? else {
            return Ok(None);
        };
        Ok((loc.block_number <= self.head.read().number).then_some(loc))
    }

    /// The canonical block hash at a height, up to the head (see [`Chain::tx_location`]).
    pub fn canonical_hash(&self, number: u64) -> Result<Option<B256>, ChainError> {
        if number > self.head.read().number {
            return Ok(None);
        }
        Ok(self.store.canonical_hash(number)?)
    }

    /// The account nonce in the head state.
    pub fn state_nonce(&self, address: Address) -> Result<u64, ChainError> {
        Ok(self
            .store
            .latest_account(address)?
            .map(|a| a.nonce)
            .unwrap_or(0))
    }

    /// Decodes, validates and pools a raw signed transaction; returns its hash.
    pub fn submit_raw(&self, raw: &[u8]) -> Result<B256, ChainError> {
        let head = self.head();
        if raw.len() > MAX_TX_SIZE {
            return Err(TxRejected::Oversized {
                size: raw.len(),
                limit: MAX_TX_SIZE,
            }
            .into());
        }
        let tx = TxEnvelope::decode_2718_exact(raw).map_err(|e| TxRejected::Rlp(e.to_string()))?;
        check_stateless(&tx, raw.len(), self.spec.chain_id, head.gas_limit)?;
        let sender = tx.recover_signer().map_err(|_| TxRejected::InvalidSender)?;
        let base_fee = self.next_base_fee();
        if tx.max_fee_per_gas() < u128::from(base_fee) {
            return Err(TxRejected::FeeCapBelowBaseFee {
                sender,
                max_fee: tx.max_fee_per_gas(),
                base_fee,
            }
            .into());
        }
        let account = self.store.latest_account(sender)?.unwrap_or_default();
        let (next, nonce) = (account.nonce, tx.nonce());
        if nonce < next {
            return Err(TxRejected::NonceTooLow { next, nonce }.into());
        }
        if nonce == u64::MAX {
            return Err(TxRejected::NonceMax.into());
        }
        if nonce > next.saturating_add(MAX_NONCE_GAP) {
            return Err(TxRejected::NonceTooHigh {
                next,
                nonce,
                max_gap: MAX_NONCE_GAP,
            }
            .into());
        }
        let cost = U256::from(tx.gas_limit())
            .checked_mul(U256::from(tx.max_fee_per_gas()))
            .and_then(|c| c.checked_add(tx.value()));
        if cost.is_none_or(|c| account.balance < c) {
            return Err(TxRejected::InsufficientFunds {
                sender,
                have: account.balance,
                want: cost,
            }
            .into());
        }
        let hash = *tx.tx_hash();
        self.pool.lock().add(PooledTx { tx, sender, hash })?;
        self.pool_version.fetch_add(1, Ordering::Relaxed);
        self.emit(&ChainEvent::PendingTx(hash));
        Ok(hash)
    }

    /// True when some pooled transaction can run now.
    pub fn has_pending(&self) -> Result<bool, ChainError> {
        // Read the pool, then the state without holding the pool's lock.
        let candidates: Vec<(Address, u64)> = self
            .pool
            .lock()
            .all()
            .map(|p| (p.sender, p.tx.nonce()))
            .collect();
        let mut nonces: std::collections::HashMap<Address, u64> = Default::default();
        for (sender, nonce) in candidates {
            let state = match nonces.get(&sender) {
                Some(n) => *n,
                None => {
                    let n = self.state_nonce(sender)?;
                    nonces.insert(sender, n);
                    n
                }
            };
            if nonce == state {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The difficulty parameters from genesis.
    pub fn difficulty_params(&self) -> DifficultyParams {
        DifficultyParams {
            spacing: self.spec.params.block_spacing,
            divisor: self.spec.params.difficulty_divisor,
            minimum: self.spec.params.minimum_difficulty,
        }
    }

    /// Cumulative difficulty of a stored block.
    pub fn total_difficulty(&self, hash: B256) -> Result<Option<U256>, ChainError> {
        Ok(self.store.block_info(hash)?.map(|i| i.total_difficulty))
    }

    /// Calls `listener` with every later chain event. Listeners must be quick: they run on
    /// the thread that imports blocks.
    pub fn subscribe(&self, listener: Listener) {
        self.listeners.add(listener);
    }

    /// Calls every listener with `event`.
    pub(crate) fn emit(&self, event: &ChainEvent) {
        self.listeners.emit(event);
    }

    /// Unwinds the canonical head block and moves the head to its parent, holding the head
    /// lock meanwhile (see `execute_and_commit`). Returns the removed block.
    pub(crate) fn unwind_one(&self) -> Result<scion_types::Block, ChainError> {
        let mut head = self.head.write();
        let removed = self.store.unwind_head()?;
        *head = self
            .store
            .header(removed.header.parent_hash)?
            .ok_or(ChainError::Missing {
                what: "unwound block's parent",
                hash: removed.header.parent_hash,
            })?;
        Ok(removed)
    }
}
