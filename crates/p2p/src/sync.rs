//! Following the heaviest chain (NETWORK.md, "Sync"), one peer at a time, as a state machine
//! the swarm's task drives: it hands in responses and import outcomes and carries out the
//! [`Action`]s it gets back.
//!
//! - **Short sync** (a gossiped block whose parent is unknown, at most 64 back): walk back from
//!   the parent by hash until a header links to a block we have.
//! - **Long sync** (a peer whose Status claims more work): fetch its head header and check its
//!   merged-mining proof; find the common ancestor by canonical number, stepping back 1, 2, 4,
//!   … and then halving; fetch headers forward in chunks that must link; fetch bodies, check
//!   them against their headers' roots, and import in order.
//!
//! Every block still goes through `Chain::import_*`, so fork choice and reorgs are the chain's:
//! a heavier branch is imported as side blocks and the chain reorgs onto it.

use crate::peers::Fault;
use crate::wire::{Body, HeadersRequest, MAX_BODIES};
use alloy_consensus::proofs;
use alloy_eips::HashOrNumber;
use alloy_primitives::{B256, U256};
use libp2p::request_response::OutboundRequestId;
use libp2p::PeerId;
use scion_chain::Chain;
use scion_consensus::{verify, Commitment, MergeMiningProof};
use scion_types::{Block, Header};
use std::collections::VecDeque;

/// Headers asked for per forward request.
pub const HEADER_CHUNK: u64 = 192;
/// Deepest short sync; beyond it a long sync runs.
pub const MAX_SHORT_SYNC: u64 = 64;
/// Batches handed to the import thread and not yet imported, at most (of up to 128 blocks).
const BATCHES_AHEAD: usize = 8;

/// What the swarm's task is to do for the sync.
#[derive(Debug)]
pub enum Action {
    /// Send a headers request.
    Headers(PeerId, HeadersRequest),
    /// Send a bodies request.
    Bodies(PeerId, Vec<B256>),
    /// Hand blocks to the import thread, in order; the number names this sync, so outcomes
    /// of an earlier one are not taken for its own.
    Import(PeerId, u64, Vec<Block>),
    /// The peer broke a rule.
    Penalise(PeerId, Fault, String),
}

#[derive(Debug)]
enum Phase {
    /// Checking the target's header and proof.
    Head,
    /// Walking back by hash from the target (short sync).
    Back,
    /// Searching the common ancestor: `good` is known to match, `bad` known to differ (or to
    /// be above the first probe), `step` the next step back (0 once a probe matched).
    Ancestor { good: u64, bad: u64, step: u64 },
    /// Fetching headers forward from `next` and bodies for `waiting`.
    Fetch {
        next: u64,
        parent: B256,
        waiting: VecDeque<Header>,
    },
}

/// The running sync.
#[derive(Debug)]
struct Running {
    peer: PeerId,
    target: B256,
    target_number: u64,
    phase: Phase,
    /// A request is out (or about to be sent) and not answered.
    in_flight: bool,
    /// The id of that request once sent: only its answer counts.
    awaiting: Option<OutboundRequestId>,
    /// This sync's number.
    id: u64,
    /// Batches queued for import and not yet reported.
    batches: usize,
    starting_block: u64,
    /// The total difficulty the peer claimed for the target (zero for a short sync).
    claimed: U256,
}

/// The sync: idle, or running against one peer.
#[derive(Debug, Default)]
pub struct Sync {
    running: Option<Running>,
    /// The number the next sync gets.
    next_id: u64,
}

/// True when the header's merged-mining proof meets its own difficulty.
pub fn proof_ok(h: &Header) -> bool {
    let proof = MergeMiningProof {
        btc_header: &h.btc_header,
        merkle_proof: &h.merkle_proof,
        compressed_coinbase: &h.compressed_coinbase,
    };
    verify(
        &proof,
        Commitment::Full(h.hash_for_merged_mining()),
        h.difficulty,
    )
    .is_ok()
}

/// True when the body matches the header's transactions root and ommers hash.
pub fn body_matches(h: &Header, body: &Body) -> bool {
    proofs::calculate_transaction_root(&body.transactions) == h.transactions_root
        && proofs::calculate_ommers_root(&body.uncles) == h.ommers_hash
}

fn headers_req(start: HashOrNumber, max: u64, reverse: bool) -> HeadersRequest {
    HeadersRequest {
        start,
        max,
        skip: 0,
        reverse,
    }
}

impl Sync {
    /// True while a sync runs.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The peer being synced from.
    pub fn peer(&self) -> Option<PeerId> {
        self.running.as_ref().map(|r| r.peer)
    }

    /// `(starting, highest)` block numbers while running.
    pub fn range(&self) -> Option<(u64, u64)> {
        self.running
            .as_ref()
            .map(|r| (r.starting_block, r.target_number))
    }

    /// Starts a long sync towards `target` (the peer's head). Ignored while another runs.
    pub fn start_long(
        &mut self,
        chain: &Chain,
        peer: PeerId,
        target: B256,
        number: u64,
        claimed: U256,
    ) -> Vec<Action> {
        if self.running.is_some() {
            return vec![];
        }
        self.next_id = self.next_id.wrapping_add(1);
        self.running = Some(Running {
            peer,
            target,
            target_number: number,
            phase: Phase::Head,
            in_flight: true,
            awaiting: None,
            id: self.next_id,
            batches: 0,
            starting_block: chain.head().number,
            claimed,
        });
        vec![Action::Headers(peer, headers_req(target.into(), 1, false))]
    }

    /// Starts a short sync for the unknown `parent` (at `number`) of a gossiped block.
    pub fn start_short(
        &mut self,
        chain: &Chain,
        peer: PeerId,
        parent: B256,
        number: u64,
    ) -> Vec<Action> {
        if self.running.is_some() {
            return vec![];
        }
        let head = chain.head().number;
        let depth = number
            .saturating_sub(head)
            .saturating_add(1)
            .clamp(1, MAX_SHORT_SYNC);
        self.running = Some(Running {
            peer,
            target: parent,
            target_number: number,
            phase: Phase::Back,
            in_flight: true,
            awaiting: None,
            id: self.next_id,
            batches: 0,
            starting_block: head,
            claimed: U256::ZERO,
        });
        vec![Action::Headers(
            peer,
            headers_req(parent.into(), depth, true),
        )]
    }

    /// Stops the sync (its peer left or failed a request).
    pub fn abort(&mut self, peer: &PeerId) -> bool {
        if self.peer().as_ref() == Some(peer) {
            self.running = None;
            return true;
        }
        false
    }

    /// Records the id of the request just sent for the sync.
    pub fn sent(&mut self, id: OutboundRequestId) {
        if let Some(run) = self.running.as_mut().filter(|r| r.in_flight) {
            run.awaiting = Some(id);
        }
    }

    /// True when `id` is the request the sync waits for.
    pub fn awaits(&self, id: OutboundRequestId) -> bool {
        self.running
            .as_ref()
            .is_some_and(|r| r.awaiting == Some(id))
    }

    /// The running sync, if this is the answer to the request it was waiting for.
    fn answered(&mut self, peer: PeerId, id: OutboundRequestId) -> Option<&mut Running> {
        let run = self
            .running
            .as_mut()
            .filter(|r| r.peer == peer && r.awaiting == Some(id))?;
        run.in_flight = false;
        run.awaiting = None;
        Some(run)
    }

    fn fail(&mut self, peer: PeerId, fault: Fault, why: String) -> Vec<Action> {
        self.running = None;
        vec![Action::Penalise(peer, fault, why)]
    }

    /// Headers answered by `peer`.
    pub fn on_headers(
        &mut self,
        chain: &Chain,
        peer: PeerId,
        id: OutboundRequestId,
        headers: Vec<Header>,
    ) -> Vec<Action> {
        let Some(run) = self.answered(peer, id) else {
            return vec![];
        };
        let store = chain.store();
        match &mut run.phase {
            Phase::Head => {
                let Some(h) = headers.first().filter(|h| h.hash() == run.target) else {
                    return self.fail(
                        peer,
                        Fault::Fatal,
                        "does not serve the head it claims".into(),
                    );
                };
                if !proof_ok(h) {
                    return self.fail(
                        peer,
                        Fault::Fatal,
                        "its head's merged-mining proof is invalid".into(),
                    );
                }
                if matches!(store.header(run.target), Ok(Some(_))) {
                    return self.finish(chain);
                }
                run.target_number = h.number;
                let probe = chain.head().number.min(h.number);
                if probe == 0 {
                    let Ok(Some(genesis)) = store.canonical_hash(0) else {
                        self.running = None;
                        return vec![];
                    };
                    run.phase = Phase::Fetch {
                        next: 1,
                        parent: genesis,
                        waiting: VecDeque::new(),
                    };
                    return self.pump(chain);
                }
                run.phase = Phase::Ancestor {
                    good: 0,
                    bad: probe.saturating_add(1),
                    step: 1,
                };
                run.in_flight = true;
                vec![Action::Headers(peer, headers_req(probe.into(), 1, false))]
            }
            Phase::Back => {
                // Each header must be the parent of the one before, starting at the target.
                let mut want = run.target;
                let mut chain_back = Vec::new();
                for h in headers {
                    if h.hash() != want {
                        return self.fail(
                            peer,
                            Fault::Fatal,
                            "headers walking back do not link".into(),
                        );
                    }
                    want = h.parent_hash;
                    let known = matches!(store.header(h.parent_hash), Ok(Some(_)));
                    chain_back.push(h);
                    if known {
                        chain_back.reverse();
                        run.phase = Phase::Fetch {
                            next: u64::MAX,
                            parent: B256::ZERO,
                            waiting: chain_back.into(),
                        };
                        return self.pump(chain);
                    }
                }
                // Not linked within reach: fall back to a long sync towards the peer's head,
                // which the next Status will start.
                self.running = None;
                vec![]
            }
            Phase::Ancestor { good, bad, step } => {
                let Some(h) = headers
                    .first()
                    .filter(|h| h.number > *good && h.number < *bad)
                else {
                    return self.fail(peer, Fault::Mid, "no header at the number asked".into());
                };
                if store.canonical_hash(h.number).ok().flatten() == Some(h.hash()) {
                    *good = h.number;
                    *step = 0;
                } else {
                    *bad = h.number;
                }
                if bad.saturating_sub(*good) > 1 {
                    // Step back 1, 2, 4, … while the probes differ; then halve the gap.
                    let probe = if *step > 0 {
                        let p = bad.saturating_sub(*step).max(good.saturating_add(1));
                        *step = step.saturating_mul(2);
                        p
                    } else {
                        good.saturating_add(bad.saturating_sub(*good) / 2)
                    };
                    run.in_flight = true;
                    return vec![Action::Headers(peer, headers_req(probe.into(), 1, false))];
                }
                let ancestor = *good;
                let Ok(Some(parent)) = store.canonical_hash(ancestor) else {
                    self.running = None;
                    return vec![];
                };
                run.phase = Phase::Fetch {
                    next: ancestor.saturating_add(1),
                    parent,
                    waiting: VecDeque::new(),
                };
                self.pump(chain)
            }
            Phase::Fetch {
                next,
                parent,
                waiting,
            } => {
                for h in headers {
                    if h.parent_hash != *parent || h.number != *next {
                        return self.fail(peer, Fault::Fatal, "headers do not link".into());
                    }
                    *parent = h.hash();
                    *next = next.saturating_add(1);
                    waiting.push_back(h);
                }
                self.pump(chain)
            }
        }
    }

    /// Bodies answered by `peer`, for the first headers waiting.
    pub fn on_bodies(
        &mut self,
        chain: &Chain,
        peer: PeerId,
        id: OutboundRequestId,
        bodies: Vec<Body>,
    ) -> Vec<Action> {
        let Some(run) = self.answered(peer, id) else {
            return vec![];
        };
        let Phase::Fetch { waiting, .. } = &mut run.phase else {
            return vec![];
        };
        if bodies.is_empty() {
            return self.fail(peer, Fault::Mid, "no bodies for headers it served".into());
        }
        let mut blocks = Vec::with_capacity(bodies.len());
        for body in bodies {
            let Some(header) = waiting.pop_front() else {
                return self.fail(peer, Fault::Fatal, "more bodies than asked".into());
            };
            if !body_matches(&header, &body) {
                return self.fail(
                    peer,
                    Fault::Fatal,
                    format!("body of block {} does not match its roots", header.number),
                );
            }
            blocks.push(Block {
                header,
                transactions: body.transactions,
                uncles: body.uncles,
            });
        }
        run.batches = run.batches.saturating_add(1);
        let mut out = vec![Action::Import(peer, run.id, blocks)];
        out.extend(self.pump(chain));
        out
    }

    /// A batch handed to the import thread was imported (or failed at `failed`).
    pub fn on_imported(
        &mut self,
        chain: &Chain,
        peer: PeerId,
        sync: u64,
        failed: Option<(u64, String, bool)>,
    ) -> Vec<Action> {
        let Some(run) = self
            .running
            .as_mut()
            .filter(|r| r.peer == peer && r.id == sync)
        else {
            return vec![];
        };
        run.batches = run.batches.saturating_sub(1);
        if let Some((number, why, invalid)) = failed {
            self.running = None;
            if invalid {
                return vec![Action::Penalise(
                    peer,
                    Fault::Fatal,
                    format!("block {number}: {why}"),
                )];
            }
            tracing::warn!(number, error = %why, "sync stopped by an import failure of our own");
            return vec![];
        }
        self.pump(chain)
    }

    /// The next request, or the end of the sync.
    fn pump(&mut self, chain: &Chain) -> Vec<Action> {
        let Some(run) = self.running.as_mut() else {
            return vec![];
        };
        if run.in_flight {
            return vec![];
        }
        let Phase::Fetch { next, waiting, .. } = &mut run.phase else {
            return vec![];
        };
        if run.batches >= BATCHES_AHEAD {
            return vec![];
        }
        if !waiting.is_empty() {
            let hashes: Vec<B256> = waiting.iter().take(MAX_BODIES).map(Header::hash).collect();
            run.in_flight = true;
            return vec![Action::Bodies(run.peer, hashes)];
        }
        if *next != u64::MAX && *next <= run.target_number {
            let max = run
                .target_number
                .saturating_sub(*next)
                .saturating_add(1)
                .min(HEADER_CHUNK);
            run.in_flight = true;
            return vec![Action::Headers(
                run.peer,
                headers_req((*next).into(), max, false),
            )];
        }
        if run.batches == 0 {
            return self.finish(chain);
        }
        vec![]
    }

    /// Ends the sync. A target we now hold whose work falls short of what the peer claimed
    /// for it was a lie (or withheld data): fatal for the peer.
    fn finish(&mut self, chain: &Chain) -> Vec<Action> {
        let Some(run) = self.running.take() else {
            return vec![];
        };
        let td = chain.total_difficulty(run.target).ok().flatten();
        match td {
            Some(td) if td < run.claimed => vec![Action::Penalise(
                run.peer,
                Fault::Fatal,
                format!(
                    "claimed total difficulty {} for its head, which has {td}",
                    run.claimed
                ),
            )],
            _ => vec![],
        }
    }
}
