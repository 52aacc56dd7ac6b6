//! The chain: genesis and head, the transaction pool, and block production on top of the
//! executor and the store. Synchronous; one concrete struct that the RPC and the node share.

// A panic on the block path halts the chain; an error only rejects a block.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod chain;
mod clock;
mod dev;
mod error;
mod events;
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
mod patch;
mod pool;
mod produce;
mod senders;
mod template;
mod validate;

pub use chain::Chain;
pub use clock::DevTime;
pub use error::{ChainError, InvalidBlock, TxRejected};
pub use events::{ChainEvent, Listener};
pub use import::{ImportResult, Imported};
pub use patch::DevPatch;
pub use pool::{PooledTx, TxPool};
pub use produce::{MinedBlock, Work, TEMPLATES_KEPT};
pub use senders::recover_blocks;
pub use template::Template;
pub use validate::{intrinsic_gas, MAX_TX_SIZE};
