//! Block production: templates for merge-miners (the last 20 are kept), getWork's notify
//! rule, solutions turned into sealed blocks, and the dev node's sealing through the very same
//! path.

use crate::events::ChainEvent;
use crate::import::{ImportResult, Imported};
use crate::template::{Executed, Template};
use crate::{Chain, ChainError, InvalidBlock};
use alloy_consensus::proofs;
use alloy_primitives::{Address, Bytes, B256, U256};
use scion_consensus::merge_mining::{commitment_of, target};
use scion_consensus::{next_base_fee, next_difficulty, MAX_UNCLES, UNCLE_GENERATIONS};
use scion_executor::{execute_block, BlockParams, Mode};
use scion_types::{Block, Header};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// How many templates stay valid for solutions.
pub const TEMPLATES_KEPT: usize = 20;

/// What mnr_getWork hands a miner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    /// The hash the coinbase must commit to.
    pub hash_for_merged_mining: B256,
    /// The largest Bitcoin header hash that seals the block.
    pub target: U256,
    /// Fees the block pays its miner.
    pub fees: U256,
    /// True when the parent changed or fees grew more than 10% since the last notified work.
    pub notify: bool,
    /// The parent block's hash.
    pub parent: B256,
}

/// A block just sealed by the dev miner.
#[derive(Debug, Clone)]
pub struct MinedBlock {
    /// Its header.
    pub header: Header,
    /// Hashes of its transactions.
    pub tx_hashes: Vec<B256>,
}

impl Chain {
    /// Builds a template on the head from the pending transactions and keeps it.
    pub fn build_template(&self, timestamp: Option<u64>) -> Result<Arc<Template>, ChainError> {
        // No block may commit while the template reads the head's state and trie.
        let _writer = self.writer.lock();
        let pool_version = self.pool_version.load(Ordering::Relaxed);
        let parent = self.head();
        let uncles = self.pick_uncles(&parent)?;
        let params = BlockParams {
            number: parent.number + 1,
            timestamp: timestamp
                .unwrap_or_else(|| self.next_timestamp())
                .max(parent.timestamp + 1),
            beneficiary: self.spec.coinbase,
            gas_limit: parent.gas_limit,
            base_fee: next_base_fee(parent.gas_used, parent.gas_limit, parent.base_fee_per_gas),
            prevrandao: parent.hash(),
        };
        let difficulty = next_difficulty(
            parent.difficulty,
            parent.timestamp,
            params.timestamp,
            uncles.len() as u64,
            &self.difficulty_params(),
        );
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
        let mut outcome = execute_block(&state, &self.exec, &params, txs, Mode::Build)?;
        let patches_applied = self.apply_patches(&mut outcome.changes, |a| {
            state
                .account(a)
                .ok()
                .flatten()
                .map(|x| (x.nonce, x.balance, x.code_hash))
        });
        drop(state);
        {
            // What can never run leaves the pool now; what did not fit waits.
            let mut pool = self.pool.lock();
            for r in outcome.rejected.iter().filter(|r| !r.retry) {
                tracing::debug!(tx = %r.tx.tx_hash(), reason = %r.reason, "dropping transaction");
                pool.remove(r.tx.tx_hash());
            }
        }
        let update = self.store.prepare_state(&outcome.changes)?;
        let header = Header {
            parent_hash: parent.hash(),
            ommers_hash: proofs::calculate_ommers_root(&uncles),
            beneficiary: params.beneficiary,
            state_root: update.state_root,
            transactions_root: proofs::calculate_transaction_root(&outcome.transactions),
            receipts_root: proofs::calculate_receipt_root(&outcome.receipts),
            logs_bloom: outcome.logs_bloom,
            difficulty,
            number: params.number,
            gas_limit: params.gas_limit,
            gas_used: outcome.gas_used,
            timestamp: params.timestamp,
            extra_data: Bytes::new(),
            mix_hash: params.prevrandao,
            base_fee_per_gas: params.base_fee,
            btc_header: Bytes::new(),
            merkle_proof: Bytes::new(),
            compressed_coinbase: Bytes::new(),
        };
        let hash_for_merged_mining = header.hash_for_merged_mining();
        let template = Arc::new(Template {
            executed: Executed {
                parent: header.parent_hash,
                hash_for_merged_mining,
                senders: outcome.senders,
                receipts: outcome.receipts,
                changes: outcome.changes,
                update,
                fees: outcome.fees,
                patches_applied,
            },
            block: Block {
                header,
                transactions: outcome.transactions,
                uncles,
            },
            hash_for_merged_mining,
            fees: outcome.fees,
            pool_version,
        });
        let mut templates = self.templates.lock();
        templates.push_back(template.clone());
        while templates.len() > TEMPLATES_KEPT {
            templates.pop_front();
        }
        Ok(template)
    }

    /// A kept template by its hash for merged mining.
    pub fn template(&self, hash_for_merged_mining: &B256) -> Option<Arc<Template>> {
        self.templates
            .lock()
            .iter()
            .rev()
            .find(|t| t.hash_for_merged_mining == *hash_for_merged_mining)
            .cloned()
    }

    /// Current work: the newest template, rebuilt when the head or the pool changed.
    pub fn get_work(&self) -> Result<Work, ChainError> {
        let head = self.head().hash();
        let latest = self.templates.lock().back().cloned();
        let version = self.pool_version.load(Ordering::Relaxed);
        let template = match latest {
            Some(t) if t.block.header.parent_hash == head && t.pool_version == version => t,
            _ => self.build_template(None)?,
        };
        let mut notified = self.notified.lock();
        let notify = match *notified {
            Some((parent, fees)) => {
                parent != template.block.header.parent_hash
                    || template.fees * U256::from(10) > fees * U256::from(11)
            }
            None => true,
        };
        if notify {
            *notified = Some((template.block.header.parent_hash, template.fees));
        }
        Ok(Work {
            hash_for_merged_mining: template.hash_for_merged_mining,
            target: target(template.block.header.difficulty),
            fees: template.fees,
            notify,
            parent: template.block.header.parent_hash,
        })
    }

    /// Seals the template the coinbase commits to with this proof and imports the block.
    pub fn submit_solution(
        &self,
        btc_header: Vec<u8>,
        merkle_proof: Vec<u8>,
        compressed_coinbase: Vec<u8>,
    ) -> Result<Imported, ChainError> {
        let hash_for_merged_mining =
            commitment_of(&compressed_coinbase).map_err(InvalidBlock::Header)?;
        let template = self
            .template(&hash_for_merged_mining)
            .ok_or(ChainError::UnknownWork(hash_for_merged_mining))?;
        let mut block = template.block.clone();
        block.header.btc_header = btc_header.into();
        block.header.merkle_proof = merkle_proof.into();
        block.header.compressed_coinbase = compressed_coinbase.into();
        let imported = self.import_with(block, Some(&template.executed), None, true)?;
        if matches!(
            imported.result,
            ImportResult::ImportedBest | ImportResult::ImportedNotBest
        ) {
            self.emit(&ChainEvent::BlockSealed(imported.hash));
        }
        Ok(imported)
    }

    /// Dev: builds a block from the pending transactions, seals it with a real merged-mining
    /// proof at the block's difficulty, and imports it through the normal path.
    pub fn mine_block(&self, timestamp: Option<u64>) -> Result<MinedBlock, ChainError> {
        let _writer = self.producer.lock();
        let template = self.build_template(timestamp)?;
        let header = &template.block.header;
        let seal = scion_consensus::work::seal(
            template.hash_for_merged_mining,
            header.difficulty,
            u32::try_from(header.timestamp).unwrap_or(u32::MAX),
            header.number,
        )
        .map_err(ChainError::Seal)?;
        let imported =
            self.submit_solution(seal.btc_header, seal.merkle_proof, seal.compressed_coinbase)?;
        if imported.result != ImportResult::ImportedBest {
            return Err(ChainError::DevImport {
                number: imported.number,
                result: imported.result.name(),
                reason: imported.reason,
            });
        }
        let block = self
            .store
            .block(imported.hash)?
            .ok_or(ChainError::Missing {
                what: "sealed block",
                hash: imported.hash,
            })?;
        let tx_hashes = block.transactions.iter().map(|t| *t.tx_hash()).collect();
        Ok(MinedBlock {
            header: block.header,
            tx_hashes,
        })
    }

    /// Uncle candidates for a block on `parent`: side blocks of the last six generations whose
    /// parent is canonical and that no recent block already references.
    fn pick_uncles(&self, parent: &Header) -> Result<Vec<Header>, ChainError> {
        let number = parent.number + 1;
        let low = number.saturating_sub(UNCLE_GENERATIONS);
        let candidates: Vec<B256> = {
            let side = self.side.lock();
            side.range(low..number)
                .flat_map(|(_, v)| v.iter().copied())
                .collect()
        };
        if candidates.is_empty() {
            return Ok(vec![]);
        }
        let referenced = self.recent_uncles(parent, UNCLE_GENERATIONS)?;
        let invalid = self.invalid.lock().clone();
        let mut out = Vec::new();
        for hash in candidates {
            if out.len() == MAX_UNCLES || referenced.contains(&hash) || invalid.contains(&hash) {
                continue;
            }
            let Some(h) = self.store.header(hash)? else {
                continue;
            };
            let canonical = self.store.canonical_hash(h.number)? == Some(hash);
            let parent_canonical =
                h.number > 0 && self.store.canonical_hash(h.number - 1)? == Some(h.parent_hash);
            if !canonical && parent_canonical {
                out.push(h);
            }
        }
        Ok(out)
    }
}
