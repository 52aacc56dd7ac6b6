//! Peer scores, bans and rate limits (NETWORK.md, "Peers, limits, scores"), after Lighthouse:
//! a fault the peer answers for lowers its score; a fatal one (an invalid block, an undecodable
//! or oversized message, unlinked headers, bodies that do not match their roots, a head whose
//! work does not back its claim) bans it at once, for a time that doubles with every repeat.
//! State-dependent failures and our own errors cost nothing. Scores decay back towards zero.

use libp2p::PeerId;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Below this score a peer is disconnected and banned.
pub const BAN_THRESHOLD: f64 = -50.0;
/// The first ban's length; each later ban of the same peer lasts twice the one before.
pub const BASE_BAN: Duration = Duration::from_secs(300);
/// Longest ban.
pub const MAX_BAN: Duration = Duration::from_secs(24 * 3600);
/// A score halves every this long.
const HALF_LIFE: Duration = Duration::from_secs(600);

/// How much a fault costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Banned at once.
    Fatal,
    /// About five of these ban.
    Low,
    /// About ten of these ban.
    Mid,
    /// About fifty of these ban.
    High,
}

impl Fault {
    fn cost(self) -> f64 {
        match self {
            Fault::Fatal => 100.0,
            Fault::Low => 10.0,
            Fault::Mid => 5.0,
            Fault::High => 1.0,
        }
    }
}

/// What a penalty led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Still welcome.
    Keep,
    /// Disconnect and refuse it for this long.
    Ban(Duration),
}

#[derive(Debug)]
struct Score {
    value: f64,
    updated: Instant,
}

/// Scores and bans of every peer seen.
#[derive(Debug, Default)]
pub struct PeerScores {
    scores: HashMap<PeerId, Score>,
    /// Bans in force: until when, and how many this peer has had.
    bans: HashMap<PeerId, (Instant, u32)>,
}

impl PeerScores {
    /// The peer's score now (zero for a peer never penalised).
    pub fn score(&self, peer: &PeerId, now: Instant) -> f64 {
        self.scores
            .get(peer)
            .map(|s| decayed(s.value, now.saturating_duration_since(s.updated)))
            .unwrap_or(0.0)
    }

    /// Records a fault; says whether the peer is to be banned.
    pub fn penalise(&mut self, peer: PeerId, fault: Fault, now: Instant) -> Verdict {
        let value = self.score(&peer, now) - fault.cost();
        self.scores.insert(
            peer,
            Score {
                value,
                updated: now,
            },
        );
        if value > BAN_THRESHOLD {
            return Verdict::Keep;
        }
        let repeats = self.bans.get(&peer).map(|b| b.1).unwrap_or(0);
        let length = BASE_BAN
            .checked_mul(1u32.checked_shl(repeats).unwrap_or(u32::MAX))
            .unwrap_or(MAX_BAN)
            .min(MAX_BAN);
        // At most a day past an `Instant` of this run: it cannot overflow.
        let until = now.checked_add(length).unwrap_or(now);
        self.bans.insert(peer, (until, repeats.saturating_add(1)));
        // The ban starts the peer over at the threshold, so a single later fault re-bans it.
        if let Some(s) = self.scores.get_mut(&peer) {
            s.value = BAN_THRESHOLD;
        }
        Verdict::Ban(length)
    }

    /// True while the peer is banned.
    pub fn is_banned(&self, peer: &PeerId, now: Instant) -> bool {
        self.bans.get(peer).is_some_and(|(until, _)| *until > now)
    }

    /// Peers whose ban has run out by `now` (they stay counted for the next ban's length).
    pub fn expired_bans(&self, now: Instant) -> Vec<PeerId> {
        self.bans
            .iter()
            .filter(|(_, (until, _))| *until <= now)
            .map(|(p, _)| *p)
            .collect()
    }

    /// Forgets the score of a peer that is gone and not banned.
    pub fn forget(&mut self, peer: &PeerId, now: Instant) {
        if self.score(peer, now) > -1.0 {
            self.scores.remove(peer);
        }
    }
}

fn decayed(value: f64, age: Duration) -> f64 {
    value * 0.5f64.powf(age.as_secs_f64() / HALF_LIFE.as_secs_f64())
}

/// A token bucket: `capacity` at most, refilled at `per_second`.
#[derive(Debug, Clone)]
pub struct Bucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket.
    pub fn new(capacity: u32, per_second: f64, now: Instant) -> Self {
        Self {
            capacity: f64::from(capacity),
            per_second,
            tokens: f64::from(capacity),
            last: now,
        }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Per-peer quotas, one bucket per protocol.
#[derive(Debug, Clone)]
pub struct Quotas {
    /// Status requests: 5 per 15 s.
    pub status: Bucket,
    /// Headers requests.
    pub headers: Bucket,
    /// Bodies requests.
    pub bodies: Bucket,
    /// Gossiped transactions (over it they are dropped unchecked).
    pub txs: Bucket,
    /// When we last sent this peer our Status (we keep within its quota of 5 per 15 s).
    pub status_sent: Option<Instant>,
    /// A Status held back by that limit, sent by the next maintenance round.
    pub status_due: bool,
}

impl Quotas {
    /// Fresh quotas.
    pub fn new(now: Instant) -> Self {
        Self {
            status: Bucket::new(5, 5.0 / 15.0, now),
            headers: Bucket::new(256, 64.0, now),
            bodies: Bucket::new(256, 64.0, now),
            txs: Bucket::new(10_000, 2_000.0, now),
            status_sent: None,
            status_due: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> PeerId {
        libp2p::identity::Keypair::generate_ed25519()
            .public()
            .to_peer_id()
    }

    #[test]
    fn a_fatal_fault_bans_and_bans_double() {
        let mut s = PeerScores::default();
        let p = peer();
        let t0 = Instant::now();
        assert_eq!(s.penalise(p, Fault::Fatal, t0), Verdict::Ban(BASE_BAN));
        assert!(s.is_banned(&p, t0));
        assert!(s.expired_bans(t0).is_empty());
        let later = t0 + BASE_BAN;
        assert!(!s.is_banned(&p, later));
        assert_eq!(s.expired_bans(later), vec![p]);
        assert_eq!(
            s.penalise(p, Fault::Fatal, later),
            Verdict::Ban(BASE_BAN * 2)
        );
        assert_eq!(
            s.penalise(p, Fault::Fatal, later + BASE_BAN * 2),
            Verdict::Ban(BASE_BAN * 4)
        );
    }

    #[test]
    fn small_faults_add_up_and_decay() {
        let mut s = PeerScores::default();
        let p = peer();
        let t0 = Instant::now();
        for _ in 0..4 {
            assert_eq!(s.penalise(p, Fault::Low, t0), Verdict::Keep);
        }
        assert!((s.score(&p, t0) + 40.0).abs() < 1e-9);
        // One half-life later the score is half, so one more Low fault does not ban.
        let later = t0 + HALF_LIFE;
        assert!((s.score(&p, later) + 20.0).abs() < 1e-6);
        assert_eq!(s.penalise(p, Fault::Low, later), Verdict::Keep);
        assert!(matches!(s.penalise(p, Fault::Low, later), Verdict::Keep));
        assert!(matches!(s.penalise(p, Fault::Low, later), Verdict::Ban(_)));
        assert_eq!(s.score(&peer(), t0), 0.0);
    }

    #[test]
    fn a_bucket_refuses_past_its_capacity_and_refills() {
        let t0 = Instant::now();
        let mut b = Bucket::new(5, 5.0 / 15.0, t0);
        assert!((0..5).all(|_| b.take(t0)));
        assert!(!b.take(t0));
        assert!(!b.take(t0 + Duration::from_secs(2)));
        assert!(b.take(t0 + Duration::from_secs(4)));
    }
}
