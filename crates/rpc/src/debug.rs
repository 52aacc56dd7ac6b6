//! The `debug` namespace: geth-style traces through revm-inspectors (the default struct
//! logger, callTracer, prestateTracer, noopTracer), and the raw RLP of headers, blocks,
//! transactions and receipts.

use crate::eth::Named;
use crate::{error, RpcContext};
use alloy_eips::eip2718::Encodable2718;
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, Bytes, B256};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_rpc_types_trace::geth::{
    GethDebugBuiltInTracerType, GethDebugTracerType, GethDebugTracingCallOptions,
    GethDebugTracingOptions, GethTrace, NoopFrame, TraceResult,
};
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;
use revm::context::TxEnv;
use revm_inspectors::tracing::{TracingInspector, TracingInspectorConfig};
use scion_executor::{trace, tx_env, BlockParams};
use scion_types::Block;

/// debug_* methods.
#[rpc(server, namespace = "debug")]
pub trait DebugApi {
    /// Traces a mined transaction, replaying its block up to it.
    #[method(name = "traceTransaction", blocking)]
    fn trace_transaction(
        &self,
        hash: B256,
        opts: Option<GethDebugTracingOptions>,
    ) -> RpcResult<GethTrace>;
    /// Traces a call on the state after a block.
    #[method(name = "traceCall", blocking)]
    fn trace_call(
        &self,
        request: Named<TransactionRequest>,
        block: Option<BlockId>,
        opts: Option<GethDebugTracingCallOptions>,
    ) -> RpcResult<GethTrace>;
    /// Traces every transaction of a block by number.
    #[method(name = "traceBlockByNumber", blocking)]
    fn trace_block_by_number(
        &self,
        number: BlockNumberOrTag,
        opts: Option<GethDebugTracingOptions>,
    ) -> RpcResult<Vec<TraceResult>>;
    /// Traces every transaction of a block by hash.
    #[method(name = "traceBlockByHash", blocking)]
    fn trace_block_by_hash(
        &self,
        hash: B256,
        opts: Option<GethDebugTracingOptions>,
    ) -> RpcResult<Vec<TraceResult>>;
    /// A header's RLP (merged-mining fields included).
    #[method(name = "getRawHeader", blocking)]
    fn get_raw_header(&self, block: BlockId) -> RpcResult<Bytes>;
    /// A block's RLP.
    #[method(name = "getRawBlock", blocking)]
    fn get_raw_block(&self, block: BlockId) -> RpcResult<Bytes>;
    /// A transaction's EIP-2718 bytes.
    #[method(name = "getRawTransaction", blocking)]
    fn get_raw_transaction(&self, hash: B256) -> RpcResult<Bytes>;
    /// A block's receipts, EIP-2718 encoded.
    #[method(name = "getRawReceipts", blocking)]
    fn get_raw_receipts(&self, block: BlockId) -> RpcResult<Vec<Bytes>>;
}

/// The debug namespace.
pub struct Debug(pub RpcContext);

fn params(h: &scion_types::Header) -> BlockParams {
    BlockParams::of(h)
}

impl Debug {
    fn block(&self, id: BlockId) -> RpcResult<Block> {
        let store = self.0.chain.store();
        let hash = match id {
            BlockId::Hash(h) => Some(h.block_hash),
            BlockId::Number(BlockNumberOrTag::Number(n)) => {
                self.0.chain.canonical_hash(n).map_err(error::chain)?
            }
            BlockId::Number(BlockNumberOrTag::Earliest) => {
                store.canonical_hash(0).map_err(error::storage)?
            }
            BlockId::Number(_) => Some(self.0.chain.head().hash()),
        };
        let block = match hash {
            Some(h) => store.block(h).map_err(error::storage)?,
            None => None,
        };
        block.ok_or_else(|| error::server("block not found"))
    }

    /// Traces `target` after `prior` on the state after block `parent_number`.
    fn run(
        &self,
        parent_number: u64,
        block: &BlockParams,
        prior: Vec<(alloy_consensus::TxEnvelope, Address)>,
        target: (TxEnv, Option<alloy_consensus::TxEnvelope>),
        call: bool,
        opts: GethDebugTracingOptions,
    ) -> RpcResult<GethTrace> {
        let store = self.0.chain.store();
        let state = store.state_at(parent_number).map_err(error::storage)?;
        let exec = self.0.chain.exec().clone();
        let tracer = opts.tracer.clone();
        let config = opts.tracer_config.clone();
        match tracer {
            None => {
                let inspector = TracingInspector::new(TracingInspectorConfig::from_geth_config(&opts.config));
                let t = trace(state, &exec, block, prior, target, call, inspector).map_err(error::exec)?;
                let gas = t.result.result.tx_gas_used();
                let output = t.result.result.output().cloned().unwrap_or_default();
                Ok(GethTrace::Default(t.inspector.into_geth_builder().geth_traces(gas, output, opts.config)))
            }
            Some(GethDebugTracerType::BuiltInTracer(GethDebugBuiltInTracerType::CallTracer)) => {
                let cfg = config.into_call_config().map_err(error::invalid_params)?;
                let inspector = TracingInspector::new(TracingInspectorConfig::from_geth_call_config(&cfg));
                let t = trace(state, &exec, block, prior, target, call, inspector).map_err(error::exec)?;
                let gas = t.result.result.tx_gas_used();
                Ok(GethTrace::CallTracer(t.inspector.into_geth_builder().geth_call_traces(cfg, gas)))
            }
            Some(GethDebugTracerType::BuiltInTracer(GethDebugBuiltInTracerType::PreStateTracer)) => {
                let cfg = config.into_pre_state_config().map_err(error::invalid_params)?;
                let inspector = TracingInspector::new(TracingInspectorConfig::from_geth_prestate_config(&cfg));
                let t = trace(state, &exec, block, prior, target, call, inspector).map_err(error::exec)?;
                let frame = t
                    .inspector
                    .into_geth_builder()
                    .geth_prestate_traces(&t.result, &cfg, &t.db)
                    .map_err(error::storage)?;
                Ok(GethTrace::PreStateTracer(frame))
            }
            Some(GethDebugTracerType::BuiltInTracer(GethDebugBuiltInTracerType::NoopTracer)) => {
                Ok(GethTrace::NoopTracer(NoopFrame::default()))
            }
            Some(other) => Err(error::invalid_params(format!(
                "tracer {other:?} is not supported: use the default struct logger, callTracer, prestateTracer or noopTracer"
            ))),
        }
    }

    fn trace_block(
        &self,
        block: Block,
        opts: GethDebugTracingOptions,
    ) -> RpcResult<Vec<TraceResult>> {
        let store = self.0.chain.store();
        let senders = store.senders(block.hash()).map_err(error::storage)?;
        let txs: Vec<_> = block.transactions.iter().cloned().zip(senders).collect();
        let p = params(&block.header);
        let mut out = Vec::with_capacity(txs.len());
        for (i, (tx, sender)) in txs.iter().enumerate() {
            let target = tx_env(tx, *sender).map_err(|e| error::server(e.to_string()))?;
            let parent = block.header.number.saturating_sub(1);
            let signed = Some(tx.clone());
            let trace = self.run(
                parent,
                &p,
                txs[..i].to_vec(),
                (target, signed),
                false,
                opts.clone(),
            )?;
            out.push(TraceResult::Success {
                result: trace,
                tx_hash: Some(*tx.tx_hash()),
            });
        }
        Ok(out)
    }
}

impl DebugApiServer for Debug {
    fn trace_transaction(
        &self,
        hash: B256,
        opts: Option<GethDebugTracingOptions>,
    ) -> RpcResult<GethTrace> {
        let store = self.0.chain.store();
        let loc = self.0.chain.tx_location(hash).map_err(error::chain)?;
        let loc = loc.ok_or_else(|| error::server(format!("transaction {hash} not found")))?;
        let block = store.block(loc.block_hash).map_err(error::storage)?;
        let block = block.ok_or_else(|| error::internal("indexed block missing"))?;
        let senders = store.senders(loc.block_hash).map_err(error::storage)?;
        let i = loc.index as usize;
        let txs: Vec<_> = block.transactions.iter().cloned().zip(senders).collect();
        let (tx, sender) = txs
            .get(i)
            .cloned()
            .ok_or_else(|| error::internal("indexed transaction missing"))?;
        let target = tx_env(&tx, sender).map_err(|e| error::server(e.to_string()))?;
        let parent = block.header.number.saturating_sub(1);
        self.run(
            parent,
            &params(&block.header),
            txs[..i].to_vec(),
            (target, Some(tx)),
            false,
            opts.unwrap_or_default(),
        )
    }

    fn trace_call(
        &self,
        Named(request): Named<TransactionRequest>,
        block: Option<BlockId>,
        opts: Option<GethDebugTracingCallOptions>,
    ) -> RpcResult<GethTrace> {
        let opts = opts.unwrap_or_default();
        if opts.state_overrides.is_some() || opts.block_overrides.is_some() {
            return Err(error::invalid_params(
                "state and block overrides are not supported",
            ));
        }
        let b = self.block(block.unwrap_or(BlockId::Number(BlockNumberOrTag::Latest)))?;
        let eth = crate::eth::Eth(self.0.clone());
        let target = eth.call_env(&request, b.header.gas_limit)?;
        self.run(
            b.header.number,
            &params(&b.header),
            vec![],
            (target, None),
            true,
            opts.tracing_options,
        )
    }

    fn trace_block_by_number(
        &self,
        number: BlockNumberOrTag,
        opts: Option<GethDebugTracingOptions>,
    ) -> RpcResult<Vec<TraceResult>> {
        self.trace_block(
            self.block(BlockId::Number(number))?,
            opts.unwrap_or_default(),
        )
    }

    fn trace_block_by_hash(
        &self,
        hash: B256,
        opts: Option<GethDebugTracingOptions>,
    ) -> RpcResult<Vec<TraceResult>> {
        self.trace_block(self.block(BlockId::from(hash))?, opts.unwrap_or_default())
    }

    fn get_raw_header(&self, block: BlockId) -> RpcResult<Bytes> {
        Ok(self.block(block)?.header.rlp().into())
    }

    fn get_raw_block(&self, block: BlockId) -> RpcResult<Bytes> {
        Ok(self.block(block)?.rlp().into())
    }

    fn get_raw_transaction(&self, hash: B256) -> RpcResult<Bytes> {
        let store = self.0.chain.store();
        if let Some(loc) = self.0.chain.tx_location(hash).map_err(error::chain)? {
            let block = store.block(loc.block_hash).map_err(error::storage)?;
            if let Some(tx) = block.and_then(|b| b.transactions.get(loc.index as usize).cloned()) {
                return Ok(tx.encoded_2718().into());
            }
        }
        let pool = self.0.chain.pool();
        pool.get(&hash)
            .map(|p| p.tx.encoded_2718().into())
            .ok_or_else(|| error::server(format!("transaction {hash} not found")))
    }

    fn get_raw_receipts(&self, block: BlockId) -> RpcResult<Vec<Bytes>> {
        let b = self.block(block)?;
        let receipts = self
            .0
            .chain
            .store()
            .receipts(b.hash())
            .map_err(error::storage)?
            .unwrap_or_default();
        Ok(receipts.iter().map(|r| r.encoded_2718().into()).collect())
    }
}
