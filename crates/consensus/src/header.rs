//! Header rules against the parent (PROTOCOL.md §1.5–1.6): number, timestamp, gas limit and
//! gas used, extra data, the EIP-1559 base fee and the merged-mining proof; and the limits on
//! uncles. Pure functions: the caller passes whether the chain is a dev chain and the time.

use crate::{check_btc_time, verify, Commitment, ConsensusError, MergeMiningProof};
use scion_types::Header;
use std::cmp::Ordering;
use std::fmt;

/// Most uncles a block references.
pub const MAX_UNCLES: usize = 10;
/// How many generations back an uncle may be.
pub const UNCLE_GENERATIONS: u64 = 6;
/// The lowest base fee: low enough to be negligible, high enough that a +12.5% step moves it.
pub const MIN_BASE_FEE: u64 = 7;
/// Longest extra data a header may carry, in bytes.
pub const MAX_EXTRA_DATA: usize = 32;
/// Lowest gas limit a block may have.
pub const MIN_GAS_LIMIT: u64 = 5_000;
/// The gas limit moves at most 1/1024 of the parent's per block.
pub const GAS_LIMIT_BOUND_DIVISOR: u64 = 1_024;
/// How far ahead of the wall clock a timestamp may be (outside dev), in seconds.
pub const MAX_FUTURE_SECONDS: u64 = 60;
/// EIP-1559 elasticity: the gas target is half the gas limit.
const ELASTICITY_MULTIPLIER: u64 = 2;
/// EIP-1559 change denominator: at most 1/8 of the base fee per block.
const BASE_FEE_MAX_CHANGE_DENOMINATOR: u128 = 8;

/// A value a block carries (`got`) and the value the rules expected, as reth reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GotExpected<T> {
    /// The value found.
    pub got: T,
    /// The value the rules expected.
    pub expected: T,
}

impl<T: fmt::Display> fmt::Display for GotExpected<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "got {}, expected {}", self.got, self.expected)
    }
}

impl<T> GotExpected<T> {
    /// `got` and `expected` as one value.
    pub fn new(got: T, expected: T) -> Self {
        Self { got, expected }
    }
}

/// EIP-1559 base fee of the block after `parent` (elasticity 2, change denominator 8), never
/// below [`MIN_BASE_FEE`]; a parent whose gas target is zero passes its base fee on unchanged.
/// Equal to alloy's `calc_next_block_base_fee` with `BaseFeeParams::ethereum()` (then at least
/// [`MIN_BASE_FEE`]) wherever alloy's sum cannot overflow; above that this one saturates at
/// `u64::MAX` where alloy's would wrap.
pub fn next_base_fee(parent_gas_used: u64, parent_gas_limit: u64, parent_base_fee: u64) -> u64 {
    let target = parent_gas_limit / ELASTICITY_MULTIPLIER;
    if target == 0 {
        return parent_base_fee;
    }
    let base = u128::from(parent_base_fee);
    // base × distance / target / 8; both factors are below 2^64, so the product fits in u128.
    let change = |distance: u64| {
        base.saturating_mul(u128::from(distance))
            .checked_div(u128::from(target))
            .unwrap_or(0)
            / BASE_FEE_MAX_CHANGE_DENOMINATOR
    };
    let next = match parent_gas_used.cmp(&target) {
        Ordering::Equal => base,
        Ordering::Greater => {
            base.saturating_add(change(parent_gas_used.saturating_sub(target)).max(1))
        }
        Ordering::Less => base.saturating_sub(change(target.saturating_sub(parent_gas_used))),
    };
    u64::try_from(next).unwrap_or(u64::MAX).max(MIN_BASE_FEE)
}

/// The gas limits a child of a block with `parent_gas_limit` may have, inclusive.
pub fn gas_limit_bounds(parent_gas_limit: u64) -> (u64, u64) {
    let step = parent_gas_limit / GAS_LIMIT_BOUND_DIVISOR;
    let low = parent_gas_limit.saturating_sub(step).max(MIN_GAS_LIMIT);
    (low, parent_gas_limit.saturating_add(step))
}

/// Checks `header` against its `parent`: the number follows, the timestamp is after the
/// parent's (and, outside `dev`, at most a minute past `now`), the gas limit moves at most
/// 1/1024, gas used fits it, extra data is at most 32 bytes, the base fee follows EIP-1559, the
/// merged-mining proof meets the header's difficulty, and (outside `dev`) the Bitcoin header's
/// time is near the timestamp. The difficulty itself and the body are checked by the caller.
pub fn check_header(
    header: &Header,
    parent: &Header,
    dev: bool,
    now: u64,
) -> Result<(), ConsensusError> {
    if parent.number.checked_add(1) != Some(header.number) {
        return Err(ConsensusError::Number {
            number: header.number,
            parent: parent.number,
        });
    }
    if header.timestamp <= parent.timestamp {
        return Err(ConsensusError::TimestampNotAfterParent {
            timestamp: header.timestamp,
            parent: parent.timestamp,
        });
    }
    if !dev && header.timestamp > now.saturating_add(MAX_FUTURE_SECONDS) {
        return Err(ConsensusError::TimestampInFuture {
            timestamp: header.timestamp,
            now,
        });
    }
    let (min, max) = gas_limit_bounds(parent.gas_limit);
    if header.gas_limit < min || header.gas_limit > max {
        return Err(ConsensusError::GasLimit {
            gas_limit: header.gas_limit,
            parent: parent.gas_limit,
            min,
            max,
        });
    }
    if header.gas_used > header.gas_limit {
        return Err(ConsensusError::GasUsedAboveLimit {
            gas_used: header.gas_used,
            gas_limit: header.gas_limit,
        });
    }
    if header.extra_data.len() > MAX_EXTRA_DATA {
        return Err(ConsensusError::ExtraDataTooLong {
            len: header.extra_data.len(),
        });
    }
    let base_fee = next_base_fee(parent.gas_used, parent.gas_limit, parent.base_fee_per_gas);
    if header.base_fee_per_gas != base_fee {
        return Err(ConsensusError::BaseFee(GotExpected::new(
            header.base_fee_per_gas,
            base_fee,
        )));
    }
    let proof = MergeMiningProof {
        btc_header: &header.btc_header,
        merkle_proof: &header.merkle_proof,
        compressed_coinbase: &header.compressed_coinbase,
    };
    verify(
        &proof,
        Commitment::Full(header.hash_for_merged_mining()),
        header.difficulty,
    )?;
    if !dev {
        check_btc_time(&header.btc_header, header.timestamp)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_eips::eip1559::{calc_next_block_base_fee, BaseFeeParams};
    use alloy_primitives::{Bytes, U256};

    #[test]
    fn base_fee_follows_eip1559() {
        // Full block: +12.5%. Empty block: −12.5%. At target: unchanged.
        assert_eq!(
            next_base_fee(30_000_000, 30_000_000, 1_000_000_000),
            1_125_000_000
        );
        assert_eq!(next_base_fee(0, 30_000_000, 1_000_000_000), 875_000_000);
        assert_eq!(
            next_base_fee(15_000_000, 30_000_000, 1_000_000_000),
            1_000_000_000
        );
        assert_eq!(next_base_fee(0, 30_000_000, 7), MIN_BASE_FEE);
        assert!(next_base_fee(30_000_000, 30_000_000, 7) > 7);
        // No target: unchanged, even below the minimum.
        assert_eq!(next_base_fee(0, 1, 3), 3);
        // Saturates instead of wrapping.
        assert_eq!(
            next_base_fee(30_000_000, 30_000_000, u64::MAX - 1),
            u64::MAX
        );
        assert_eq!(next_base_fee(u64::MAX, 10_000, u64::MAX / 2), u64::MAX);
    }

    /// The formula as it stood in scion-executor before it moved here.
    fn previous(parent_gas_used: u64, parent_gas_limit: u64, parent_base_fee: u64) -> u64 {
        let target = parent_gas_limit / 2;
        if target == 0 {
            return parent_base_fee;
        }
        let base = u128::from(parent_base_fee);
        let next = match parent_gas_used.cmp(&target) {
            Ordering::Equal => base,
            Ordering::Greater => {
                let delta = base * u128::from(parent_gas_used - target) / u128::from(target) / 8;
                base + delta.max(1)
            }
            Ordering::Less => {
                let delta = base * u128::from(target - parent_gas_used) / u128::from(target) / 8;
                base.saturating_sub(delta)
            }
        };
        u64::try_from(next).unwrap_or(u64::MAX).max(MIN_BASE_FEE)
    }

    /// Where alloy's unchecked `base_fee + increase` cannot overflow: gas used within the
    /// limit (so the increase is at most a quarter of the base fee) and the base fee at most
    /// half of `u64::MAX`.
    fn alloy_is_exact(used: u64, limit: u64, base: u64) -> bool {
        used <= limit && base <= u64::MAX / 2
    }

    #[test]
    fn base_fee_matches_the_previous_formula_and_alloys_eip1559() {
        let limits = [
            0,
            1,
            2,
            3,
            5_000,
            5_001,
            30_000_000,
            30_000_001,
            1 << 40,
            u64::MAX / 2,
            u64::MAX,
        ];
        let bases = [
            0,
            1,
            6,
            7,
            8,
            9,
            100,
            1_000_000_000,
            1 << 40,
            u64::MAX / 4,
            u64::MAX / 2,
            u64::MAX - 1,
            u64::MAX,
        ];
        let mut cases = Vec::new();
        for &limit in &limits {
            let t = limit / 2;
            let uses = [
                0,
                1,
                t.saturating_sub(1),
                t,
                t.saturating_add(1),
                limit.saturating_sub(1),
                limit,
                limit.saturating_add(1),
                u64::MAX,
            ];
            for &used in &uses {
                for &base in &bases {
                    cases.push((used, limit, base));
                }
            }
        }
        // And pseudo-random ones (xorshift), limits and uses in realistic ranges.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let limit = next() % 100_000_000;
            let used = next() % (limit + 1);
            let base = next() % (1 << 50);
            cases.push((used, limit, base));
        }
        let params = BaseFeeParams::ethereum();
        let mut compared = 0;
        for (used, limit, base) in cases {
            let ours = next_base_fee(used, limit, base);
            assert_eq!(ours, previous(used, limit, base), "{used} {limit} {base}");
            if alloy_is_exact(used, limit, base) {
                let alloy = calc_next_block_base_fee(used, limit, base, params);
                let alloy = if limit / 2 == 0 {
                    alloy
                } else {
                    alloy.max(MIN_BASE_FEE)
                };
                assert_eq!(ours, alloy, "{used} {limit} {base}");
                compared += 1;
            }
        }
        assert!(compared > 20_000);
    }

    #[test]
    fn gas_limit_moves_at_most_one_1024th_and_stays_above_the_floor() {
        assert_eq!(gas_limit_bounds(30_000_000), (29_970_704, 30_029_296));
        assert_eq!(gas_limit_bounds(5_000), (5_000, 5_004));
        assert_eq!(gas_limit_bounds(u64::MAX).1, u64::MAX);
    }

    fn parent() -> Header {
        Header {
            number: 4,
            timestamp: 1_000,
            gas_limit: 30_000_000,
            base_fee_per_gas: 1_000_000_000,
            difficulty: U256::from(1),
            ..Default::default()
        }
    }

    fn child(p: &Header) -> Header {
        Header {
            number: p.number + 1,
            timestamp: p.timestamp + 5,
            gas_limit: p.gas_limit,
            base_fee_per_gas: next_base_fee(p.gas_used, p.gas_limit, p.base_fee_per_gas),
            difficulty: U256::from(1),
            ..Default::default()
        }
    }

    #[test]
    fn each_header_rule_reports_what_it_found_and_expected() {
        let p = parent();
        let check = |f: &dyn Fn(&mut Header)| {
            let mut h = child(&p);
            f(&mut h);
            check_header(&h, &p, false, 2_000).unwrap_err()
        };
        assert_eq!(
            check(&|h| h.number = 7),
            ConsensusError::Number {
                number: 7,
                parent: 4
            }
        );
        assert_eq!(
            check(&|h| h.timestamp = 1_000),
            ConsensusError::TimestampNotAfterParent {
                timestamp: 1_000,
                parent: 1_000
            }
        );
        assert_eq!(
            check(&|h| h.timestamp = 2_061),
            ConsensusError::TimestampInFuture {
                timestamp: 2_061,
                now: 2_000
            }
        );
        let e = check(&|h| h.gas_limit = 60_000_000);
        assert_eq!(
            e,
            ConsensusError::GasLimit {
                gas_limit: 60_000_000,
                parent: 30_000_000,
                min: 29_970_704,
                max: 30_029_296
            }
        );
        assert!(e.to_string().starts_with("gas limit 60000000"), "{e}");
        assert_eq!(
            check(&|h| h.gas_used = h.gas_limit + 1),
            ConsensusError::GasUsedAboveLimit {
                gas_used: 30_000_001,
                gas_limit: 30_000_000
            }
        );
        assert_eq!(
            check(&|h| h.extra_data = Bytes::from(vec![0; 33])),
            ConsensusError::ExtraDataTooLong { len: 33 }
        );
        let e = check(&|h| h.base_fee_per_gas += 1);
        assert_eq!(
            e,
            ConsensusError::BaseFee(GotExpected::new(875_000_001, 875_000_000))
        );
        assert_eq!(e.to_string(), "base fee: got 875000001, expected 875000000");
        // Every field rule holds: the (empty) merged-mining proof is what fails.
        assert!(matches!(
            check(&|_| {}),
            ConsensusError::BtcHeaderSize { len: 0 }
        ));
        // A parent at the last number has no child.
        let mut last = p.clone();
        last.number = u64::MAX;
        let mut h = child(&p);
        h.number = 0;
        assert!(matches!(
            check_header(&h, &last, true, 0),
            Err(ConsensusError::Number { .. })
        ));
    }

    #[test]
    fn dev_skips_the_clock() {
        let p = parent();
        let mut h = child(&p);
        h.timestamp = u64::MAX;
        // Far in the future is fine in dev: the proof is the first thing that fails.
        assert!(matches!(
            check_header(&h, &p, true, 0),
            Err(ConsensusError::BtcHeaderSize { .. })
        ));
        assert!(matches!(
            check_header(&h, &p, false, 0),
            Err(ConsensusError::TimestampInFuture { .. })
        ));
    }
}
