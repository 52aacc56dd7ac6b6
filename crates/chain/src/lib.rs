//! The chain: genesis and head, the transaction pool, and block production on top of the
//! executor and the store. Synchronous; one concrete struct that the RPC and the node share.
//!
//! Where to start: chain.rs ([`Chain`]: its state, and `submit_raw`, how a transaction enters
//! the pool), then produce.rs (templates for miners, `mine_block` for the dev node) and
//! import.rs (every sealed block, from anywhere: checks, execution, fork choice, reorgs).
//! dev.rs holds the dev controls. What `Chain`'s fields hold lives in modules that do not use
//! `Chain`: events.rs, clock.rs, patch.rs, pool.rs, template.rs; validate.rs and error.rs are
//! the admission checks and the errors.

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
