//! `Chain`: the head, the pool and block production.

use crate::pool::{PooledTx, TxPool};
use crate::validate::check_stateless;
use crate::ChainError;
use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{proofs, Transaction, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, Bytes, B256, U256};
use parking_lot::{Mutex, MutexGuard, RwLock};
use scion_executor::{execute_block, next_base_fee, BlockParams, Mode};
use scion_storage::{BlockInfo, Store};
use scion_types::{Block, ChainSpec, Header, BTC_HEADER_LEN};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Default bound on pooled transactions.
const POOL_SIZE: usize = 100_000;

/// A block just added to the chain.
#[derive(Debug, Clone)]
pub struct MinedBlock {
    /// Its header.
    pub header: Header,
    /// Hashes of its transactions.
    pub tx_hashes: Vec<B256>,
}

/// The chain: store, pool and head, safe to share between threads.
#[derive(Debug)]
pub struct Chain {
    store: Store,
    spec: ChainSpec,
    pool: Mutex<TxPool>,
    /// Serializes everything that writes blocks.
    writer: Mutex<()>,
    head: RwLock<Header>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Chain {
    /// Opens the chain in `datadir`, writing genesis on first use.
    pub fn open(datadir: &Path, spec: ChainSpec) -> Result<Self, ChainError> {
        let store = Store::open(datadir)?;
        store.init_genesis(&spec)?;
        let head = store.head()?;
        Ok(Self {
            store,
            spec,
            pool: Mutex::new(TxPool::new(POOL_SIZE)),
            writer: Mutex::new(()),
            head: RwLock::new(head),
        })
    }

    /// The chain specification.
    pub fn spec(&self) -> &ChainSpec {
        &self.spec
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
        if raw.len() > crate::MAX_TX_SIZE {
            return Err(ChainError::Rejected(format!(
                "oversized data: transaction size {}, limit {}",
                raw.len(),
                crate::MAX_TX_SIZE
            )));
        }
        let tx = TxEnvelope::decode_2718_exact(raw)
            .map_err(|e| ChainError::Rejected(format!("rlp: {e}")))?;
        check_stateless(&tx, raw.len(), self.spec.chain_id, head.gas_limit)
            .map_err(ChainError::Rejected)?;
        let sender = tx
            .recover_signer()
            .map_err(|_| ChainError::Rejected("invalid sender".into()))?;
        let base_fee = self.next_base_fee();
        if tx.max_fee_per_gas() < u128::from(base_fee) {
            return Err(ChainError::Rejected(format!(
                "max fee per gas less than block base fee: address {sender}, maxFeePerGas: {}, baseFee: {base_fee}",
                tx.max_fee_per_gas()
            )));
        }
        let account = self.store.latest_account(sender)?.unwrap_or_default();
        if tx.nonce() < account.nonce {
            return Err(ChainError::Rejected(format!(
                "nonce too low: next nonce {}, tx nonce {}",
                account.nonce,
                tx.nonce()
            )));
        }
        let cost = U256::from(tx.gas_limit()) * U256::from(tx.max_fee_per_gas()) + tx.value();
        if account.balance < cost {
            return Err(ChainError::Rejected(format!(
                "insufficient funds for gas * price + value: address {sender} have {} want {cost}",
                account.balance
            )));
        }
        let hash = *tx.tx_hash();
        self.pool.lock().add(PooledTx { tx, sender, hash })?;
        Ok(hash)
    }

    /// True when some pooled transaction can run now.
    pub fn has_pending(&self) -> Result<bool, ChainError> {
        let pool = self.pool.lock();
        for p in pool.all() {
            if p.tx.nonce() == self.state_nonce(p.sender)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Builds a block on the head from the pending transactions, seals it and commits it.
    /// `timestamp` defaults to now (and always exceeds the parent's).
    pub fn mine_block(&self, timestamp: Option<u64>) -> Result<MinedBlock, ChainError> {
        let _writer = self.writer.lock();
        let parent = self.head();
        let params = BlockParams {
            number: parent.number + 1,
            timestamp: timestamp.unwrap_or_else(now).max(parent.timestamp + 1),
            beneficiary: self.spec.coinbase,
            gas_limit: parent.gas_limit,
            base_fee: next_base_fee(parent.gas_used, parent.gas_limit, parent.base_fee_per_gas),
            prevrandao: parent.hash(),
        };
        let state = self.store.state_at(parent.number)?;
        let pending = {
            let pool = self.pool.lock();
            let nonce = |a: Address| {
                state
                    .account(a)
                    .ok()
                    .flatten()
                    .map(|acc| acc.nonce)
                    .unwrap_or(0)
            };
            pool.pending(nonce, params.base_fee)
        };
        let txs = pending.into_iter().map(|p| (p.tx, p.sender));
        let outcome = execute_block(&state, self.spec.chain_id, &params, txs, Mode::Build)?;
        drop(state);

        let update = self.store.prepare_state(&outcome.changes)?;
        let header = Header {
            parent_hash: parent.hash(),
            ommers_hash: alloy_consensus::EMPTY_OMMER_ROOT_HASH,
            beneficiary: params.beneficiary,
            state_root: update.state_root,
            transactions_root: proofs::calculate_transaction_root(&outcome.transactions),
            receipts_root: proofs::calculate_receipt_root(&outcome.receipts),
            logs_bloom: outcome.logs_bloom,
            difficulty: self.spec.params.minimum_difficulty,
            number: params.number,
            gas_limit: params.gas_limit,
            gas_used: outcome.gas_used,
            timestamp: params.timestamp,
            extra_data: Bytes::new(),
            mix_hash: params.prevrandao,
            base_fee_per_gas: params.base_fee,
            // Placeholder seal until merge-mining fills these with a real proof.
            btc_header: Bytes::from(vec![0u8; BTC_HEADER_LEN]),
            merkle_proof: Bytes::new(),
            compressed_coinbase: Bytes::new(),
        };
        let block = Block {
            header,
            transactions: outcome.transactions,
            uncles: vec![],
        };
        self.store.commit_block(
            &block,
            &outcome.senders,
            &outcome.receipts,
            &outcome.changes,
            update,
        )?;
        *self.head.write() = block.header.clone();

        // Mined transactions leave the pool; so do the ones that can never run.
        let mut pool = self.pool.lock();
        for r in outcome.rejected.iter().filter(|r| !r.retry) {
            tracing::debug!(tx = %r.tx.tx_hash(), reason = %r.reason, "dropping transaction");
            pool.remove(r.tx.tx_hash());
        }
        for (tx, sender) in block.transactions.iter().zip(&outcome.senders) {
            pool.prune_sender(*sender, tx.nonce() + 1);
        }
        let tx_hashes = block.transactions.iter().map(|t| *t.tx_hash()).collect();
        Ok(MinedBlock {
            header: block.header,
            tx_hashes,
        })
    }
}
