//! The Bridge's Bitcoin light client: headers from a genesis checkpoint, each checked for its
//! parent, proof of work, nBits (the network's retarget rule) and median-time-past; the best
//! chain is the one with the most work, and Bitcoin reorgs are followed.

use crate::keys;
use crate::store::Store;
use crate::{BridgeError, Config};
use alloy_primitives::U256;
use bitcoin::block::Header;
use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::Hash;
use bitcoin::{BlockHash, CompactTarget, Target};

/// Why a header was not added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reject {
    /// Already known.
    Exists,
    /// Its parent is unknown.
    NoParent,
    /// Not 80 bytes.
    BadSize,
    /// Fails its own target, or its target is above the network's limit.
    BadPow,
    /// nBits differs from the retarget rule's value.
    BadBits {
        /// What the rule requires.
        expected: u32,
        /// What the header has.
        got: u32,
    },
    /// Timestamp not above the median of the previous 11.
    TimeTooOld,
    /// The retarget needs a header from before the checkpoint.
    Unverifiable,
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exists => write!(f, "header already known"),
            Self::NoParent => write!(f, "parent header unknown"),
            Self::BadSize => write!(f, "header is not 80 bytes"),
            Self::BadPow => write!(f, "bad proof of work"),
            Self::BadBits { expected, got } => {
                write!(
                    f,
                    "bad nBits {got:#010x}, the retarget rule gives {expected:#010x}"
                )
            }
            Self::TimeTooOld => write!(f, "timestamp not above the median of the last 11"),
            Self::Unverifiable => write!(f, "difficulty needs headers from before the checkpoint"),
        }
    }
}

/// A stored header with its height and total work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The header.
    pub header: Header,
    /// Its height.
    pub height: u32,
    /// Total work up to and including it.
    pub chainwork: U256,
}

impl Stored {
    fn encode(&self) -> Vec<u8> {
        let mut v = serialize(&self.header);
        v.extend_from_slice(&self.height.to_be_bytes());
        v.extend_from_slice(&self.chainwork.to_be_bytes::<32>());
        v
    }

    fn decode(v: &[u8]) -> Result<Self, BridgeError> {
        let corrupt = || BridgeError::Database("corrupt stored Bitcoin header".into());
        // header (80) ‖ height (4) ‖ chainwork (32), 116 bytes.
        let (header, rest) = v.split_first_chunk::<80>().ok_or_else(corrupt)?;
        let (height, chainwork) = rest.split_first_chunk::<4>().ok_or_else(corrupt)?;
        let chainwork: &[u8; 32] = chainwork.try_into().map_err(|_| corrupt())?;
        Ok(Self {
            header: deserialize(header).map_err(|_| corrupt())?,
            height: u32::from_be_bytes(*height),
            chainwork: U256::from_be_bytes(*chainwork),
        })
    }

    /// The header's hash.
    pub fn hash(&self) -> BlockHash {
        self.header.block_hash()
    }
}

/// The header chain's view over Bridge storage.
pub struct Chain<'s, 'h> {
    st: &'s mut Store<'h>,
    cfg: &'s Config,
}

impl<'s, 'h> Chain<'s, 'h> {
    /// Opens the chain kept in `st`.
    pub fn new(st: &'s mut Store<'h>, cfg: &'s Config) -> Self {
        Self { st, cfg }
    }

    /// Writes the checkpoint as the only header and best tip (genesis).
    pub fn init(&mut self) -> Result<(), BridgeError> {
        let cp = Stored {
            header: self.cfg.checkpoint,
            height: self.cfg.checkpoint_height,
            chainwork: self.cfg.checkpoint_work,
        };
        let hash = cp.hash();
        self.st.put(&keys::btc_header(&hash), &cp.encode())?;
        self.st
            .put(&keys::btc_height(cp.height), hash.as_byte_array())?;
        self.st.put(keys::BTC_BEST, hash.as_byte_array())
    }

    /// A header by hash.
    pub fn get(&mut self, hash: &BlockHash) -> Result<Option<Stored>, BridgeError> {
        self.st
            .get(&keys::btc_header(hash))?
            .map(|v| Stored::decode(&v))
            .transpose()
    }

    /// The best tip.
    pub fn best(&mut self) -> Result<Stored, BridgeError> {
        let h = self
            .st
            .get(keys::BTC_BEST)?
            .ok_or_else(|| BridgeError::Database("Bridge has no Bitcoin best block".into()))?;
        let hash = BlockHash::from_slice(&h)
            .map_err(|_| BridgeError::Database("corrupt Bitcoin best hash".into()))?;
        self.get(&hash)?
            .ok_or_else(|| BridgeError::Database("Bitcoin best block missing".into()))
    }

    /// The best chain's block at `height`.
    pub fn at_height(&mut self, height: u32) -> Result<Option<Stored>, BridgeError> {
        let Some(h) = self.st.get(&keys::btc_height(height))? else {
            return Ok(None);
        };
        let hash = BlockHash::from_slice(&h)
            .map_err(|_| BridgeError::Database("corrupt Bitcoin height index".into()))?;
        self.get(&hash)
    }

    /// Whether `s` is on the best chain.
    pub fn is_main(&mut self, s: &Stored) -> Result<bool, BridgeError> {
        Ok(self.st.get(&keys::btc_height(s.height))?.as_deref() == Some(s.hash().as_byte_array()))
    }

    fn parent(&mut self, s: &Stored) -> Result<Option<Stored>, BridgeError> {
        if s.height <= self.cfg.checkpoint_height {
            return Ok(None);
        }
        self.get(&s.header.prev_blockhash)
    }

    /// The ancestor of `s` at `height` (or `s` itself), if stored.
    fn ancestor(&mut self, s: &Stored, height: u32) -> Result<Option<Stored>, BridgeError> {
        if height > s.height || height < self.cfg.checkpoint_height {
            return Ok(None);
        }
        if self.is_main(s)? {
            return self.at_height(height);
        }
        let mut cur = s.clone();
        while cur.height > height {
            match self.parent(&cur)? {
                Some(p) => cur = p,
                None => return Ok(None),
            }
            if self.is_main(&cur)? {
                return self.at_height(height);
            }
        }
        Ok(Some(cur))
    }

    /// The nBits a child of `parent` at `height` with timestamp `time` must carry (Bitcoin
    /// Core's GetNextWorkRequired).
    fn required_bits(
        &mut self,
        parent: &Stored,
        height: u32,
        time: u32,
    ) -> Result<Option<u32>, BridgeError> {
        let params = &self.cfg.bitcoin;
        let interval = u32::try_from(params.difficulty_adjustment_interval()).map_err(|_| {
            BridgeError::Config(format!(
                "difficulty adjustment interval {} does not fit a u32",
                params.difficulty_adjustment_interval()
            ))
        })?;
        let limit = params
            .max_attainable_target
            .to_compact_lossy()
            .to_consensus();
        if !height.is_multiple_of(interval) {
            if params.allow_min_difficulty_blocks {
                // Saturates: no u32 time is past a bound beyond u64::MAX.
                let bound = u64::from(parent.header.time)
                    .saturating_add(params.pow_target_spacing.saturating_mul(2));
                if u64::from(time) > bound {
                    return Ok(Some(limit));
                }
                let mut cur = parent.clone();
                while !cur.height.is_multiple_of(interval)
                    && cur.header.bits.to_consensus() == limit
                {
                    match self.parent(&cur)? {
                        Some(p) => cur = p,
                        None => break,
                    }
                }
                return Ok(Some(cur.header.bits.to_consensus()));
            }
            return Ok(Some(parent.header.bits.to_consensus()));
        }
        if params.no_pow_retargeting {
            return Ok(Some(parent.header.bits.to_consensus()));
        }
        // A retarget height is a positive multiple of the interval, so this never fails.
        let Some(first_height) = height.checked_sub(interval) else {
            return Ok(None);
        };
        let Some(first) = self.ancestor(parent, first_height)? else {
            return Ok(None);
        };
        let span = u64::from(parent.header.time.saturating_sub(first.header.time));
        Ok(Some(
            CompactTarget::from_next_work_required(parent.header.bits, span, params).to_consensus(),
        ))
    }

    /// The median of the last 11 timestamps ending at `parent`. Near a checkpoint that is not
    /// Bitcoin's genesis the earlier timestamps are unknown, and a median of fewer would be
    /// stricter than Bitcoin Core: the rule is skipped there (returns 0).
    fn median_time_past(&mut self, parent: &Stored) -> Result<u32, BridgeError> {
        let mut times = vec![parent.header.time];
        let mut cur = parent.clone();
        while times.len() < 11 {
            match self.parent(&cur)? {
                Some(p) => {
                    times.push(p.header.time);
                    cur = p;
                }
                None if cur.height > 0 => return Ok(0),
                None => break,
            }
        }
        times.sort_unstable();
        // Never empty: it starts with the parent's time.
        Ok(times.get(times.len() / 2).copied().unwrap_or_default())
    }

    /// Checks `raw` and adds it. On success returns the stored header; the best chain moves
    /// when it has more work.
    pub fn add(&mut self, raw: &[u8]) -> Result<Result<Stored, Reject>, BridgeError> {
        if raw.len() != 80 {
            return Ok(Err(Reject::BadSize));
        }
        let Ok(header) = deserialize::<Header>(raw) else {
            return Ok(Err(Reject::BadSize));
        };
        let hash = header.block_hash();
        if self.get(&hash)?.is_some() {
            return Ok(Err(Reject::Exists));
        }
        let Some(parent) = self.get(&header.prev_blockhash)? else {
            return Ok(Err(Reject::NoParent));
        };
        let height = parent.height.checked_add(1).ok_or_else(|| {
            BridgeError::Revert(format!(
                "header {hash} would be above Bitcoin height {}",
                u32::MAX
            ))
        })?;
        let target = Target::from_compact(header.bits);
        if target > self.cfg.bitcoin.max_attainable_target || header.validate_pow(target).is_err() {
            return Ok(Err(Reject::BadPow));
        }
        let Some(expected) = self.required_bits(&parent, height, header.time)? else {
            return Ok(Err(Reject::Unverifiable));
        };
        if header.bits.to_consensus() != expected {
            return Ok(Err(Reject::BadBits {
                expected,
                got: header.bits.to_consensus(),
            }));
        }
        if header.time <= self.median_time_past(&parent)? {
            return Ok(Err(Reject::TimeTooOld));
        }
        let work = U256::from_be_bytes(header.work().to_be_bytes());
        let stored = Stored {
            header,
            height,
            chainwork: parent.chainwork.saturating_add(work),
        };
        self.st.put(&keys::btc_header(&hash), &stored.encode())?;
        let best = self.best()?;
        if stored.chainwork > best.chainwork {
            self.set_best(&stored, &best)?;
        }
        Ok(Ok(stored))
    }

    /// Makes `new` the best tip: rewrites the height index from the fork point.
    fn set_best(&mut self, new: &Stored, old: &Stored) -> Result<(), BridgeError> {
        for h in new.height.saturating_add(1)..=old.height {
            self.st.delete(&keys::btc_height(h))?;
        }
        let mut cur = new.clone();
        loop {
            if self.is_main(&cur)? {
                break;
            }
            self.st
                .put(&keys::btc_height(cur.height), cur.hash().as_byte_array())?;
            match self.parent(&cur)? {
                Some(p) => cur = p,
                None => break,
            }
        }
        self.st.put(keys::BTC_BEST, new.hash().as_byte_array())
    }
}
