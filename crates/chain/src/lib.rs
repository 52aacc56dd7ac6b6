//! The chain: genesis and head, the transaction pool, and block production on top of the
//! executor and the store. Synchronous; one concrete struct that the RPC and the node share.

// A panic on the block path halts the chain; an error only rejects a block.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod chain;
mod dev;
mod error;
// Import handles other nodes' blocks: no unchecked arithmetic, indexing or `as` casts.
#[cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::as_conversions
    )
)]
mod import;
mod pool;
mod produce;
mod senders;
mod validate;

pub use chain::{Chain, ChainEvent, Listener};
pub use dev::{DevPatch, DevTime};
pub use error::{ChainError, InvalidBlock, TxRejected};
pub use import::{ImportResult, Imported};
pub use pool::{PooledTx, TxPool};
pub use produce::{MinedBlock, Template, Work, TEMPLATES_KEPT};
pub use senders::recover_blocks;
pub use validate::{intrinsic_gas, MAX_TX_SIZE};
