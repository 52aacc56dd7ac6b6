//! Rootstock's difficulty adjustment and fork choice (PROTOCOL.md §1.6).

use alloy_primitives::{B256, U256};

/// Difficulty parameters from the genesis file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DifficultyParams {
    /// Target seconds between blocks.
    pub spacing: u64,
    /// Adjustment divisor (Rootstock mainnet 400, regtest 2048).
    pub divisor: u64,
    /// Floor.
    pub minimum: U256,
}

/// Difficulty of a block given its parent's difficulty and both timestamps.
pub fn next_difficulty(
    parent_difficulty: U256,
    parent_timestamp: u64,
    timestamp: u64,
    uncle_count: u64,
    p: &DifficultyParams,
) -> U256 {
    let delta = timestamp.saturating_sub(parent_timestamp);
    let target = uncle_count.saturating_add(1).saturating_mul(p.spacing);
    // A divisor of 0 counts as 1: the step is then the whole difficulty.
    let step = parent_difficulty
        .checked_div(U256::from(p.divisor))
        .unwrap_or(parent_difficulty);
    let d = match target.cmp(&delta) {
        std::cmp::Ordering::Greater => parent_difficulty.saturating_add(step),
        std::cmp::Ordering::Less => parent_difficulty.saturating_sub(step),
        std::cmp::Ordering::Equal => parent_difficulty,
    };
    d.max(p.minimum)
}

/// A chain tip as fork choice sees it.
#[derive(Debug, Clone, Copy)]
pub struct Tip {
    /// Cumulative difficulty (block and uncles).
    pub total_difficulty: U256,
    /// Fees paid to the miner by the tip block.
    pub fees: U256,
    /// The tip's hash.
    pub hash: B256,
}

/// Whether `new` should replace `head`: more cumulative work, or on a tie the fee and hash
/// tie-breaks.
pub fn is_better_head(new: &Tip, head: &Tip) -> bool {
    match new.total_difficulty.cmp(&head.total_difficulty) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => {
            let two = U256::from(2);
            if new.fees > head.fees.saturating_mul(two) {
                return true;
            }
            head.fees < new.fees.saturating_mul(two) && new.hash < head.hash
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difficulty_moves_by_one_divisor_step_and_keeps_its_floor() {
        let p = DifficultyParams {
            spacing: 14,
            divisor: 2048,
            minimum: U256::from(1),
        };
        let d = U256::from(2_048_000);
        assert_eq!(
            next_difficulty(d, 100, 110, 0, &p),
            U256::from(2_049_000),
            "fast: up"
        );
        assert_eq!(
            next_difficulty(d, 100, 120, 0, &p),
            U256::from(2_047_000),
            "slow: down"
        );
        assert_eq!(next_difficulty(d, 100, 114, 0, &p), d, "on target");
        // Uncles widen the target: 20 s with one uncle is fast.
        assert_eq!(next_difficulty(d, 100, 120, 1, &p), U256::from(2_049_000));
        assert_eq!(
            next_difficulty(U256::from(1), 100, 200, 0, &p),
            U256::from(1),
            "floor"
        );
    }

    #[test]
    fn fork_choice_prefers_work_then_fees_then_hash() {
        let tip = |td: u64, fees: u64, h: u8| Tip {
            total_difficulty: U256::from(td),
            fees: U256::from(fees),
            hash: B256::repeat_byte(h),
        };
        assert!(is_better_head(&tip(11, 0, 9), &tip(10, 100, 1)));
        assert!(!is_better_head(&tip(9, 1000, 1), &tip(10, 0, 9)));
        assert!(
            is_better_head(&tip(10, 201, 9), &tip(10, 100, 1)),
            "fees more than double"
        );
        assert!(
            is_better_head(&tip(10, 100, 1), &tip(10, 100, 9)),
            "smaller hash on a tie"
        );
        assert!(!is_better_head(&tip(10, 100, 9), &tip(10, 100, 1)));
        assert!(
            !is_better_head(&tip(10, 10, 1), &tip(10, 100, 9)),
            "head's fees more than double"
        );
    }
}
