//! The Bridge's state as byte strings in the storage slots of its own account, so it is part of
//! the state root and a Scion reorg rolls it back.
//!
//! A value under `key` lives at slot `s = keccak256(key)`: `s` holds `len + 1` (0 = absent) and
//! `s + 1 …` hold the bytes in 32-byte words, zero-padded.

use crate::BridgeError;
use alloy_primitives::{keccak256, Address, LogData, B256, U256};

/// What the Bridge needs from the EVM: its own storage, its balance and logs.
pub trait Host {
    /// Reads one of the Bridge's storage slots.
    fn sload(&mut self, slot: U256) -> Result<U256, BridgeError>;
    /// Writes one of the Bridge's storage slots.
    fn sstore(&mut self, slot: U256, value: U256) -> Result<(), BridgeError>;
    /// Moves `wei` from the Bridge's balance to `to` (no code runs).
    fn pay(&mut self, to: Address, wei: U256) -> Result<(), BridgeError>;
    /// Emits a log from the Bridge.
    fn log(&mut self, log: LogData);
    /// The current Scion block number.
    fn block_number(&self) -> u64;
    /// The current Scion block timestamp.
    fn timestamp(&self) -> u64;
    /// The hash of the Scion transaction being executed (zero in a call that is not one).
    fn tx_hash(&self) -> B256;
    /// The transaction's sender (tx.origin).
    fn tx_origin(&self) -> Address;
    /// The compressed public key that signed the transaction, recovered from its signature;
    /// `None` when there is no signature (eth_call, estimates, simulations).
    fn tx_signer(&mut self) -> Option<[u8; 33]>;
}

/// Byte-string storage over a [`Host`].
pub struct Store<'a> {
    host: &'a mut dyn Host,
}

fn base(key: &[u8]) -> U256 {
    U256::from_be_bytes(keccak256(key).0)
}

/// The slot of word `i` (from 0) of the value at `s`: `s + 1 + i`, wrapping at 2^256 as the
/// slot space does.
fn word_slot(s: U256, i: usize) -> U256 {
    s.wrapping_add(U256::from(i)).wrapping_add(U256::from(1u8))
}

impl<'a> Store<'a> {
    /// Wraps a host.
    pub fn new(host: &'a mut dyn Host) -> Self {
        Self { host }
    }

    /// The host, for payments, logs and block data.
    pub fn host(&mut self) -> &mut dyn Host {
        self.host
    }

    /// The value under `key`, if any.
    pub fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, BridgeError> {
        let s = base(key);
        let Some(len) = self.len(s)? else {
            return Ok(None);
        };
        let words = len.div_ceil(32);
        let mut out = Vec::with_capacity(words.saturating_mul(32));
        for i in 0..words {
            let word = self.host.sload(word_slot(s, i))?;
            out.extend_from_slice(&word.to_be_bytes::<32>());
        }
        out.truncate(len);
        Ok(Some(out))
    }

    /// Stores `value` under `key`, replacing what was there.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), BridgeError> {
        let s = base(key);
        let old = self.len(s)?.unwrap_or(0);
        // A usize + 1 is far below 2^256.
        let head = U256::from(value.len()).saturating_add(U256::from(1u8));
        self.host.sstore(s, head)?;
        for (i, chunk) in value.chunks(32).enumerate() {
            let mut word = [0u8; 32];
            // A chunk is at most 32 bytes; shorter ones are zero-padded on the right.
            for (dst, src) in word.iter_mut().zip(chunk) {
                *dst = *src;
            }
            self.host
                .sstore(word_slot(s, i), U256::from_be_bytes(word))?;
        }
        for i in value.len().div_ceil(32)..old.div_ceil(32) {
            self.host.sstore(word_slot(s, i), U256::ZERO)?;
        }
        Ok(())
    }

    /// Removes the value under `key`.
    pub fn delete(&mut self, key: &[u8]) -> Result<(), BridgeError> {
        let s = base(key);
        let old = self.len(s)?.unwrap_or(0);
        self.host.sstore(s, U256::ZERO)?;
        for i in 0..old.div_ceil(32) {
            self.host.sstore(word_slot(s, i), U256::ZERO)?;
        }
        Ok(())
    }

    /// The length of the value at slot `s`, `None` when absent: its head word holds
    /// length + 1, and 0 for no value.
    fn len(&mut self, s: U256) -> Result<Option<usize>, BridgeError> {
        let Some(len) = self.host.sload(s)?.checked_sub(U256::from(1u8)) else {
            return Ok(None);
        };
        usize::try_from(len)
            .map(Some)
            .map_err(|_| BridgeError::Database("corrupt Bridge storage length".into()))
    }

    /// A u64 under `key` (0 when absent).
    pub fn get_u64(&mut self, key: &[u8]) -> Result<u64, BridgeError> {
        Ok(match self.get(key)? {
            Some(v) if v.len() == 8 => u64::from_be_bytes(v.try_into().unwrap_or([0; 8])),
            Some(_) => return Err(BridgeError::Database("corrupt Bridge u64".into())),
            None => 0,
        })
    }

    /// Stores a u64 under `key`.
    pub fn put_u64(&mut self, key: &[u8], v: u64) -> Result<(), BridgeError> {
        self.put(key, &v.to_be_bytes())
    }
}

/// A storage-only host for building genesis storage and for tests.
#[derive(Debug, Default, Clone)]
pub struct MemHost {
    /// The slots written.
    pub slots: std::collections::BTreeMap<U256, U256>,
    /// Payments made, in order.
    pub paid: Vec<(Address, U256)>,
    /// Logs emitted, in order.
    pub logs: Vec<LogData>,
    /// Block number reported.
    pub number: u64,
    /// Block timestamp reported.
    pub time: u64,
    /// Transaction hash reported.
    pub tx_hash: B256,
    /// tx.origin reported.
    pub origin: Address,
    /// Signer key reported.
    pub signer: Option<[u8; 33]>,
}

impl Host for MemHost {
    fn sload(&mut self, slot: U256) -> Result<U256, BridgeError> {
        Ok(self.slots.get(&slot).copied().unwrap_or_default())
    }
    fn sstore(&mut self, slot: U256, value: U256) -> Result<(), BridgeError> {
        if value.is_zero() {
            self.slots.remove(&slot);
        } else {
            self.slots.insert(slot, value);
        }
        Ok(())
    }
    fn pay(&mut self, to: Address, wei: U256) -> Result<(), BridgeError> {
        self.paid.push((to, wei));
        Ok(())
    }
    fn log(&mut self, log: LogData) {
        self.logs.push(log);
    }
    fn block_number(&self) -> u64 {
        self.number
    }
    fn timestamp(&self) -> u64 {
        self.time
    }
    fn tx_hash(&self) -> B256 {
        self.tx_hash
    }
    fn tx_origin(&self) -> Address {
        self.origin
    }
    fn tx_signer(&mut self) -> Option<[u8; 33]> {
        self.signer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_shrink_cleanly() {
        let mut h = MemHost::default();
        let mut s = Store::new(&mut h);
        assert_eq!(s.get(b"k").unwrap(), None);
        let long: Vec<u8> = (0..100u8).collect();
        s.put(b"k", &long).unwrap();
        assert_eq!(s.get(b"k").unwrap().unwrap(), long);
        s.put(b"k", b"ab").unwrap();
        assert_eq!(s.get(b"k").unwrap().unwrap(), b"ab");
        s.put(b"e", b"").unwrap();
        assert_eq!(s.get(b"e").unwrap().unwrap(), b"");
        s.delete(b"e").unwrap();
        s.delete(b"k").unwrap();
        assert!(h.slots.is_empty(), "stale slots: {:?}", h.slots);
    }
}
