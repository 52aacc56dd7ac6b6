//! Gossip: blocks and transactions received, checked off the swarm's task and relayed only
//! once accepted (gossipsub's manual validation), our own sealed blocks and pooled
//! transactions published, and the outcomes of the import thread, orphans included.

use crate::importer::{Origin, Outcome};
use crate::peers::Fault;
use crate::service::{Local, Service, Work};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, B256};
use libp2p::gossipsub::{self, MessageAcceptance, MessageId};
use libp2p::PeerId;
use scion_chain::{ChainError, ImportResult};
use scion_types::Block;

/// Blocks further below the head than this are ignored (too old even to be uncles).
pub const MAX_BEHIND: u64 = 6;
/// Blocks further above the head than this are ignored, and a sync starts instead.
pub const MAX_AHEAD: u64 = 24;
/// Blocks waiting for their parent, at most.
pub const MAX_ORPHANS: usize = 64;

impl Service {
    fn report(&mut self, id: &MessageId, peer: &PeerId, verdict: MessageAcceptance) {
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(id, peer, verdict);
    }

    /// A gossip message from `peer`.
    pub(crate) fn on_gossip(&mut self, peer: PeerId, id: MessageId, message: gossipsub::Message) {
        if message.topic == self.block_topic.hash() {
            self.on_block(peer, id, &message.data);
        } else if message.topic == self.tx_topic.hash() {
            self.on_tx(peer, id, message.data);
        } else {
            self.report(&id, &peer, MessageAcceptance::Reject);
        }
    }

    fn on_block(&mut self, peer: PeerId, id: MessageId, data: &[u8]) {
        let block = match Block::decode_rlp(data) {
            Ok(b) => b,
            Err(e) => {
                self.report(&id, &peer, MessageAcceptance::Reject);
                self.penalise(peer, Fault::Fatal, format!("undecodable block: {e}"));
                return;
            }
        };
        let head = self.chain.head().number;
        let number = block.header.number;
        if number.saturating_add(MAX_BEHIND) < head {
            self.report(&id, &peer, MessageAcceptance::Ignore);
            return;
        }
        let hash = block.hash();
        if number > head.saturating_add(MAX_AHEAD) {
            self.report(&id, &peer, MessageAcceptance::Ignore);
            if !self.sync.is_running() {
                let target = (hash, number, alloy_primitives::U256::ZERO);
                let helpers = self.peers_ahead();
                let actions = self.sync.start_long(&self.chain, peer, target, helpers);
                self.act(actions);
            }
            return;
        }
        if matches!(self.chain.store().header(hash), Ok(Some(_))) {
            self.report(&id, &peer, MessageAcceptance::Accept);
            return;
        }
        if !self.importer.submit(
            Origin::Gossip {
                peer,
                id: id.clone(),
            },
            block,
        ) {
            tracing::debug!(number, "import queue full; gossiped block ignored");
            self.report(&id, &peer, MessageAcceptance::Ignore);
        }
    }

    fn on_tx(&mut self, peer: PeerId, id: MessageId, data: Vec<u8>) {
        let allowed = self
            .peers
            .get_mut(&peer)
            .is_some_and(|p| p.quotas.txs.take(std::time::Instant::now()));
        if !allowed {
            // Dropped unchecked, at no cost to the peer: a busy honest relay can exceed any
            // rate, and the dropping is what limits a flood.
            self.report(&id, &peer, MessageAcceptance::Ignore);
            return;
        }
        // The pool will announce it as pending; it is relayed by acceptance, not published.
        self.gossiped_txs.insert(keccak256(&data), ());
        let chain = self.chain.clone();
        let work = self.work.clone();
        tokio::task::spawn_blocking(move || {
            // Only what the sender answers for counts against the peer; what depends on
            // state (known, nonce, funds, a full pool) and our own failures do not.
            let result = match chain.submit_raw(&data) {
                Ok(_) => Ok(()),
                Err(ChainError::Tx(r)) => Err((r.is_sender_fault(), r.to_string())),
                Err(e) => Err((false, e.to_string())),
            };
            let _ = work.send(Work::TxChecked { peer, id, result });
        });
    }

    pub(crate) fn on_tx_checked(
        &mut self,
        peer: PeerId,
        id: MessageId,
        result: Result<(), (bool, String)>,
    ) {
        match result {
            Ok(()) => self.report(&id, &peer, MessageAcceptance::Accept),
            Err((true, why)) => {
                self.report(&id, &peer, MessageAcceptance::Reject);
                self.penalise(peer, Fault::Low, format!("invalid transaction: {why}"));
            }
            Err((false, _)) => self.report(&id, &peer, MessageAcceptance::Ignore),
        }
    }

    /// Our own events: a block sealed here (or submitted through mnr_), a transaction pooled
    /// through the RPC.
    pub(crate) fn on_local(&mut self, event: Local) {
        match event {
            Local::Sealed(hash) => {
                let block = match self.chain.store().block(hash) {
                    Ok(Some(b)) => b,
                    Ok(None) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "reading a sealed block to publish");
                        return;
                    }
                };
                self.publish(true, block.rlp());
            }
            Local::Tx(hash) => {
                if self.gossiped_txs.remove(&hash).is_some() {
                    return;
                }
                let raw = self.chain.pool().get(&hash).map(|p| p.tx.encoded_2718());
                if let Some(raw) = raw {
                    self.publish(false, raw);
                }
            }
        }
    }

    fn publish(&mut self, block: bool, data: Vec<u8>) {
        let topic = if block {
            self.block_topic.clone()
        } else {
            self.tx_topic.clone()
        };
        if let Err(e) = self.swarm.behaviour_mut().gossipsub.publish(topic, data) {
            // No peers yet, or a duplicate: nothing to do.
            tracing::debug!(error = %e, block, "publish");
        }
    }

    /// What the import thread reports.
    pub(crate) fn on_outcome(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Block {
                origin,
                block,
                result,
                reason,
            } => self.on_block_imported(origin, *block, result, reason),
            Outcome::Batch {
                peer,
                sync,
                last,
                len,
                failed,
            } => {
                tracing::debug!(len, last = ?last.map(|l| l.1), "sync batch imported");
                let actions = self.sync.on_imported(&self.chain, peer, sync, failed);
                self.act(actions);
                self.resolve_orphans();
                self.chase_orphans();
                self.start_best_sync();
            }
        }
    }

    fn on_block_imported(
        &mut self,
        origin: Origin,
        block: Block,
        result: Result<ImportResult, String>,
        reason: Option<String>,
    ) {
        let (peer, id) = match &origin {
            Origin::Gossip { peer, id } => (*peer, Some(id.clone())),
            Origin::Orphan { peer } => (*peer, None),
        };
        let verdict = match &result {
            Ok(
                ImportResult::ImportedBest | ImportResult::ImportedNotBest | ImportResult::Exist,
            ) => MessageAcceptance::Accept,
            Ok(ImportResult::InvalidBlock) => MessageAcceptance::Reject,
            Ok(ImportResult::NoParent) | Err(_) => MessageAcceptance::Ignore,
        };
        if let Some(id) = &id {
            self.report(id, &peer, verdict);
        }
        match result {
            Ok(ImportResult::ImportedBest | ImportResult::ImportedNotBest) => {
                tracing::debug!(number = block.header.number, hash = %block.hash(), "imported gossiped block");
                self.saw_head(peer, &block);
                self.resolve_orphans();
            }
            Ok(ImportResult::InvalidBlock) => {
                let why = reason.unwrap_or_default();
                self.penalise(
                    peer,
                    Fault::Fatal,
                    format!("invalid block {}: {why}", block.header.number),
                );
            }
            Ok(ImportResult::NoParent) => {
                self.add_orphan(block, peer);
                self.chase_orphans();
            }
            Ok(ImportResult::Exist) => {}
            Err(e) => tracing::error!(error = %e, "importing a gossiped block failed"),
        }
    }

    fn add_orphan(&mut self, block: Block, peer: PeerId) {
        let hash = block.hash();
        if self.orphans.iter().any(|(b, _)| b.hash() == hash) {
            return;
        }
        if self.orphans.len() >= MAX_ORPHANS {
            self.orphans.remove(0);
        }
        self.orphans.push((block, peer));
    }

    /// The peer sent a block we imported: it has at least that much work, which later sync
    /// decisions count on (its Status may be up to a minute old).
    fn saw_head(&mut self, peer: PeerId, block: &Block) {
        let hash = block.hash();
        let Ok(Some(td)) = self.chain.total_difficulty(hash) else {
            return;
        };
        if let Some(s) = self.peers.get_mut(&peer).and_then(|p| p.status.as_mut()) {
            if td > s.total_difficulty {
                s.head = hash;
                s.number = block.header.number;
                s.total_difficulty = td;
            }
        }
    }

    /// Starts fetching the ancestors of the highest orphan whose parent is still unknown, from
    /// the peer that sent it: a short sync within reach, a long one beyond.
    pub(crate) fn chase_orphans(&mut self) {
        if self.sync.is_running() {
            return;
        }
        let Some((block, peer)) = self
            .orphans
            .iter()
            .max_by_key(|(b, _)| b.header.number)
            .map(|(b, p)| (b.header.clone(), *p))
        else {
            return;
        };
        let head = self.chain.head().number;
        let actions = if block.number.saturating_sub(head) <= crate::sync::MAX_SHORT_SYNC {
            let parent_number = block.number.saturating_sub(1);
            self.sync
                .start_short(&self.chain, peer, block.parent_hash, parent_number)
        } else {
            let target = (block.hash(), block.number, alloy_primitives::U256::ZERO);
            let helpers = self.peers_ahead();
            self.sync.start_long(&self.chain, peer, target, helpers)
        };
        self.act(actions);
    }

    /// Hands every orphan whose parent is now stored to the import thread.
    pub(crate) fn resolve_orphans(&mut self) {
        if self.orphans.is_empty() {
            return;
        }
        let store = self.chain.store();
        let known = |h: B256| matches!(store.header(h), Ok(Some(_)));
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.orphans)
            .into_iter()
            .partition(|(b, _)| known(b.header.parent_hash));
        self.orphans = waiting;
        for (block, peer) in ready {
            if !self.importer.submit(Origin::Orphan { peer }, block) {
                tracing::debug!("import queue full; orphan dropped");
            }
        }
    }
}
