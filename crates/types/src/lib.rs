//! Scion's core data types: the block header with Rootstock's merged-mining fields, blocks,
//! accounts, the chain specification loaded from a genesis file, and sat↔wei conversion.
//! No I/O beyond reading a genesis file.

mod account;
mod block;
mod genesis;
mod header;
mod state;
mod units;

pub use account::{Account, EMPTY_ROOT, KECCAK_EMPTY};
pub use block::Block;
pub use genesis::{
    BridgeParams, BtcCheckpoint, ChainSpec, FederationMember, GenesisAccount, ScionParams,
};
pub use header::{Header, BTC_HEADER_LEN};
pub use state::{AccountChange, AccountInfo, StateChanges};
pub use units::{sat_to_wei, wei_to_sat, WEI_PER_SAT};

/// Errors of the types crate.
#[derive(Debug, thiserror::Error)]
pub enum TypesError {
    /// A byte string did not decode as the expected RLP structure.
    #[error("invalid RLP for {what}: {source}")]
    Rlp {
        /// What was being decoded.
        what: &'static str,
        /// The decoder's error.
        source: alloy_rlp::Error,
    },
    /// A genesis file could not be read or parsed.
    #[error("genesis file {path}: {reason}")]
    Genesis {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}
