//! The chain: genesis and head, the transaction pool, and block production on top of the
//! executor and the store. Synchronous; one concrete struct that the RPC and the node share.

// A panic on the block path halts the chain; an error only rejects a block.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod chain;
mod dev;
mod import;
mod pool;
mod produce;
mod senders;
mod validate;

pub use chain::{Chain, ChainEvent, Listener};
pub use dev::{DevPatch, DevTime};
pub use import::{ImportResult, Imported};
pub use pool::{PoolError, PooledTx, TxPool};
pub use senders::recover_blocks;
pub use produce::{MinedBlock, Template, Work, TEMPLATES_KEPT};
pub use validate::{intrinsic_gas, MAX_TX_SIZE};

/// Errors of the chain crate.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// A transaction was refused; the message is geth's wording.
    #[error("{0}")]
    Rejected(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] scion_storage::StorageError),
    /// Execution failed.
    #[error(transparent)]
    Exec(#[from] scion_executor::ExecError),
    /// A genesis or type error.
    #[error(transparent)]
    Types(#[from] scion_types::TypesError),
}

impl From<PoolError> for ChainError {
    fn from(e: PoolError) -> Self {
        ChainError::Rejected(e.to_string())
    }
}
