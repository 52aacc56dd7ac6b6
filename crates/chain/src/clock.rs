//! Block time: the wall clock, and the dev node's adjustments to it (evm_increaseTime,
//! evm_setNextBlockTimestamp) that new blocks' timestamps follow.

use std::time::{SystemTime, UNIX_EPOCH};

/// The wall clock in seconds since 1970 (0 if the system clock is before it).
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Dev clock adjustments.
#[derive(Debug, Default, Clone, Copy)]
pub struct DevTime {
    /// Seconds added to the wall clock.
    pub offset: i64,
    /// Timestamp of the next block, once.
    pub next: Option<u64>,
}

impl DevTime {
    /// The timestamp a new block gets when none is asked for: the fixed next timestamp if one
    /// is set, else the wall clock plus the offset.
    pub(crate) fn next_timestamp(&self) -> u64 {
        match self.next {
            Some(ts) => ts,
            None => now().saturating_add_signed(self.offset),
        }
    }

    /// A block at `timestamp` committed: a fixed next timestamp it reached is used up.
    pub(crate) fn committed(&mut self, timestamp: u64) {
        if self.next.is_some_and(|n| timestamp >= n) {
            self.next = None;
        }
    }
}
