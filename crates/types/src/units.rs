//! Satoshi ↔ wei: 1 satoshi = 10^10 wei (scBTC has 18 decimals, BTC 8).

use alloy_primitives::U256;

/// Wei in one satoshi.
pub const WEI_PER_SAT: u64 = 10_000_000_000;

/// Converts satoshis to wei; never overflows (u64 sats × 10^10 fits in U256).
pub fn sat_to_wei(sat: u64) -> U256 {
    U256::from(sat) * U256::from(WEI_PER_SAT)
}

/// Converts wei to whole satoshis, rounding down; `None` if the result exceeds u64.
pub fn wei_to_sat(wei: U256) -> Option<u64> {
    u64::try_from(wei / U256::from(WEI_PER_SAT)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rounding() {
        assert_eq!(sat_to_wei(1), U256::from(10_000_000_000u64));
        assert_eq!(
            wei_to_sat(sat_to_wei(2_100_000_000_000_000)),
            Some(2_100_000_000_000_000)
        );
        assert_eq!(wei_to_sat(U256::from(19_999_999_999u64)), Some(1));
        assert_eq!(wei_to_sat(U256::MAX), None);
    }
}
