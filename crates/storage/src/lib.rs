//! Scion's storage: an MDBX environment with every table declared in `tables.rs`, the Store
//! that commits a block and all it changes in one write transaction, the state at any past
//! block as a revm `DatabaseRef`, and Ethereum's Merkle-Patricia state trie kept node by node.
//!
//! Where to start: tables.rs (every table and its bytes), store.rs ([`Store::open`] and the
//! reads), commit.rs (`prepare_state` then `commit_block`, how a block is written) and
//! unwind.rs (a reorg's step back); state.rs is the state at a block for the executor, and
//! trie.rs with account_trie.rs keep the state root.

// A panic on the block path halts the chain; an error only rejects a block.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod account_trie;
mod codec;
mod commit;
mod space;
mod state;
mod store;
pub mod tables;
pub mod trie;
mod unwind;

pub use commit::StateUpdate;
pub use state::StateDb;
pub use store::{BlockInfo, Store, TableStats, TxLocation, FORMAT};

use alloy_primitives::B256;

/// Errors of the storage crate.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// MDBX reported an error.
    #[error("database: {0}")]
    Mdbx(#[from] signet_libmdbx::MdbxError),
    /// A read failed in MDBX or in decoding.
    #[error("database read: {0}")]
    Read(#[from] signet_libmdbx::ReadError),
    /// Stored bytes are not what they should be.
    #[error("corrupt database: {0}")]
    Corrupt(String),
    /// A block was committed while a proof was being read from an earlier snapshot: read again.
    #[error("the head moved while the proof was read; try again")]
    HeadMoved,
    /// The data directory holds another chain.
    #[error("the data directory holds another chain: its genesis is {found}, this chain's is {expected}")]
    GenesisMismatch {
        /// This chain's genesis hash.
        expected: B256,
        /// The stored genesis hash.
        found: B256,
    },
    /// The data directory was written by a build with another record layout.
    #[error("{dir} holds a database of format {found}; this build reads format {expected}. Move the directory away (or export the chain with the build that wrote it and import it with this one)")]
    Format {
        /// The data directory.
        dir: String,
        /// The stored format.
        found: u32,
        /// This build's format.
        expected: u32,
    },
    /// A filesystem error.
    #[error("i/o: {0}")]
    Io(String),
}

impl revm::database_interface::DBErrorMarker for StorageError {}
