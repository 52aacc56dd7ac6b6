//! The `txpool` namespace: what the pool holds, pending and queued, as geth reports it.

use crate::convert::rpc_pending_tx;
use crate::{error, RpcContext};
use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, U64};
use alloy_rpc_types_eth::Transaction;
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;
use scion_chain::PooledTx;
use serde::Serialize;
use std::collections::BTreeMap;

/// Pending and queued, by sender and nonce.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PoolContent<T> {
    /// Executable now.
    pub pending: BTreeMap<Address, BTreeMap<String, T>>,
    /// Waiting behind a nonce gap.
    pub queued: BTreeMap<Address, BTreeMap<String, T>>,
}

/// Counts.
#[derive(Debug, Clone, Serialize)]
pub struct PoolStatus {
    /// Executable now.
    pub pending: U64,
    /// Waiting behind a nonce gap.
    pub queued: U64,
}

/// txpool_* methods.
#[rpc(server, namespace = "txpool")]
pub trait TxpoolApi {
    /// Pending and queued counts.
    #[method(name = "status", blocking)]
    fn status(&self) -> RpcResult<PoolStatus>;
    /// Every pooled transaction in full.
    #[method(name = "content", blocking)]
    fn content(&self) -> RpcResult<PoolContent<Transaction>>;
    /// A one-line summary of every pooled transaction.
    #[method(name = "inspect", blocking)]
    fn inspect(&self) -> RpcResult<PoolContent<String>>;
}

/// The txpool namespace.
pub struct Txpool(pub RpcContext);

impl Txpool {
    fn split(&self) -> RpcResult<(Vec<PooledTx>, Vec<PooledTx>)> {
        let chain = &self.0.chain;
        let state = chain.store().state_at(u64::MAX).map_err(error::storage)?;
        let nonce = |a: Address| {
            state
                .account(a)
                .ok()
                .flatten()
                .map(|x| x.nonce)
                .unwrap_or(0)
        };
        Ok(chain.pool().split(nonce))
    }

    fn group<T>(
        txs: Vec<PooledTx>,
        f: impl Fn(&PooledTx) -> T,
    ) -> BTreeMap<Address, BTreeMap<String, T>> {
        let mut out: BTreeMap<Address, BTreeMap<String, T>> = BTreeMap::new();
        for p in txs {
            out.entry(p.sender)
                .or_default()
                .insert(p.tx.nonce().to_string(), f(&p));
        }
        out
    }
}

impl TxpoolApiServer for Txpool {
    fn status(&self) -> RpcResult<PoolStatus> {
        let (p, q) = self.split()?;
        Ok(PoolStatus {
            pending: U64::from(p.len()),
            queued: U64::from(q.len()),
        })
    }

    fn content(&self) -> RpcResult<PoolContent<Transaction>> {
        let (p, q) = self.split()?;
        let full = |x: &PooledTx| rpc_pending_tx(x.tx.clone(), x.sender);
        Ok(PoolContent {
            pending: Self::group(p, full),
            queued: Self::group(q, full),
        })
    }

    fn inspect(&self) -> RpcResult<PoolContent<String>> {
        let (p, q) = self.split()?;
        let line = |x: &PooledTx| {
            let to =
                x.tx.to()
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| "contract creation".into());
            format!(
                "{to}: {} wei + {} gas × {} wei",
                x.tx.value(),
                x.tx.gas_limit(),
                x.tx.max_fee_per_gas()
            )
        };
        Ok(PoolContent {
            pending: Self::group(p, line),
            queued: Self::group(q, line),
        })
    }
}
