//! The fetch phase of a sync (NETWORK.md, "Sync", steps 3–5): a skeleton of every 192nd header
//! from the sync peer, the 192-header chunks between its anchors filled by any peer, bodies in
//! batches of up to 128 from any peer, and blocks handed on strictly in order.
//!
//! Every piece is checked against hashes already fixed: a chunk must run from its upper anchor
//! back to its lower one by parent hash, a body must match its header's roots. So a piece from
//! any peer is as good as one from the sync peer, and a piece refused is asked of another.

use crate::wire::{Body, HeadersRequest, MAX_BODIES, MAX_HEADERS};
use alloy_consensus::proofs;
use alloy_eips::HashOrNumber;
use alloy_primitives::B256;
use scion_types::{Block, Header};
use std::collections::{BTreeMap, VecDeque};

/// Headers from one skeleton anchor to the next.
pub const CHUNK: u64 = 192;
/// Blocks fetched ahead of the import, at most (NETWORK.md: 2,048).
const BLOCKS_AHEAD: u64 = 2_048;
/// Headers fetched ahead of the import, at most (a few MiB).
const HEADERS_AHEAD: u64 = 8_192;

/// One piece of work asked of a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Skeleton headers from number `from` on, every [`CHUNK`]th, at most `max`.
    Skeleton {
        /// The first number asked for.
        from: u64,
        /// How many at most.
        max: u64,
    },
    /// Chunk `k`: the headers after anchor `k` up to anchor `k + 1`.
    Chunk(usize),
    /// Bodies for these consecutive headers.
    Bodies(Vec<Header>),
}

/// Why an answer was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The answer contradicts what it answers: fatal for the sender.
    Lie(String),
    /// The peer does not have it (an empty answer).
    Missing,
    /// A chunk that links within itself but not to its lower anchor: the skeleton (the sync
    /// peer's) is wrong, or its chain moved.
    Skeleton(String),
}

/// The fetch state: what is known, asked, received and handed on.
#[derive(Debug)]
pub struct Fill {
    /// Block numbers and hashes fixed so far: the common ancestor, every [`CHUNK`]th header
    /// after it, and the target once the skeleton reaches it.
    anchors: Vec<(u64, B256)>,
    target: (u64, B256),
    /// The skeleton still has headers to fetch.
    skeleton_open: bool,
    /// A skeleton request is out.
    skeleton_out: bool,
    /// Chunks received and not yet moved to `waiting`, by index.
    filled: BTreeMap<usize, Vec<Header>>,
    /// The next chunk to move to `waiting` (all before it are moved).
    next_chunk: usize,
    /// The first chunk never asked for.
    unasked: usize,
    /// Chunks to ask for again.
    retry_chunks: Vec<usize>,
    /// Headers in order whose bodies are not asked for yet.
    waiting: VecDeque<Header>,
    /// Runs of headers whose bodies are to be asked for again, by first number.
    retry_bodies: BTreeMap<u64, Vec<Header>>,
    /// Blocks received and not yet handed on, by first number.
    ready: BTreeMap<u64, Vec<Block>>,
    /// The number of the next block to hand on.
    next_import: u64,
}

/// True when the body matches the header's transactions root and ommers hash.
pub fn body_matches(h: &Header, body: &Body) -> bool {
    proofs::calculate_transaction_root(&body.transactions) == h.transactions_root
        && proofs::calculate_ommers_root(&body.uncles) == h.ommers_hash
}

impl Fill {
    /// Fetches from the common ancestor (a block we hold) to the target.
    pub fn long(ancestor: (u64, B256), target: (u64, B256)) -> Self {
        let mut fill = Self {
            anchors: vec![ancestor],
            target,
            skeleton_open: true,
            skeleton_out: false,
            filled: BTreeMap::new(),
            next_chunk: 0,
            unasked: 0,
            retry_chunks: Vec::new(),
            waiting: VecDeque::new(),
            retry_bodies: BTreeMap::new(),
            ready: BTreeMap::new(),
            next_import: ancestor.0.saturating_add(1),
        };
        fill.close_skeleton_if_reached();
        fill
    }

    /// Fetches the bodies of headers already linked (a short sync), oldest first.
    pub fn known(headers: Vec<Header>) -> Self {
        let first = headers.first().map_or(0, |h| h.number);
        let target = headers
            .last()
            .map_or((0, B256::ZERO), |h| (h.number, h.hash()));
        Self {
            anchors: Vec::new(),
            target,
            skeleton_open: false,
            skeleton_out: false,
            filled: BTreeMap::new(),
            next_chunk: 0,
            unasked: 0,
            retry_chunks: Vec::new(),
            waiting: headers.into(),
            retry_bodies: BTreeMap::new(),
            ready: BTreeMap::new(),
            next_import: first,
        }
    }

    fn skeleton_from(&self) -> u64 {
        self.anchors.last().map_or(0, |a| a.0).saturating_add(CHUNK)
    }

    /// Once the next skeleton number would reach the target, the target is the last anchor.
    fn close_skeleton_if_reached(&mut self) {
        if self.skeleton_open && self.skeleton_from() >= self.target.0 {
            self.skeleton_open = false;
            self.anchors.push(self.target);
        }
    }

    /// Chunks whose two anchors are known.
    fn chunks(&self) -> usize {
        self.anchors.len().saturating_sub(1)
    }

    /// The next piece to ask of a peer; only the sync peer (`sync_peer`) is asked for the
    /// skeleton, which fixes what every other answer is checked against.
    pub fn next_piece(&mut self, sync_peer: bool) -> Option<Piece> {
        if sync_peer && self.skeleton_open && !self.skeleton_out {
            let from = self.skeleton_from();
            let left = self
                .target
                .0
                .saturating_sub(1)
                .saturating_sub(from)
                .checked_div(CHUNK)
                .unwrap_or(0)
                .saturating_add(1);
            self.skeleton_out = true;
            return Some(Piece::Skeleton {
                from,
                max: left.min(MAX_HEADERS),
            });
        }
        if let Some(headers) = self.take_bodies() {
            return Some(Piece::Bodies(headers));
        }
        self.take_chunk().map(Piece::Chunk)
    }

    fn take_bodies(&mut self) -> Option<Vec<Header>> {
        if let Some((_, run)) = self.retry_bodies.pop_first() {
            return Some(run);
        }
        let first = self.waiting.front()?.number;
        if first >= self.next_import.saturating_add(BLOCKS_AHEAD) {
            return None;
        }
        let n = self.waiting.len().min(MAX_BODIES);
        Some(self.waiting.drain(..n).collect())
    }

    fn take_chunk(&mut self) -> Option<usize> {
        let k = match self.retry_chunks.pop() {
            Some(k) => k,
            None if self.unasked < self.chunks() => {
                let start = self.anchors.get(self.unasked)?.0;
                if start >= self.next_import.saturating_add(HEADERS_AHEAD) {
                    return None;
                }
                self.unasked = self.unasked.saturating_add(1);
                self.unasked.saturating_sub(1)
            }
            None => return None,
        };
        Some(k)
    }

    /// The request for a piece.
    pub fn request(&self, piece: &Piece) -> Option<HeadersRequest> {
        match piece {
            Piece::Skeleton { from, max } => Some(HeadersRequest {
                start: HashOrNumber::Number(*from),
                max: *max,
                skip: CHUNK.saturating_sub(1),
                reverse: false,
            }),
            Piece::Chunk(k) => {
                let low = self.anchors.get(*k)?;
                let high = self.anchors.get(k.saturating_add(1))?;
                Some(HeadersRequest {
                    start: HashOrNumber::Hash(high.1),
                    max: high.0.saturating_sub(low.0),
                    skip: 0,
                    reverse: true,
                })
            }
            Piece::Bodies(_) => None,
        }
    }

    /// Puts a piece back to be asked of another peer (its peer failed or left).
    pub fn requeue(&mut self, piece: Piece) {
        match piece {
            Piece::Skeleton { .. } => self.skeleton_out = false,
            Piece::Chunk(k) => self.retry_chunks.push(k),
            Piece::Bodies(run) => {
                if let Some(first) = run.first().map(|h| h.number) {
                    self.retry_bodies.insert(first, run);
                }
            }
        }
    }

    /// Skeleton headers for the request from `from`: each at its number, each backed by its
    /// proof of work (`proof_ok`).
    pub fn on_skeleton(
        &mut self,
        from: u64,
        headers: Vec<Header>,
        proof_ok: impl Fn(&Header) -> bool,
    ) -> Result<(), Refused> {
        self.skeleton_out = false;
        if headers.is_empty() {
            return Err(Refused::Missing);
        }
        let mut want = from;
        for h in headers {
            if h.number != want || h.number >= self.target.0 {
                return Err(Refused::Lie(format!(
                    "skeleton header {} where {want} was asked",
                    h.number
                )));
            }
            if !proof_ok(&h) {
                return Err(Refused::Lie(format!(
                    "skeleton header {}'s merged-mining proof is invalid",
                    h.number
                )));
            }
            self.anchors.push((h.number, h.hash()));
            want = want.saturating_add(CHUNK);
        }
        self.close_skeleton_if_reached();
        Ok(())
    }

    /// Chunk `k`'s headers, newest first as asked.
    pub fn on_chunk(&mut self, k: usize, headers: Vec<Header>) -> Result<(), Refused> {
        let (Some(low), Some(high)) = (
            self.anchors.get(k).copied(),
            self.anchors.get(k.saturating_add(1)).copied(),
        ) else {
            return Ok(());
        };
        if headers.is_empty() {
            self.retry_chunks.push(k);
            return Err(Refused::Missing);
        }
        let want = high.0.saturating_sub(low.0);
        let linked = check_back(&headers, high);
        let result = match linked {
            Err(why) => Err(Refused::Lie(why)),
            Ok(()) if u64::try_from(headers.len()).ok() != Some(want) => Err(Refused::Lie(
                format!("{} headers for a chunk of {want}", headers.len()),
            )),
            Ok(()) => match headers.last() {
                Some(h) if h.parent_hash == low.1 => Ok(()),
                _ => Err(Refused::Skeleton(format!(
                    "the chunk below block {} does not reach block {}",
                    high.0, low.0
                ))),
            },
        };
        if result.is_err() {
            self.retry_chunks.push(k);
            return result;
        }
        let mut headers = headers;
        headers.reverse();
        self.filled.insert(k, headers);
        while let Some(chunk) = self.filled.remove(&self.next_chunk) {
            self.waiting.extend(chunk);
            self.next_chunk = self.next_chunk.saturating_add(1);
        }
        Ok(())
    }

    /// Bodies for the run `asked`, in order; a short answer leaves the rest to ask again.
    pub fn on_bodies(&mut self, asked: Vec<Header>, bodies: Vec<Body>) -> Result<(), Refused> {
        if bodies.is_empty() {
            self.requeue(Piece::Bodies(asked));
            return Err(Refused::Missing);
        }
        if bodies.len() > asked.len() {
            self.requeue(Piece::Bodies(asked));
            return Err(Refused::Lie("more bodies than asked".into()));
        }
        let mut asked = asked.into_iter();
        let mut blocks = Vec::with_capacity(bodies.len());
        for body in bodies {
            let Some(header) = asked.next() else {
                break;
            };
            if !body_matches(&header, &body) {
                let number = header.number;
                let mut run = vec![header];
                run.extend(asked);
                self.requeue(Piece::Bodies(run));
                return Err(Refused::Lie(format!(
                    "body of block {number} does not match its roots"
                )));
            }
            blocks.push(Block {
                header,
                transactions: body.transactions,
                uncles: body.uncles,
            });
        }
        let rest: Vec<Header> = asked.collect();
        if !rest.is_empty() {
            self.requeue(Piece::Bodies(rest));
        }
        if let Some(first) = blocks.first().map(|b| b.header.number) {
            self.ready.insert(first, blocks);
        }
        Ok(())
    }

    /// The next blocks in order, when they have all arrived.
    pub fn take_ready(&mut self) -> Option<Vec<Block>> {
        let entry = self.ready.first_entry()?;
        if *entry.key() != self.next_import {
            return None;
        }
        let blocks = entry.remove();
        let n = u64::try_from(blocks.len()).unwrap_or(u64::MAX);
        self.next_import = self.next_import.saturating_add(n);
        Some(blocks)
    }

    /// True once everything up to the target has been handed on (requests out aside).
    pub fn done(&self) -> bool {
        !self.skeleton_open
            && self.next_chunk >= self.chunks()
            && self.waiting.is_empty()
            && self.retry_bodies.is_empty()
            && self.ready.is_empty()
    }
}

/// Headers walking back from `top` by parent hash: the first is `top`, each the parent of the
/// one before.
fn check_back(headers: &[Header], top: (u64, B256)) -> Result<(), String> {
    let mut want = (top.0, top.1);
    for h in headers {
        if h.number != want.0 || h.hash() != want.1 {
            return Err(format!(
                "headers walking back from block {} do not link",
                top.0
            ));
        }
        want = (h.number.saturating_sub(1), h.parent_hash);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Headers of empty blocks, genesis first.
    fn chain(n: u64) -> Vec<Header> {
        let empty = Header {
            transactions_root: proofs::calculate_transaction_root::<alloy_consensus::TxEnvelope>(
                &[],
            ),
            ommers_hash: proofs::calculate_ommers_root::<Header>(&[]),
            ..Default::default()
        };
        let mut out = vec![empty.clone()];
        for i in 1..=n {
            let parent = out[i as usize - 1].hash();
            out.push(Header {
                number: i,
                parent_hash: parent,
                ..empty.clone()
            });
        }
        out
    }

    fn ends(h: &Header) -> (u64, B256) {
        (h.number, h.hash())
    }

    fn answer(chain: &[Header], req: &HeadersRequest) -> Vec<Header> {
        let start = match req.start {
            HashOrNumber::Number(n) => n,
            HashOrNumber::Hash(h) => chain.iter().find(|x| x.hash() == h).unwrap().number,
        };
        let step = req.skip + 1;
        (0..req.max)
            .map(|i| {
                if req.reverse {
                    start - i * step
                } else {
                    start + i * step
                }
            })
            .filter_map(|n| chain.get(n as usize).cloned())
            .collect()
    }

    #[test]
    fn a_skeleton_and_chunks_from_many_peers_fill_every_header_in_order() {
        let c = chain(1_000);
        let mut fill = Fill::long(ends(&c[0]), ends(&c[1_000]));
        let Some(Piece::Skeleton { from, max }) = fill.next_piece(true) else {
            panic!("the sync peer is asked for the skeleton first");
        };
        assert_eq!((from, max), (192, 5));
        let req = fill.request(&Piece::Skeleton { from, max }).unwrap();
        fill.on_skeleton(from, answer(&c, &req), |_| true).unwrap();
        // Six chunks: 5 of 192 and the last up to the target (40).
        let mut chunks = Vec::new();
        while let Some(p) = fill.next_piece(false) {
            chunks.push(p);
        }
        assert_eq!(chunks.len(), 6);
        // Answered out of order, as several peers would.
        for p in chunks.iter().rev() {
            let Piece::Chunk(k) = p else { panic!("{p:?}") };
            fill.on_chunk(*k, answer(&c, &fill.request(p).unwrap()))
                .unwrap();
        }
        let mut got = Vec::new();
        while let Some(Piece::Bodies(run)) = fill.next_piece(false) {
            assert!(run.len() <= MAX_BODIES);
            let bodies = run.iter().map(|_| Body::default()).collect();
            got.extend(run.iter().map(|h| h.number));
            fill.on_bodies(run, bodies).unwrap();
        }
        assert_eq!(got, (1..=1_000).collect::<Vec<_>>());
        let mut imported = Vec::new();
        while let Some(blocks) = fill.take_ready() {
            imported.extend(blocks.into_iter().map(|b| b.header.number));
        }
        assert_eq!(imported, (1..=1_000).collect::<Vec<_>>());
        assert!(fill.done());
    }

    #[test]
    fn a_chunk_that_does_not_link_is_a_lie_and_is_asked_again() {
        let c = chain(400);
        let mut fill = Fill::long(ends(&c[0]), ends(&c[400]));
        let p = fill.next_piece(true).unwrap();
        let Piece::Skeleton { from, .. } = p else {
            panic!()
        };
        let req = fill.request(&p).unwrap();
        fill.on_skeleton(from, answer(&c, &req), |_| true).unwrap();
        let p = fill.next_piece(false).unwrap();
        let Piece::Chunk(k) = p else { panic!("{p:?}") };
        let mut headers = answer(&c, &fill.request(&p).unwrap());
        headers.swap(3, 4);
        assert!(matches!(fill.on_chunk(k, headers), Err(Refused::Lie(_))));
        let short = answer(&c, &fill.request(&p).unwrap())[..10].to_vec();
        assert!(matches!(fill.on_chunk(k, short), Err(Refused::Lie(_))));
        assert!(matches!(fill.on_chunk(k, vec![]), Err(Refused::Missing)));
        // Asked again, and then accepted.
        let again: Vec<Piece> = std::iter::from_fn(|| fill.next_piece(false)).collect();
        assert!(again.contains(&Piece::Chunk(k)));
        fill.on_chunk(k, answer(&c, &fill.request(&p).unwrap()))
            .unwrap();
    }

    #[test]
    fn a_skeleton_header_at_the_wrong_number_or_without_proof_is_a_lie() {
        let c = chain(1_000);
        let mut fill = Fill::long(ends(&c[0]), ends(&c[1_000]));
        let p = fill.next_piece(true).unwrap();
        let Piece::Skeleton { from, .. } = p else {
            panic!()
        };
        let mut wrong = answer(&c, &fill.request(&p).unwrap());
        wrong[1] = c[300].clone();
        assert!(matches!(
            fill.on_skeleton(from, wrong, |_| true),
            Err(Refused::Lie(_))
        ));
        let good = answer(&c, &fill.request(&p).unwrap());
        assert!(matches!(
            fill.on_skeleton(from, good, |h| h.number != 576),
            Err(Refused::Lie(_))
        ));
    }

    #[test]
    fn bodies_that_do_not_match_are_refused_and_a_short_answer_leaves_the_rest() {
        let c = chain(10);
        let mut fill = Fill::known(c[1..].to_vec());
        let Some(Piece::Bodies(run)) = fill.next_piece(false) else {
            panic!()
        };
        assert_eq!(run.len(), 10);
        // A body with an uncle does not match a header that has none.
        let bad = vec![Body {
            transactions: vec![],
            uncles: vec![Header::default()],
        }];
        assert!(matches!(
            fill.on_bodies(run.clone(), bad),
            Err(Refused::Lie(_))
        ));
        let Some(Piece::Bodies(run)) = fill.next_piece(false) else {
            panic!()
        };
        fill.on_bodies(run, vec![Body::default(); 4]).unwrap();
        let Some(Piece::Bodies(rest)) = fill.next_piece(false) else {
            panic!()
        };
        assert_eq!(rest.first().map(|h| h.number), Some(5));
        fill.on_bodies(rest, vec![Body::default(); 6]).unwrap();
        assert_eq!(fill.take_ready().map(|b| b.len()), Some(4));
        assert_eq!(fill.take_ready().map(|b| b.len()), Some(6));
        assert!(fill.done());
    }
}
