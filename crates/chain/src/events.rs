//! Chain events and the listeners that receive them: RPC subscriptions and filters, the dev
//! miner (PendingTx) and the network (BlockSealed) register here through `Chain::subscribe`.

use alloy_primitives::B256;
use parking_lot::RwLock;

/// Something that happened to the chain, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainEvent {
    /// A block joined the canonical chain (a new head, or one step of a reorg).
    BlockAdded(B256),
    /// A block left the canonical chain in a reorg (its receipts stay readable by hash).
    BlockRemoved(B256),
    /// A transaction entered the pool.
    PendingTx(B256),
    /// A block sealed here (the dev miner) or submitted by a miner through `mnr_submit*` was
    /// imported, as the head or on a side branch: the network publishes it. Blocks that
    /// arrive from peers and blocks re-executed by a reorg do not fire it.
    BlockSealed(B256),
}

/// A function called with every chain event, on the thread that caused it.
pub type Listener = Box<dyn Fn(&ChainEvent) + Send + Sync>;

/// The registered listeners.
#[derive(Default)]
pub(crate) struct Listeners(RwLock<Vec<Listener>>);

impl Listeners {
    /// Adds a listener for every later event.
    pub(crate) fn add(&self, listener: Listener) {
        self.0.write().push(listener);
    }

    /// Calls every listener with `event`, in the order they were added.
    pub(crate) fn emit(&self, event: &ChainEvent) {
        for l in self.0.read().iter() {
            l(event);
        }
    }
}

impl std::fmt::Debug for Listeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} listeners", self.0.read().len())
    }
}
