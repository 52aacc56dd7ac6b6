//! Following the heaviest chain (NETWORK.md, "Sync"), as a state machine the swarm's task
//! drives: it hands in responses and import outcomes and carries out the [`Action`]s it gets
//! back.
//!
//! - **Short sync** (a gossiped block whose parent is unknown, at most 64 back): walk back from
//!   the parent by hash until a header links to a block we have.
//! - **Long sync** (a peer whose Status claims more work): fetch its head header and check its
//!   merged-mining proof; find the common ancestor by canonical number, stepping back 1, 2, 4,
//!   … and then halving; then `fill.rs`: a skeleton from the sync peer, chunks and bodies from
//!   every peer ahead of us, at most 2 requests in flight per peer, imported in order.
//!
//! Every block still goes through `Chain::import_*`, so fork choice and reorgs are the chain's:
//! a heavier branch is imported as side blocks and the chain reorgs onto it.

use crate::fill::{Fill, Piece, Refused};
use crate::peers::Fault;
use crate::wire::{Body, HeadersRequest};
use alloy_eips::HashOrNumber;
use alloy_primitives::{B256, U256};
use libp2p::request_response::OutboundRequestId;
use libp2p::PeerId;
use scion_chain::Chain;
use scion_consensus::{verify, Commitment, MergeMiningProof};
use scion_types::Header;

/// Deepest short sync; beyond it a long sync runs.
pub const MAX_SHORT_SYNC: u64 = 64;
/// Batches handed to the import thread and not yet imported, at most (of up to 128 blocks).
const BATCHES_AHEAD: usize = 8;
/// Requests in flight to one peer, at most.
const PER_PEER: usize = 2;

/// What the swarm's task is to do for the sync.
#[derive(Debug)]
pub enum Action {
    /// Send a headers request.
    Headers(PeerId, HeadersRequest, Token),
    /// Send a bodies request.
    Bodies(PeerId, Vec<B256>, Token),
    /// Hand blocks to the import thread, in order; the number names this sync, so outcomes
    /// of an earlier one are not taken for its own.
    Import(PeerId, u64, Vec<scion_types::Block>),
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
    /// Fetching the skeleton, chunks and bodies, and handing blocks on.
    Fetch(Fill),
}

/// Names a request of the sync until the swarm gives it an id ([`Sync::sent`]).
pub type Token = u64;

/// What a request out asks for.
#[derive(Debug)]
enum Ask {
    /// The head, a walk back, or an ancestor probe (the sync peer only).
    Probe,
    /// A piece of the fetch.
    Piece(Piece),
}

/// A request out: to whom, its id once sent, and what it asks.
#[derive(Debug)]
struct Out {
    peer: PeerId,
    token: Token,
    id: Option<OutboundRequestId>,
    ask: Ask,
}

/// The running sync.
#[derive(Debug)]
struct Running {
    peer: PeerId,
    target: B256,
    target_number: u64,
    phase: Phase,
    /// Requests out, in the order they were handed to the swarm's task.
    out: Vec<Out>,
    /// Other peers ahead of us, asked for chunks and bodies.
    helpers: Vec<PeerId>,
    /// The token the next request gets.
    next_token: Token,
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

fn headers_req(start: HashOrNumber, max: u64, reverse: bool) -> HeadersRequest {
    HeadersRequest {
        start,
        max,
        skip: 0,
        reverse,
    }
}

/// Records a request to `peer` in `out`, returning the action that sends it (none for a
/// headers piece without a request).
fn push_ask(
    out: &mut Vec<Out>,
    next_token: &mut Token,
    peer: PeerId,
    ask: Ask,
    req: Option<HeadersRequest>,
) -> Option<Action> {
    let token = *next_token;
    let action = match (&ask, req) {
        (Ask::Piece(Piece::Bodies(run)), _) => {
            Action::Bodies(peer, run.iter().map(Header::hash).collect(), token)
        }
        (_, Some(req)) => Action::Headers(peer, req, token),
        (_, None) => return None,
    };
    *next_token = token.wrapping_add(1);
    out.push(Out {
        peer,
        token,
        id: None,
        ask,
    });
    Some(action)
}

impl Running {
    /// Records a request to `peer`, returning the action that sends it.
    fn ask(&mut self, peer: PeerId, ask: Ask, req: Option<HeadersRequest>) -> Option<Action> {
        push_ask(&mut self.out, &mut self.next_token, peer, ask, req)
    }

    /// A probe of the sync peer (head, walk back, ancestor).
    fn probe(&mut self, req: HeadersRequest) -> Vec<Action> {
        let peer = self.peer;
        self.ask(peer, Ask::Probe, Some(req)).into_iter().collect()
    }

    /// Takes the request `id` to `peer` out of the table. Headers and bodies requests are
    /// numbered apart (one counter per protocol), so the protocol is part of the key.
    fn take(&mut self, peer: PeerId, id: OutboundRequestId, bodies: bool) -> Option<Ask> {
        let i = self.out.iter().position(|o| {
            o.peer == peer
                && o.id == Some(id)
                && matches!(o.ask, Ask::Piece(Piece::Bodies(_))) == bodies
        })?;
        Some(self.out.remove(i).ask)
    }

    /// Drops a helper and puts its pieces back to be asked of others.
    fn drop_helper(&mut self, peer: PeerId) {
        self.helpers.retain(|p| *p != peer);
        let (gone, kept): (Vec<Out>, Vec<Out>) = std::mem::take(&mut self.out)
            .into_iter()
            .partition(|o| o.peer == peer);
        self.out = kept;
        if let Phase::Fetch(fill) = &mut self.phase {
            for o in gone {
                if let Ask::Piece(piece) = o.ask {
                    fill.requeue(piece);
                }
            }
        }
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

    /// Starts a long sync towards `target` (the peer's head), with `helpers` (other peers
    /// ahead of us) to fill chunks and bodies. Ignored while another runs.
    pub fn start_long(
        &mut self,
        chain: &Chain,
        peer: PeerId,
        target: (B256, u64, U256),
        helpers: Vec<PeerId>,
    ) -> Vec<Action> {
        if self.running.is_some() {
            return vec![];
        }
        let (hash, number, claimed) = target;
        self.next_id = self.next_id.wrapping_add(1);
        let run = self.running.insert(Running {
            peer,
            target: hash,
            target_number: number,
            phase: Phase::Head,
            out: Vec::new(),
            helpers: helpers.into_iter().filter(|p| *p != peer).collect(),
            next_token: 0,
            id: self.next_id,
            batches: 0,
            starting_block: chain.head().number,
            claimed,
        });
        run.probe(headers_req(hash.into(), 1, false))
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
        let run = self.running.insert(Running {
            peer,
            target: parent,
            target_number: number,
            phase: Phase::Back,
            out: Vec::new(),
            helpers: Vec::new(),
            next_token: 0,
            id: self.next_id,
            batches: 0,
            starting_block: head,
            claimed: U256::ZERO,
        });
        run.probe(headers_req(parent.into(), depth, true))
    }

    /// A peer ahead of us joined during the sync: it is asked for chunks and bodies too.
    pub fn add_helper(&mut self, chain: &Chain, peer: PeerId) -> Vec<Action> {
        let Some(run) = self.running.as_mut() else {
            return vec![];
        };
        if run.peer == peer || run.helpers.contains(&peer) {
            return vec![];
        }
        run.helpers.push(peer);
        self.pump(chain)
    }

    /// A peer left or was banned: the sync stops if it was the sync peer (true); a helper's
    /// pieces go to the others.
    pub fn drop_peer(&mut self, chain: &Chain, peer: &PeerId) -> (bool, Vec<Action>) {
        let Some(run) = self.running.as_mut() else {
            return (false, vec![]);
        };
        if run.peer == *peer {
            self.running = None;
            return (true, vec![]);
        }
        if !run.helpers.contains(peer) {
            return (false, vec![]);
        }
        run.drop_helper(*peer);
        (false, self.pump(chain))
    }

    /// Records the id the swarm gave the request named `token`.
    pub fn sent(&mut self, token: Token, id: OutboundRequestId) {
        if let Some(o) = self
            .running
            .as_mut()
            .and_then(|r| r.out.iter_mut().find(|o| o.token == token))
        {
            o.id = Some(id);
        }
    }

    /// A request of the sync failed (timeout, refusal, closed stream): `None` if it was not
    /// one of the sync's. The sync stops when it was the sync peer's; a helper's piece goes
    /// to another peer, and the helper is asked no more in this sync.
    pub fn on_failed(
        &mut self,
        chain: &Chain,
        peer: PeerId,
        id: OutboundRequestId,
        bodies: bool,
    ) -> Option<Vec<Action>> {
        let run = self.running.as_mut()?;
        let ask = run.take(peer, id, bodies)?;
        if peer == run.peer {
            self.running = None;
            return Some(vec![]);
        }
        if let (Phase::Fetch(fill), Ask::Piece(piece)) = (&mut run.phase, ask) {
            fill.requeue(piece);
        }
        run.drop_helper(peer);
        Some(self.pump(chain))
    }

    fn fail(&mut self, peer: PeerId, fault: Fault, why: String) -> Vec<Action> {
        self.running = None;
        vec![Action::Penalise(peer, fault, why)]
    }

    /// A piece refused: the sender is penalised for a lie, a helper without it is asked no
    /// more, and the sync stops when the sync peer is at fault.
    fn refused(&mut self, chain: &Chain, peer: PeerId, why: Refused) -> Vec<Action> {
        let Some(run) = self.running.as_mut() else {
            return vec![];
        };
        let sync_peer = run.peer;
        match why {
            Refused::Lie(why) if peer == sync_peer => self.fail(peer, Fault::Fatal, why),
            Refused::Lie(why) => {
                run.drop_helper(peer);
                let mut out = vec![Action::Penalise(peer, Fault::Fatal, why)];
                out.extend(self.pump(chain));
                out
            }
            Refused::Missing if peer == sync_peer => self.fail(
                peer,
                Fault::Mid,
                "does not serve the chain it claims".into(),
            ),
            Refused::Missing => {
                run.drop_helper(peer);
                self.pump(chain)
            }
            Refused::Skeleton(why) => self.fail(sync_peer, Fault::Mid, why),
        }
    }

    /// Headers answered by `peer`.
    pub fn on_headers(
        &mut self,
        chain: &Chain,
        peer: PeerId,
        id: OutboundRequestId,
        headers: Vec<Header>,
    ) -> Vec<Action> {
        let Some(run) = self.running.as_mut() else {
            return vec![];
        };
        let Some(ask) = run.take(peer, id, false) else {
            return vec![];
        };
        let store = chain.store();
        let result = match (ask, &mut run.phase) {
            (Ask::Piece(Piece::Skeleton { from, .. }), Phase::Fetch(fill)) => {
                fill.on_skeleton(from, headers, proof_ok)
            }
            (Ask::Piece(Piece::Chunk(k)), Phase::Fetch(fill)) => fill.on_chunk(k, headers),
            (Ask::Piece(_), _) => Ok(()),
            (Ask::Probe, Phase::Head) => {
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
                    run.phase =
                        Phase::Fetch(Fill::long((0, genesis), (run.target_number, run.target)));
                    return self.pump(chain);
                }
                run.phase = Phase::Ancestor {
                    good: 0,
                    bad: probe.saturating_add(1),
                    step: 1,
                };
                return run.probe(headers_req(probe.into(), 1, false));
            }
            (Ask::Probe, Phase::Back) => {
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
                        run.phase = Phase::Fetch(Fill::known(chain_back));
                        return self.pump(chain);
                    }
                }
                // Not linked within reach: fall back to a long sync towards the peer's head,
                // which the next Status will start.
                self.running = None;
                return vec![];
            }
            (Ask::Probe, Phase::Ancestor { good, bad, step }) => {
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
                    return run.probe(headers_req(probe.into(), 1, false));
                }
                let ancestor = *good;
                let Ok(Some(parent)) = store.canonical_hash(ancestor) else {
                    self.running = None;
                    return vec![];
                };
                run.phase = Phase::Fetch(Fill::long(
                    (ancestor, parent),
                    (run.target_number, run.target),
                ));
                return self.pump(chain);
            }
            (Ask::Probe, Phase::Fetch(_)) => Ok(()),
        };
        match result {
            Ok(()) => self.pump(chain),
            Err(why) => self.refused(chain, peer, why),
        }
    }

    /// Bodies answered by `peer`.
    pub fn on_bodies(
        &mut self,
        chain: &Chain,
        peer: PeerId,
        id: OutboundRequestId,
        bodies: Vec<Body>,
    ) -> Vec<Action> {
        let Some(run) = self.running.as_mut() else {
            return vec![];
        };
        let Some(ask) = run.take(peer, id, true) else {
            return vec![];
        };
        let (Ask::Piece(Piece::Bodies(asked)), Phase::Fetch(fill)) = (ask, &mut run.phase) else {
            return vec![];
        };
        match fill.on_bodies(asked, bodies) {
            Ok(()) => self.pump(chain),
            Err(why) => self.refused(chain, peer, why),
        }
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

    /// Hands on the blocks ready in order, asks every peer with room for the next pieces, and
    /// ends the sync once everything has been imported.
    fn pump(&mut self, chain: &Chain) -> Vec<Action> {
        let Some(run) = self.running.as_mut() else {
            return vec![];
        };
        let Phase::Fetch(fill) = &mut run.phase else {
            return vec![];
        };
        let mut actions = Vec::new();
        while run.batches < BATCHES_AHEAD {
            let Some(blocks) = fill.take_ready() else {
                break;
            };
            run.batches = run.batches.saturating_add(1);
            actions.push(Action::Import(run.peer, run.id, blocks));
        }
        let askers: Vec<PeerId> = std::iter::once(run.peer)
            .chain(run.helpers.iter().copied())
            .collect();
        for peer in askers {
            let sync_peer = peer == run.peer;
            while run.out.iter().filter(|o| o.peer == peer).count() < PER_PEER {
                let Some(piece) = fill.next_piece(sync_peer) else {
                    break;
                };
                let req = fill.request(&piece);
                if req.is_none() && !matches!(piece, Piece::Bodies(_)) {
                    fill.requeue(piece);
                    break;
                }
                let ask = Ask::Piece(piece);
                let Some(action) = push_ask(&mut run.out, &mut run.next_token, peer, ask, req)
                else {
                    break;
                };
                actions.push(action);
            }
        }
        let finished = fill.done() && run.out.is_empty() && run.batches == 0;
        if finished {
            actions.extend(self.finish(chain));
        }
        actions
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
