//! scion-bridge: the two-way peg's logic behind the Bridge precompile at
//! `0x0000000000000000000000000000000001000006` (PROTOCOL.md §3).
//!
//! Pure Rust over `bitcoin`: a Bitcoin light client ([`headers`]), peg-in proofs ([`pegin`]),
//! peg-outs and their signatures ([`pegout`]), the federation's money ([`queue`]), the
//! federation ([`config`]) and the ABI dispatcher ([`execute`]). All state lives in the
//! Bridge account's storage through the [`Host`] the EVM provides, so it is part of the state
//! root and rolls back with a reorg or a revert.
//!
//! Where to start: dispatch.rs ([`execute`]: every method, its gas and its arguments), then
//! pegin.rs and pegout.rs. [`keys`] lists every storage key and its value bytes, and
//! [`store`] how a value is laid out in slots; both are consensus.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
// Nor may it overflow silently or index out of bounds (issue #21): checked arithmetic, `get`
// and typed conversions; an overflow from someone else's input is an error.
#![cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::as_conversions
    )
)]

pub mod abi;
pub mod config;
mod dispatch;
pub mod federator;
pub mod headers;
pub mod keys;
pub mod pegin;
pub mod pegout;
pub mod queue;
pub mod store;

use alloy_primitives::{address, Address, B256, U256};
use bitcoin::hashes::Hash;
pub use config::{rsk_address, Config, Federation, Member};
pub use dispatch::{execute, method_gas, Call, Outcome};
pub use store::{Host, MemHost, Store};

// A `usize` is at most 64 bits on every target Scion builds for, so `len_u64` never saturates.
const _: () = assert!(usize::BITS <= u64::BITS);

/// A length or count as `u64`.
pub(crate) fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// A Bitcoin hash (txid, block hash) in display order, byte-reversed from its internal order:
/// how the Bridge's ABI takes and its events show Bitcoin hashes.
pub fn to_display<H: Hash<Bytes = [u8; 32]>>(hash: &H) -> B256 {
    let mut b = hash.to_byte_array();
    b.reverse();
    B256::from(b)
}

/// A Bitcoin hash given in display order (the inverse of [`to_display`]).
pub fn from_display<H: Hash<Bytes = [u8; 32]>>(shown: B256) -> H {
    let mut b = shown.0;
    b.reverse();
    H::from_byte_array(b)
}

/// The Bridge's address (Rootstock's).
pub const BRIDGE_ADDRESS: Address = address!("0000000000000000000000000000000001000006");

/// The Bridge's errors.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The call reverts with this reason; nothing it did is kept.
    #[error("{0}")]
    Revert(String),
    /// The state could not be read or written: the block cannot be processed.
    #[error("bridge storage: {0}")]
    Database(String),
    /// Genesis parameters are invalid.
    #[error("bridge configuration: {0}")]
    Config(String),
}

/// The storage slots genesis gives the Bridge: its header chain starting at the checkpoint.
pub fn genesis_storage(cfg: &Config) -> Result<Vec<(B256, U256)>, BridgeError> {
    let mut host = MemHost::default();
    let mut st = Store::new(&mut host);
    headers::Chain::new(&mut st, cfg).init()?;
    Ok(host
        .slots
        .into_iter()
        .map(|(k, v)| (B256::from(k.to_be_bytes::<32>()), v))
        .collect())
}
