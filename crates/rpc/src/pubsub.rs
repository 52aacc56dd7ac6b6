//! Chain events for clients: polling filters (eth_newFilter and friends, with a time-to-live)
//! and WebSocket subscriptions (eth_subscribe: newHeads, logs with `removed` on reorgs,
//! newPendingTransactions). Both are fed by one broadcast channel of chain events.

use crate::convert::{rpc_block, rpc_logs};
use crate::{error, RpcContext};
use alloy_primitives::{B256, U128};
use alloy_rpc_types_eth::pubsub::{Params, SubscriptionKind};
use alloy_rpc_types_eth::{Filter, Log};
use jsonrpsee::core::{RpcResult, SubscriptionResult};
use jsonrpsee::proc_macros::rpc;
use jsonrpsee::{PendingSubscriptionSink, SubscriptionMessage};
use parking_lot::Mutex;
use scion_chain::{Chain, ChainEvent};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// Filters not polled for this long are dropped (geth's deadline).
pub const FILTER_TTL: Duration = Duration::from_secs(300);

/// What a filter collects.
#[derive(Debug, Clone)]
enum Kind {
    Blocks,
    Pending,
    Logs(Box<Filter>),
}

#[derive(Debug)]
struct Installed {
    kind: Kind,
    changes: Vec<Value>,
    polled: Instant,
}

/// Installed filters, fed by chain events.
#[derive(Debug)]
pub struct Filters {
    map: Mutex<HashMap<u64, Installed>>,
    next: AtomicU64,
    max: usize,
    ttl: Duration,
}

impl Filters {
    /// No filters yet; at most `max` at once, each dropped when not polled for `ttl`.
    pub fn new(max: usize, ttl: Duration) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
            max,
            ttl,
        }
    }

    fn install(&self, kind: Kind) -> RpcResult<U128> {
        let mut map = self.map.lock();
        map.retain(|_, f| f.polled.elapsed() < self.ttl);
        if map.len() >= self.max {
            return Err(error::server(format!(
                "too many filters: at most {} are installed at once",
                self.max
            )));
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        map.insert(
            id,
            Installed {
                kind,
                changes: Vec::new(),
                polled: Instant::now(),
            },
        );
        Ok(U128::from(id))
    }

    fn dispatch(&self, chain: &Chain, event: &ChainEvent) {
        let mut map = self.map.lock();
        map.retain(|_, f| f.polled.elapsed() < self.ttl);
        if map.is_empty() {
            return;
        }
        let logs = match event {
            ChainEvent::BlockAdded(h) => block_logs(chain, *h, false),
            ChainEvent::BlockRemoved(h) => block_logs(chain, *h, true),
            ChainEvent::PendingTx(_) | ChainEvent::BlockSealed(_) => vec![],
        };
        for f in map.values_mut() {
            match (&f.kind, event) {
                (Kind::Blocks, ChainEvent::BlockAdded(h))
                | (Kind::Pending, ChainEvent::PendingTx(h)) => {
                    f.changes.push(Value::String(h.to_string()));
                }
                (Kind::Logs(filter), ChainEvent::BlockAdded(_) | ChainEvent::BlockRemoved(_)) => {
                    for l in logs.iter().filter(|l| filter.matches(&l.inner)) {
                        f.changes.push(serde_json::to_value(l).unwrap_or_default());
                    }
                }
                _ => {}
            }
        }
    }
}

/// The logs of a stored block, marked `removed` when a reorg dropped it.
pub fn block_logs(chain: &Chain, hash: B256, removed: bool) -> Vec<Log> {
    let store = chain.store();
    let (Ok(Some(block)), Ok(Some(receipts))) = (store.block(hash), store.receipts(hash)) else {
        return vec![];
    };
    let mut out = Vec::new();
    let mut first = 0;
    for (i, (tx, r)) in block.transactions.iter().zip(&receipts).enumerate() {
        let mut logs = rpc_logs(r, &block.header, *tx.tx_hash(), i, first);
        first += logs.len();
        for l in &mut logs {
            l.removed = removed;
        }
        out.extend(logs);
    }
    out
}

/// Starts the broadcast of chain events and the task that feeds the filters.
pub fn start(chain: &Arc<Chain>, filters: Arc<Filters>) -> broadcast::Sender<ChainEvent> {
    let (tx, _) = broadcast::channel(4096);
    let sender = tx.clone();
    chain.subscribe(Box::new(move |e| {
        let _ = sender.send(e.clone());
    }));
    let mut rx = tx.subscribe();
    // Weak: the chain holds the listener that feeds this task, so a strong reference here
    // would keep a stopped node's chain (and its database) open forever.
    let chain = Arc::downgrade(chain);
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(event) => {
                    let Some(chain) = chain.upgrade() else {
                        break;
                    };
                    filters.dispatch(&chain, &event);
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "filters fell behind chain events");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    tx
}

/// Filter and subscription methods of the eth namespace.
#[rpc(server, namespace = "eth")]
pub trait EthPubSubApi {
    /// A log filter; poll it with eth_getFilterChanges.
    #[method(name = "newFilter")]
    fn new_filter(&self, filter: crate::eth::Named<Filter>) -> RpcResult<U128>;
    /// A filter of new block hashes.
    #[method(name = "newBlockFilter")]
    fn new_block_filter(&self) -> RpcResult<U128>;
    /// A filter of new pending transaction hashes.
    #[method(name = "newPendingTransactionFilter")]
    fn new_pending_transaction_filter(&self) -> RpcResult<U128>;
    /// What a filter collected since the last poll.
    #[method(name = "getFilterChanges")]
    fn get_filter_changes(&self, id: U128) -> RpcResult<Vec<Value>>;
    /// Every log a log filter matches, from its whole block range.
    #[method(name = "getFilterLogs", blocking)]
    fn get_filter_logs(&self, id: U128) -> RpcResult<Vec<Log>>;
    /// Removes a filter.
    #[method(name = "uninstallFilter")]
    fn uninstall_filter(&self, id: U128) -> RpcResult<bool>;
    /// WebSocket subscriptions: newHeads, logs, newPendingTransactions.
    #[subscription(name = "subscribe" => "subscription", unsubscribe = "unsubscribe", item = Value)]
    async fn subscribe(&self, kind: String, params: Option<Params>) -> SubscriptionResult;
}

/// The filter and subscription methods.
pub struct EthPubSub {
    /// Shared context.
    pub ctx: RpcContext,
    /// Installed filters.
    pub filters: Arc<Filters>,
    /// Chain events.
    pub events: broadcast::Sender<ChainEvent>,
}

fn not_found(id: U128) -> jsonrpsee::types::ErrorObjectOwned {
    error::server(format!("filter not found: {id}"))
}

#[jsonrpsee::core::async_trait]
impl EthPubSubApiServer for EthPubSub {
    fn new_filter(&self, filter: crate::eth::Named<Filter>) -> RpcResult<U128> {
        self.filters.install(Kind::Logs(Box::new(filter.0)))
    }

    fn new_block_filter(&self) -> RpcResult<U128> {
        self.filters.install(Kind::Blocks)
    }

    fn new_pending_transaction_filter(&self) -> RpcResult<U128> {
        self.filters.install(Kind::Pending)
    }

    fn get_filter_changes(&self, id: U128) -> RpcResult<Vec<Value>> {
        let mut map = self.filters.map.lock();
        let ttl = self.filters.ttl;
        map.retain(|_, f| f.polled.elapsed() < ttl);
        let f = map.get_mut(&id.to::<u64>()).ok_or_else(|| not_found(id))?;
        f.polled = Instant::now();
        Ok(std::mem::take(&mut f.changes))
    }

    fn get_filter_logs(&self, id: U128) -> RpcResult<Vec<Log>> {
        let filter = {
            let mut map = self.filters.map.lock();
            let f = map.get_mut(&id.to::<u64>()).ok_or_else(|| not_found(id))?;
            f.polled = Instant::now();
            match &f.kind {
                Kind::Logs(filter) => (**filter).clone(),
                _ => return Err(error::server(format!("filter {id} is not a log filter"))),
            }
        };
        crate::eth::EthApiServer::get_logs(
            &crate::eth::Eth(self.ctx.clone()),
            crate::eth::Named(filter),
        )
    }

    fn uninstall_filter(&self, id: U128) -> RpcResult<bool> {
        Ok(self.filters.map.lock().remove(&id.to::<u64>()).is_some())
    }

    async fn subscribe(
        &self,
        pending: PendingSubscriptionSink,
        kind: String,
        params: Option<Params>,
    ) -> SubscriptionResult {
        enum Sub {
            Heads,
            Logs(Box<Filter>),
            Pending { full: bool },
        }
        let sub = match kind.parse::<SubscriptionKind>() {
            Ok(SubscriptionKind::NewHeads) => Sub::Heads,
            Ok(SubscriptionKind::Logs) => match params.unwrap_or_default() {
                Params::None => Sub::Logs(Box::default()),
                Params::Logs(filter) => Sub::Logs(filter),
                Params::Bool(_) | Params::TransactionReceipts(_) => {
                    pending
                        .reject(error::invalid_params(
                            "a logs subscription takes a filter object",
                        ))
                        .await;
                    return Ok(());
                }
            },
            Ok(SubscriptionKind::NewPendingTransactions) => Sub::Pending {
                full: matches!(params, Some(Params::Bool(true))),
            },
            Ok(SubscriptionKind::Syncing | SubscriptionKind::TransactionReceipts) | Err(_) => {
                pending
                    .reject(error::invalid_params(format!(
                        "unknown subscription {kind:?}: newHeads, logs or newPendingTransactions"
                    )))
                    .await;
                return Ok(());
            }
        };
        let sink = pending.accept().await?;
        let mut rx = self.events.subscribe();
        let chain = self.ctx.chain.clone();
        loop {
            let event = tokio::select! {
                _ = sink.closed() => break,
                e = rx.recv() => e,
            };
            let event = match event {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            };
            let items: Vec<Value> = match (&sub, &event) {
                (Sub::Heads, ChainEvent::BlockAdded(h)) => {
                    let c = chain.clone();
                    let h = *h;
                    let block = tokio::task::spawn_blocking(move || {
                        let b = c.store().block(h).ok().flatten()?;
                        let td = c
                            .store()
                            .block_info(h)
                            .ok()
                            .flatten()
                            .unwrap_or_default()
                            .total_difficulty;
                        Some(rpc_block(b, &[], false, td))
                    })
                    .await
                    .ok()
                    .flatten();
                    block
                        .map(|b| {
                            let mut v = serde_json::to_value(b).unwrap_or_default();
                            if let Some(o) = v.as_object_mut() {
                                o.remove("transactions");
                                o.remove("uncles");
                            }
                            vec![v]
                        })
                        .unwrap_or_default()
                }
                (Sub::Logs(filter), ChainEvent::BlockAdded(h) | ChainEvent::BlockRemoved(h)) => {
                    let removed = matches!(event, ChainEvent::BlockRemoved(_));
                    let (c, h) = (chain.clone(), *h);
                    let logs = tokio::task::spawn_blocking(move || block_logs(&c, h, removed))
                        .await
                        .unwrap_or_default();
                    logs.iter()
                        .filter(|l| filter.matches(&l.inner))
                        .map(|l| serde_json::to_value(l).unwrap_or_default())
                        .collect()
                }
                (Sub::Pending { full }, ChainEvent::PendingTx(h)) => {
                    if *full {
                        let p = chain.pool().get(h).cloned();
                        p.map(|p| {
                            vec![serde_json::to_value(crate::convert::rpc_pending_tx(
                                p.tx, p.sender,
                            ))
                            .unwrap_or_default()]
                        })
                        .unwrap_or_default()
                    } else {
                        vec![Value::String(h.to_string())]
                    }
                }
                _ => vec![],
            };
            for item in items {
                let msg =
                    SubscriptionMessage::new(sink.method_name(), sink.subscription_id(), &item)?;
                if sink.send(msg).await.is_err() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_expire_unless_polled_and_are_bounded() {
        let filters = Filters::new(2, Duration::from_millis(150));
        let a = filters.install(Kind::Blocks).unwrap();
        let b = filters.install(Kind::Pending).unwrap();
        assert!(filters.install(Kind::Blocks).is_err(), "at most 2");
        std::thread::sleep(Duration::from_millis(100));
        // Polling b keeps it alive; a is left alone.
        filters.map.lock().get_mut(&b.to::<u64>()).unwrap().polled = Instant::now();
        std::thread::sleep(Duration::from_millis(100));
        let c = filters.install(Kind::Blocks).unwrap();
        let map = filters.map.lock();
        assert!(!map.contains_key(&a.to::<u64>()), "a expired");
        assert!(map.contains_key(&b.to::<u64>()) && map.contains_key(&c.to::<u64>()));
    }
}
