//! The import thread: the one place the network hands blocks to [`Chain`], behind a bounded
//! queue, so the swarm's task never waits for an execution. Sync batches pass first through a
//! recovery thread that recovers their senders on every core, a batch ahead of execution; a
//! gossiped block reuses the senders of transactions already in the pool.

use alloy_consensus::transaction::SignerRecoverable;
use alloy_primitives::{Address, B256};
use libp2p::gossipsub::MessageId;
use libp2p::PeerId;
use scion_chain::{Chain, ImportResult};
use scion_types::Block;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

/// Blocks queued for import at most (about 2,048 blocks ahead, per NETWORK.md, counted in jobs).
const QUEUE: usize = 256;
/// Sync batches waiting for sender recovery, at most (more than the sync keeps in flight).
const RECOVER_QUEUE: usize = 16;

/// Where a block came from, so its outcome reaches the right place.
#[derive(Debug, Clone)]
pub enum Origin {
    /// Gossip: the message to accept or reject, and who sent it.
    Gossip {
        /// The peer that forwarded it.
        peer: PeerId,
        /// Its gossip message id.
        id: MessageId,
    },
    /// An orphan whose parent has arrived since.
    Orphan {
        /// The peer that sent it.
        peer: PeerId,
    },
}

/// What the import thread reports back to the swarm's task.
#[derive(Debug)]
pub enum Outcome {
    /// One gossiped or orphan block.
    Block {
        /// Where it came from.
        origin: Origin,
        /// The block (kept for the orphan pool when its parent is unknown).
        block: Box<Block>,
        /// The import's verdict, or our own failure.
        result: Result<ImportResult, String>,
        /// Why it is invalid.
        reason: Option<String>,
    },
    /// A sync batch.
    Batch {
        /// The peer it was fetched from.
        peer: PeerId,
        /// The sync it belongs to.
        sync: u64,
        /// Hash and number of the last block imported or already known.
        last: Option<(B256, u64)>,
        /// Blocks in the batch.
        len: usize,
        /// The first block that failed, why, and whether it is invalid (true) or our error.
        failed: Option<(u64, String, bool)>,
    },
}

enum Job {
    Single(Origin, Box<Block>),
    Batch(PeerId, u64, Vec<(Block, Option<Vec<Address>>)>),
}

/// Handles to the two threads and their queues.
#[derive(Debug)]
pub struct Importer {
    import: SyncSender<Job>,
    recover: SyncSender<(PeerId, u64, Vec<Block>)>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Single(o, b) => write!(f, "block {} from {o:?}", b.header.number),
            Job::Batch(p, _, b) => write!(f, "{} blocks from {p}", b.len()),
        }
    }
}

impl Importer {
    /// Starts the recovery and import threads; outcomes go to `out`.
    pub fn start(chain: Arc<Chain>, out: UnboundedSender<Outcome>) -> std::io::Result<Self> {
        let (import, jobs) = sync_channel::<Job>(QUEUE);
        let (recover, batches) = sync_channel::<(PeerId, u64, Vec<Block>)>(RECOVER_QUEUE);
        let to_import = import.clone();
        let threads = vec![
            std::thread::Builder::new()
                .name("p2p-recover".into())
                .spawn(move || recover_loop(batches, to_import))?,
            std::thread::Builder::new()
                .name("p2p-import".into())
                .spawn(move || import_loop(&chain, jobs, out))?,
        ];
        Ok(Self {
            import,
            recover,
            threads,
        })
    }

    /// Closes the queues and waits for both threads to finish what they hold (so the chain
    /// is no longer used when this returns).
    pub fn stop(self) {
        let Self {
            import,
            recover,
            threads,
        } = self;
        drop(recover);
        drop(import);
        for t in threads {
            if t.join().is_err() {
                tracing::error!("an import thread panicked");
            }
        }
    }

    /// Queues one block; false when the queue is full (the caller drops or retries it).
    pub fn submit(&self, origin: Origin, block: Block) -> bool {
        match self.import.try_send(Job::Single(origin, Box::new(block))) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => false,
            Err(TrySendError::Disconnected(_)) => {
                tracing::error!("the import thread is gone");
                false
            }
        }
    }

    /// Queues a sync batch, in order; false when the queues are full.
    pub fn submit_batch(&self, peer: PeerId, sync: u64, blocks: Vec<Block>) -> bool {
        self.recover.try_send((peer, sync, blocks)).is_ok()
    }
}

fn recover_loop(batches: Receiver<(PeerId, u64, Vec<Block>)>, import: SyncSender<Job>) {
    for (peer, sync, blocks) in batches {
        let senders = scion_chain::recover_blocks(&blocks);
        let job = Job::Batch(peer, sync, blocks.into_iter().zip(senders).collect());
        if import.send(job).is_err() {
            return;
        }
    }
}

fn import_loop(chain: &Chain, jobs: Receiver<Job>, out: UnboundedSender<Outcome>) {
    for job in jobs {
        let (outcome, single) = match job {
            Job::Single(origin, block) => (import_single(chain, origin, block), true),
            Job::Batch(peer, sync, blocks) => (import_batch(chain, peer, sync, blocks), false),
        };
        if out.send(outcome).is_err() {
            return;
        }
        // A gossiped block is relayed (on the swarm's task) while it is flushed here.
        if single {
            if let Err(e) = chain.flush() {
                tracing::error!(error = %e, "flushing an imported block");
            }
        }
    }
}

/// The senders of a gossiped block: from the pool where it holds the transaction (the hash
/// covers the signature), recovered otherwise; `None` if a signature is bad.
fn senders_of(chain: &Chain, block: &Block) -> Option<Vec<Address>> {
    let pooled: Vec<Option<Address>> = {
        let pool = chain.pool();
        block
            .transactions
            .iter()
            .map(|t| pool.get(t.tx_hash()).map(|p| p.sender))
            .collect()
    };
    block
        .transactions
        .iter()
        .zip(pooled)
        .map(|(t, known)| known.or_else(|| t.recover_signer().ok()))
        .collect()
}

fn import_single(chain: &Chain, origin: Origin, block: Box<Block>) -> Outcome {
    let senders = senders_of(chain, &block);
    let imported = chain.import_unflushed((*block).clone(), senders);
    let (result, reason) = match imported {
        Ok(i) => (Ok(i.result), i.reason.map(|r| r.to_string())),
        Err(e) => (Err(e.to_string()), None),
    };
    Outcome::Block {
        origin,
        block,
        result,
        reason,
    }
}

/// Imports a sync batch with one fsync at its end rather than one per block (NETWORK.md's
/// batched durability): a crash before it reopens the chain at an earlier block, and the
/// sync fetches the rest again.
fn import_batch(
    chain: &Chain,
    peer: PeerId,
    sync: u64,
    blocks: Vec<(Block, Option<Vec<Address>>)>,
) -> Outcome {
    let len = blocks.len();
    let (last, failed) = import_run(chain, blocks);
    let failed = match (failed, chain.flush()) {
        (Some(f), _) => Some(f),
        (None, Ok(())) => None,
        (None, Err(e)) => last.map(|(_, n)| (n, e.to_string(), false)),
    };
    Outcome::Batch {
        peer,
        sync,
        last,
        len,
        failed,
    }
}

/// The first block of a batch that failed: its number, why, and whether it is invalid (true)
/// or our own error.
type Failed = (u64, String, bool);

/// Imports blocks in order until one fails: the last imported (or known) and the failure.
fn import_run(
    chain: &Chain,
    blocks: Vec<(Block, Option<Vec<Address>>)>,
) -> (Option<(B256, u64)>, Option<Failed>) {
    let mut last = None;
    for (block, senders) in blocks {
        let number = block.header.number;
        let imported = chain.import_unflushed(block, senders);
        let failed = match imported {
            Ok(i) => match i.result {
                ImportResult::ImportedBest
                | ImportResult::ImportedNotBest
                | ImportResult::Exist => {
                    last = Some((i.hash, number));
                    continue;
                }
                ImportResult::NoParent => (number, "its parent is unknown".to_string(), true),
                ImportResult::InvalidBlock => (
                    number,
                    i.reason.map(|r| r.to_string()).unwrap_or_default(),
                    true,
                ),
            },
            Err(e) => (number, e.to_string(), false),
        };
        return (last, Some(failed));
    }
    (last, None)
}
