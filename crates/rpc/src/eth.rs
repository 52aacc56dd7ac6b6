//! The `eth` namespace's core: chain and account reads, calls and gas estimates, raw
//! transactions, blocks and transactions by hash or number, fee history, logs and node status.
//! The rest of the namespace: eth_blocks.rs (lookups inside a block), eth_proof.rs (proofs,
//! access lists), eth_sign.rs (dev-account signing), pubsub.rs (filters, subscriptions),
//! simulate.rs (eth_simulateV1).

use crate::convert::{rpc_block, rpc_logs, rpc_pending_tx, rpc_receipt, rpc_tx, RpcBlock};
use crate::{error, RpcContext};
use alloy_consensus::Transaction as _;
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, Bytes, TxKind, B256, U256, U64};
use alloy_rpc_types_eth::state::StateOverride;
use alloy_rpc_types_eth::{
    FeeHistory, Filter, FilterBlockOption, Log, SyncInfo, SyncStatus, Transaction,
    TransactionReceipt, TransactionRequest,
};
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;
use revm::context::TxEnv;
use scion_executor::{call, call_bounded, estimate_gas, gas_allowance, BlockParams, CallOutcome};
use scion_storage::StateDb;
use scion_types::Header;
use serde::{Deserialize, Deserializer};

/// Tip suggested by eth_maxPriorityFeePerGas (fees go to the miner, so any tip works).
pub const SUGGESTED_TIP: u64 = 1_000_000_000;
/// Most blocks one eth_feeHistory covers.
pub const MAX_FEE_HISTORY: u64 = 1024;

/// A u64 given as a JSON number or a hex quantity (web3.py sends numbers for block counts).
#[derive(Debug, Clone, Copy)]
pub struct Quantity(pub u64);

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(u64),
            Hex(U64),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Num(n) => Quantity(n),
            Raw::Hex(n) => Quantity(n.to()),
        })
    }
}

/// An object parameter whose parse errors name the offending field (`to: invalid type ...`).
#[derive(Debug, Clone)]
pub struct Named<T>(pub T);

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Named<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // One plain parse of the object's text; only a parse that fails pays for the tracked
        // one below (through a `Value`, as before), whose error names the field.
        let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
        if let Ok(v) = serde_json::from_str(raw.get()) {
            return Ok(Named(v));
        }
        let value: serde_json::Value =
            serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?;
        serde_path_to_error::deserialize(value)
            .map(Named)
            .map_err(|e| {
                let path = e.path().to_string();
                serde::de::Error::custom(format!("{path}: {}", e.into_inner()))
            })
    }
}

/// The storage slot key of eth_getStorageAt: any hex quantity up to 32 bytes.
#[derive(Debug, Clone, Copy)]
pub struct SlotKey(pub U256);

impl<'de> Deserialize<'de> for SlotKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let hex = s.strip_prefix("0x").unwrap_or(&s);
        if hex.is_empty() || hex.len() > 64 {
            return Err(serde::de::Error::custom(
                "storage slot must be 1 to 32 bytes of hex",
            ));
        }
        U256::from_str_radix(hex, 16)
            .map(SlotKey)
            .map_err(|e| serde::de::Error::custom(format!("storage slot: {e}")))
    }
}

/// eth_* methods. Point reads (balances, code, blocks, receipts: a few MDBX lookups) run on
/// the async workers; anything that executes or scans runs on the blocking pool.
#[rpc(server, namespace = "eth")]
pub trait EthApi {
    /// The chain id.
    #[method(name = "chainId")]
    fn chain_id(&self) -> RpcResult<U64>;
    /// The head's number.
    #[method(name = "blockNumber")]
    fn block_number(&self) -> RpcResult<U64>;
    /// Dev accounts the node can sign for.
    #[method(name = "accounts")]
    fn accounts(&self) -> RpcResult<Vec<Address>>;
    /// A gas price that gets into the next block.
    #[method(name = "gasPrice")]
    fn gas_price(&self) -> RpcResult<U256>;
    /// The suggested tip.
    #[method(name = "maxPriorityFeePerGas")]
    fn max_priority_fee_per_gas(&self) -> RpcResult<U256>;
    /// Balance at a block.
    #[method(name = "getBalance")]
    fn get_balance(&self, address: Address, block: Option<BlockId>) -> RpcResult<U256>;
    /// Nonce at a block, or including the pool with "pending".
    #[method(name = "getTransactionCount")]
    fn get_transaction_count(&self, address: Address, block: Option<BlockId>) -> RpcResult<U256>;
    /// Code at a block.
    #[method(name = "getCode")]
    fn get_code(&self, address: Address, block: Option<BlockId>) -> RpcResult<Bytes>;
    /// A storage slot at a block.
    #[method(name = "getStorageAt")]
    fn get_storage_at(
        &self,
        address: Address,
        slot: SlotKey,
        block: Option<BlockId>,
    ) -> RpcResult<B256>;
    /// Executes a call without a transaction.
    #[method(name = "call")]
    async fn call(
        &self,
        request: Named<TransactionRequest>,
        block: Option<BlockId>,
        state_overrides: Option<StateOverride>,
    ) -> RpcResult<Bytes>;
    /// The gas a transaction needs.
    #[method(name = "estimateGas", blocking)]
    fn estimate_gas(
        &self,
        request: Named<TransactionRequest>,
        block: Option<BlockId>,
    ) -> RpcResult<U64>;
    /// Submits a signed transaction.
    #[method(name = "sendRawTransaction", blocking)]
    fn send_raw_transaction(&self, raw: Bytes) -> RpcResult<B256>;
    /// A block by number or tag.
    #[method(name = "getBlockByNumber")]
    fn get_block_by_number(
        &self,
        number: BlockNumberOrTag,
        full: bool,
    ) -> RpcResult<Option<RpcBlock>>;
    /// A block by hash.
    #[method(name = "getBlockByHash")]
    fn get_block_by_hash(&self, hash: B256, full: bool) -> RpcResult<Option<RpcBlock>>;
    /// A transaction by hash, mined or pooled.
    #[method(name = "getTransactionByHash")]
    fn get_transaction_by_hash(&self, hash: B256) -> RpcResult<Option<Transaction>>;
    /// A mined transaction's receipt.
    #[method(name = "getTransactionReceipt")]
    fn get_transaction_receipt(&self, hash: B256) -> RpcResult<Option<TransactionReceipt>>;
    /// Base fees, gas ratios and tip percentiles of recent blocks.
    #[method(name = "feeHistory", blocking)]
    fn fee_history(
        &self,
        count: Quantity,
        newest: BlockNumberOrTag,
        percentiles: Option<Vec<f64>>,
    ) -> RpcResult<FeeHistory>;
    /// Logs matching a filter.
    #[method(name = "getLogs", blocking)]
    fn get_logs(&self, filter: Named<Filter>) -> RpcResult<Vec<Log>>;
    /// False, or geth's `{startingBlock, currentBlock, highestBlock}` while a sync runs.
    #[method(name = "syncing")]
    fn syncing(&self) -> RpcResult<SyncStatus>;
    /// The beneficiary of the blocks this node builds.
    #[method(name = "coinbase")]
    fn coinbase(&self) -> RpcResult<Address>;
    /// True when the node produces blocks (dev) or serves mining work.
    #[method(name = "mining")]
    fn mining(&self) -> RpcResult<bool>;
    /// Zero: the node does not hash; merge-miners do.
    #[method(name = "hashrate")]
    fn hashrate(&self) -> RpcResult<U64>;
}

/// The eth namespace over the shared context.
pub struct Eth(pub RpcContext);

impl Eth {
    /// The canonical header a block parameter names.
    pub(crate) fn resolve(&self, block: Option<BlockId>) -> RpcResult<Header> {
        let chain = &self.0.chain;
        let head = chain.head();
        let store = chain.store();
        let by_number = |n: u64| -> RpcResult<Header> {
            if n > head.number {
                return Err(error::server(format!(
                    "header not found: block {n} is beyond the head"
                )));
            }
            let hash = store.canonical_hash(n).map_err(error::storage)?;
            let hash = hash.ok_or_else(|| error::server("header not found"))?;
            store
                .header(hash)
                .map_err(error::storage)?
                .ok_or_else(|| error::server("header not found"))
        };
        match block.unwrap_or(BlockId::Number(BlockNumberOrTag::Latest)) {
            BlockId::Number(BlockNumberOrTag::Number(n)) => by_number(n),
            BlockId::Number(BlockNumberOrTag::Earliest) => by_number(0),
            BlockId::Number(_) => Ok(head),
            BlockId::Hash(h) => {
                let header = store
                    .header(h.block_hash)
                    .map_err(error::storage)?
                    .ok_or_else(|| {
                        error::server(format!("header for hash {} not found", h.block_hash))
                    })?;
                let canonical = store
                    .canonical_hash(header.number)
                    .map_err(error::storage)?;
                if canonical != Some(h.block_hash) {
                    return Err(error::server(format!(
                        "block {} is not on the canonical chain",
                        h.block_hash
                    )));
                }
                Ok(header)
            }
        }
    }

    fn state(&self, header: &Header) -> RpcResult<StateDb> {
        self.0
            .chain
            .store()
            .state_at(header.number)
            .map_err(error::storage)
    }

    /// The environment calls run in: the named block's own parameters.
    pub(crate) fn call_params(header: &Header) -> BlockParams {
        BlockParams::of(header)
    }

    /// A call request → a revm transaction.
    pub(crate) fn call_env(&self, req: &TransactionRequest, gas_limit: u64) -> RpcResult<TxEnv> {
        let data = req.input.input().cloned().unwrap_or_default();
        if let (Some(a), Some(b)) = (&req.input.input, &req.input.data) {
            if a != b {
                return Err(error::invalid_params(
                    "both \"data\" and \"input\" are set and not equal; please use \"input\"",
                ));
            }
        }
        let (tx_type, gas_price, tip) = match (req.gas_price, req.max_fee_per_gas) {
            (Some(_), Some(_)) => {
                return Err(error::invalid_params(
                    "both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified",
                ))
            }
            (Some(p), None) => (u8::from(req.access_list.is_some()), p, None),
            (None, Some(max)) => (2, max, req.max_priority_fee_per_gas),
            (None, None) => (u8::from(req.access_list.is_some()), 0, None),
        };
        let tx_type = if req.authorization_list.is_some() {
            4
        } else {
            tx_type
        };
        let authorization_list = req
            .authorization_list
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(either::Either::Left)
            .collect();
        Ok(TxEnv {
            tx_type,
            caller: req.from.unwrap_or_default(),
            gas_limit: req.gas.unwrap_or(gas_limit),
            gas_price,
            gas_priority_fee: tip,
            kind: req.to.unwrap_or(TxKind::Create),
            value: req.value.unwrap_or_default(),
            data,
            nonce: req.nonce.unwrap_or_default(),
            chain_id: Some(self.0.chain.chain_id()),
            access_list: req.access_list.clone().unwrap_or_default(),
            authorization_list,
            ..Default::default()
        })
    }

    fn block_json(&self, hash: B256, full: bool) -> RpcResult<Option<RpcBlock>> {
        let store = self.0.chain.store();
        let Some(block) = store.block(hash).map_err(error::storage)? else {
            return Ok(None);
        };
        let senders = if full {
            store.senders(hash).map_err(error::storage)?
        } else {
            vec![]
        };
        let info = store.block_info(hash).map_err(error::storage)?;
        let td = info.unwrap_or_default().total_difficulty;
        Ok(Some(rpc_block(block, &senders, full, td)))
    }
}

#[jsonrpsee::core::async_trait]
impl EthApiServer for Eth {
    fn syncing(&self) -> RpcResult<SyncStatus> {
        let Some(p) = self.0.net.as_ref().and_then(|n| n.syncing()) else {
            return Ok(SyncStatus::None);
        };
        Ok(SyncStatus::Info(Box::new(SyncInfo {
            starting_block: U256::from(p.starting_block),
            current_block: U256::from(p.current_block),
            highest_block: U256::from(p.highest_block),
            warp_chunks_amount: None,
            warp_chunks_processed: None,
            stages: None,
        })))
    }

    fn coinbase(&self) -> RpcResult<Address> {
        Ok(self.0.chain.spec().coinbase)
    }

    fn mining(&self) -> RpcResult<bool> {
        Ok(self.0.mining)
    }

    fn hashrate(&self) -> RpcResult<U64> {
        Ok(U64::ZERO)
    }

    fn chain_id(&self) -> RpcResult<U64> {
        Ok(U64::from(self.0.chain.chain_id()))
    }

    fn block_number(&self) -> RpcResult<U64> {
        Ok(U64::from(self.0.chain.head().number))
    }

    fn accounts(&self) -> RpcResult<Vec<Address>> {
        Ok(self.0.dev_signers.iter().map(|s| s.address()).collect())
    }

    fn gas_price(&self) -> RpcResult<U256> {
        // Next block's base fee with room for two full blocks of +12.5%, plus the tip.
        let base = u128::from(self.0.chain.next_base_fee());
        Ok(U256::from(base * 81 / 64 + u128::from(SUGGESTED_TIP)))
    }

    fn max_priority_fee_per_gas(&self) -> RpcResult<U256> {
        Ok(U256::from(SUGGESTED_TIP))
    }

    fn get_balance(&self, address: Address, block: Option<BlockId>) -> RpcResult<U256> {
        let h = self.resolve(block)?;
        let acc = self.state(&h)?.account(address).map_err(error::storage)?;
        Ok(acc.map(|a| a.balance).unwrap_or_default())
    }

    fn get_transaction_count(&self, address: Address, block: Option<BlockId>) -> RpcResult<U256> {
        let h = self.resolve(block)?;
        let acc = self.state(&h)?.account(address).map_err(error::storage)?;
        let nonce = acc.map(|a| a.nonce).unwrap_or_default();
        if matches!(block, Some(BlockId::Number(BlockNumberOrTag::Pending))) {
            return Ok(U256::from(
                self.0.chain.pool().pending_nonce(address, nonce),
            ));
        }
        Ok(U256::from(nonce))
    }

    fn get_code(&self, address: Address, block: Option<BlockId>) -> RpcResult<Bytes> {
        let h = self.resolve(block)?;
        let state = self.state(&h)?;
        let Some(acc) = state.account(address).map_err(error::storage)? else {
            return Ok(Bytes::new());
        };
        Ok(state.code(acc.code_hash).map_err(error::storage)?.into())
    }

    fn get_storage_at(
        &self,
        address: Address,
        slot: SlotKey,
        block: Option<BlockId>,
    ) -> RpcResult<B256> {
        let h = self.resolve(block)?;
        let v = self
            .state(&h)?
            .storage(address, slot.0)
            .map_err(error::storage)?;
        Ok(B256::from(v))
    }

    async fn call(
        &self,
        Named(request): Named<TransactionRequest>,
        block: Option<BlockId>,
        state_overrides: Option<StateOverride>,
    ) -> RpcResult<Bytes> {
        if state_overrides.is_some() {
            return Err(error::invalid_params("state overrides are not supported"));
        }
        let h = self.resolve(block)?;
        let state = self.state(&h)?;
        let tx = self.call_env(&request, h.gas_limit)?;
        let params = Self::call_params(&h);
        // Short calls (most views) finish here on the async worker; a call that outgrows the
        // budget runs again from the start on the blocking pool, on the same state.
        let bounded = call_bounded(&state, self.0.chain.exec(), &params, tx.clone());
        let outcome = match bounded.map_err(error::exec)? {
            Some(outcome) => outcome,
            None => {
                let ctx = self.0.clone();
                tokio::task::spawn_blocking(move || {
                    call(&state, ctx.chain.exec(), &params, tx, false)
                })
                .await
                .map_err(|e| error::server(format!("call task failed: {e}")))?
                .map_err(error::exec)?
            }
        };
        match outcome {
            CallOutcome::Success { output, .. } => Ok(output),
            CallOutcome::Revert { output, .. } => Err(error::revert(&output)),
            CallOutcome::Halt { reason, .. } => {
                Err(error::server(format!("execution halted: {reason}")))
            }
        }
    }

    fn estimate_gas(
        &self,
        Named(request): Named<TransactionRequest>,
        block: Option<BlockId>,
    ) -> RpcResult<U64> {
        let h = self.resolve(block)?;
        let state = self.state(&h)?;
        let tx = self.call_env(&request, h.gas_limit)?;
        let mut cap = request.gas.unwrap_or(u64::MAX);
        if tx.gas_price > 0 {
            let acc = state
                .account(tx.caller)
                .map_err(error::storage)?
                .unwrap_or_default();
            cap = cap.min(gas_allowance(acc.balance, tx.value, tx.gas_price));
        }
        let params = Self::call_params(&h);
        match estimate_gas(&state, self.0.chain.exec(), &params, tx, cap).map_err(error::exec)? {
            Ok(gas) => Ok(U64::from(gas)),
            Err(CallOutcome::Revert { output, .. }) => Err(error::revert(&output)),
            Err(other) => Err(error::server(format!(
                "gas required exceeds allowance ({cap}): {other:?}"
            ))),
        }
    }

    fn send_raw_transaction(&self, raw: Bytes) -> RpcResult<B256> {
        self.0.chain.submit_raw(&raw).map_err(error::chain)
    }

    fn get_block_by_number(
        &self,
        number: BlockNumberOrTag,
        full: bool,
    ) -> RpcResult<Option<RpcBlock>> {
        let n = match number {
            BlockNumberOrTag::Number(n) => n,
            BlockNumberOrTag::Earliest => 0,
            _ => self.0.chain.head().number,
        };
        match self.0.chain.canonical_hash(n).map_err(error::chain)? {
            Some(hash) => self.block_json(hash, full),
            None => Ok(None),
        }
    }

    fn get_block_by_hash(&self, hash: B256, full: bool) -> RpcResult<Option<RpcBlock>> {
        self.block_json(hash, full)
    }

    fn get_transaction_by_hash(&self, hash: B256) -> RpcResult<Option<Transaction>> {
        let store = self.0.chain.store();
        if let Some(loc) = self.0.chain.tx_location(hash).map_err(error::chain)? {
            let block = store.block(loc.block_hash).map_err(error::storage)?;
            let block = block.ok_or_else(|| error::internal("indexed block missing"))?;
            let senders = store.senders(loc.block_hash).map_err(error::storage)?;
            let i = loc.index as usize;
            let (Some(tx), Some(sender)) = (block.transactions.get(i), senders.get(i)) else {
                return Err(error::internal("indexed transaction missing"));
            };
            return Ok(Some(rpc_tx(tx.clone(), *sender, &block.header, i)));
        }
        let pool = self.0.chain.pool();
        Ok(pool
            .get(&hash)
            .map(|p| rpc_pending_tx(p.tx.clone(), p.sender)))
    }

    fn get_transaction_receipt(&self, hash: B256) -> RpcResult<Option<TransactionReceipt>> {
        let store = self.0.chain.store();
        let Some(loc) = self.0.chain.tx_location(hash).map_err(error::chain)? else {
            return Ok(None);
        };
        let data = self.0.blocks.get(store, loc.block_hash);
        let data = data
            .map_err(error::storage)?
            .ok_or_else(|| error::internal("indexed block missing"))?;
        Ok(rpc_receipt(
            &data.block,
            &data.senders,
            &data.receipts,
            loc.index as usize,
        ))
    }

    fn fee_history(
        &self,
        count: Quantity,
        newest: BlockNumberOrTag,
        percentiles: Option<Vec<f64>>,
    ) -> RpcResult<FeeHistory> {
        let percentiles = percentiles.unwrap_or_default();
        if percentiles.iter().any(|p| !(0.0..=100.0).contains(p))
            || percentiles.windows(2).any(|w| w[0] > w[1])
        {
            return Err(error::invalid_params(
                "reward percentiles must be ascending values in [0, 100]",
            ));
        }
        let head = self.0.chain.head();
        let newest = match newest {
            BlockNumberOrTag::Number(n) => n.min(head.number),
            BlockNumberOrTag::Earliest => 0,
            _ => head.number,
        };
        let count = count.0.min(MAX_FEE_HISTORY).min(newest + 1);
        let oldest = newest + 1 - count;
        let store = self.0.chain.store();
        let mut history = FeeHistory {
            oldest_block: oldest,
            ..Default::default()
        };
        let mut rewards = Vec::new();
        for n in oldest..=newest {
            let hash = store.canonical_hash(n).map_err(error::storage)?;
            let hash = hash.ok_or_else(|| error::internal("canonical hash missing"))?;
            let block = store.block(hash).map_err(error::storage)?;
            let block = block.ok_or_else(|| error::internal("canonical block missing"))?;
            let h = &block.header;
            history
                .base_fee_per_gas
                .push(u128::from(h.base_fee_per_gas));
            history
                .gas_used_ratio
                .push(h.gas_used as f64 / h.gas_limit.max(1) as f64);
            history.base_fee_per_blob_gas.push(0);
            history.blob_gas_used_ratio.push(0.0);
            if !percentiles.is_empty() {
                let receipts = store
                    .receipts(hash)
                    .map_err(error::storage)?
                    .unwrap_or_default();
                rewards.push(block_rewards(&block, &receipts, &percentiles));
            }
        }
        // The block after the newest, as Ethereum's feeHistory reports.
        let last = store.canonical_hash(newest).map_err(error::storage)?;
        let last = last.and_then(|h| store.header(h).ok().flatten());
        let next = last
            .map(|h| scion_consensus::next_base_fee(h.gas_used, h.gas_limit, h.base_fee_per_gas))
            .unwrap_or_default();
        history.base_fee_per_gas.push(u128::from(next));
        history.base_fee_per_blob_gas.push(0);
        if !percentiles.is_empty() {
            history.reward = Some(rewards);
        }
        Ok(history)
    }

    fn get_logs(&self, Named(filter): Named<Filter>) -> RpcResult<Vec<Log>> {
        let chain = &self.0.chain;
        let store = chain.store();
        let head = chain.head().number;
        let hashes: Vec<B256> = match filter.block_option {
            FilterBlockOption::AtBlockHash(hash) => {
                if store.header(hash).map_err(error::storage)?.is_none() {
                    return Err(error::server(format!("unknown block {hash}")));
                }
                vec![hash]
            }
            FilterBlockOption::Range {
                from_block,
                to_block,
            } => {
                let num = |b: Option<BlockNumberOrTag>| match b {
                    Some(BlockNumberOrTag::Number(n)) => n,
                    Some(BlockNumberOrTag::Earliest) => 0,
                    _ => head,
                };
                let (from, to) = (num(from_block), num(to_block).min(head));
                if from > to {
                    return Ok(vec![]);
                }
                let max_range = self.0.limits.max_log_range;
                if to - from >= max_range {
                    return Err(error::server(format!(
                        "block range too large: {} blocks, at most {max_range}",
                        to - from + 1
                    )));
                }
                let mut v = Vec::new();
                for n in from..=to {
                    if let Some(h) = store.canonical_hash(n).map_err(error::storage)? {
                        v.push(h);
                    }
                }
                v
            }
        };
        let mut out = Vec::new();
        for hash in hashes {
            let Some(header) = store.header(hash).map_err(error::storage)? else {
                continue;
            };
            if !filter.matches_bloom(header.logs_bloom) {
                continue;
            }
            let block = store.block(hash).map_err(error::storage)?;
            let block = block.ok_or_else(|| error::internal("block body missing"))?;
            let receipts = store
                .receipts(hash)
                .map_err(error::storage)?
                .unwrap_or_default();
            let mut first = 0;
            for (i, (tx, r)) in block.transactions.iter().zip(&receipts).enumerate() {
                for log in rpc_logs(r, &header, *tx.tx_hash(), i, first) {
                    if filter.matches(&log.inner) {
                        out.push(log);
                    }
                }
                first += r.logs().len();
            }
            let max_logs = self.0.limits.max_logs;
            if out.len() > max_logs {
                return Err(error::server(format!(
                    "query returned more than {max_logs} results; narrow the block range"
                )));
            }
        }
        Ok(out)
    }
}

/// Tip percentiles of a block, weighted by gas used, as geth computes them.
fn block_rewards(
    block: &scion_types::Block,
    receipts: &[alloy_consensus::ReceiptEnvelope],
    percentiles: &[f64],
) -> Vec<u128> {
    let base = block.header.base_fee_per_gas;
    let mut txs: Vec<(u128, u64)> = Vec::new();
    let mut prev = 0;
    for (tx, r) in block.transactions.iter().zip(receipts) {
        let used = r.cumulative_gas_used() - prev;
        prev = r.cumulative_gas_used();
        txs.push((tx.effective_tip_per_gas(base).unwrap_or(0), used));
    }
    if txs.is_empty() {
        return vec![0; percentiles.len()];
    }
    txs.sort_unstable();
    let total: u64 = txs.iter().map(|t| t.1).sum();
    let mut out = Vec::with_capacity(percentiles.len());
    let (mut i, mut sum) = (0, txs[0].1);
    for p in percentiles {
        let threshold = (total as f64 * p / 100.0) as u64;
        while sum < threshold && i + 1 < txs.len() {
            i += 1;
            sum += txs[i].1;
        }
        out.push(txs[i].0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Named;
    use alloy_rpc_types_eth::TransactionRequest;

    fn parse(params: &str) -> Result<TransactionRequest, String> {
        let params = jsonrpsee::types::Params::new(Some(params));
        let mut seq = params.sequence();
        seq.next::<Named<TransactionRequest>>()
            .map(|Named(t)| t)
            .map_err(|e| e.data().map(|d| d.get().to_string()).unwrap_or_default())
    }

    #[test]
    fn call_objects_parse_as_before_and_errors_name_the_field() {
        let obj = r#"{"from":"0x00000000000000000000000000000000000000aa","to":"0x00000000000000000000000000000000000000bb","data":"0x70a08231","gas":"0x5208"}"#;
        let direct: TransactionRequest = serde_json::from_str(obj).unwrap();
        assert_eq!(parse(&format!("[{obj}]")).unwrap(), direct);
        assert_eq!(direct.gas, Some(21_000));
        // A key given twice: the last one counts, as when the object went through a Value.
        let twice =
            r#"[{"to":"0x00000000000000000000000000000000000000bb","gas":"0x1","gas":"0x2"}]"#;
        assert_eq!(parse(twice).unwrap().gas, Some(2));
        let e = parse(r#"[{"to":5}]"#).unwrap_err();
        assert!(e.contains("to: invalid type"), "{e}");
    }
}
