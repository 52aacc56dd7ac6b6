//! The rest of the `eth` namespace: block and uncle lookups by index, block receipts,
//! eth_getProof, node status, and signing with the dev accounts.

use crate::convert::{rpc_block, rpc_receipt, rpc_tx, RpcBlock};
use crate::eth::{EthApiServer, Named, SlotKey, SUGGESTED_TIP};
use crate::{error, RpcContext};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, Bytes, TxKind, B256, U256, U64};
use alloy_rpc_types_eth::{
    AccessListResult, EIP1186AccountProofResponse, EIP1186StorageProof, Transaction,
    TransactionReceipt, TransactionRequest,
};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;
use jsonrpsee::types::ErrorObjectOwned;
use scion_storage::StorageError;
use scion_types::{Block, Header};

/// More eth_* methods.
#[rpc(server, namespace = "eth")]
pub trait EthExtApi {
    /// Every receipt of a block.
    #[method(name = "getBlockReceipts", blocking)]
    fn get_block_receipts(&self, block: BlockId) -> RpcResult<Option<Vec<TransactionReceipt>>>;
    /// Transaction count of a block by hash.
    #[method(name = "getBlockTransactionCountByHash", blocking)]
    fn get_block_transaction_count_by_hash(&self, hash: B256) -> RpcResult<Option<U64>>;
    /// Transaction count of a block by number.
    #[method(name = "getBlockTransactionCountByNumber", blocking)]
    fn get_block_transaction_count_by_number(
        &self,
        number: BlockNumberOrTag,
    ) -> RpcResult<Option<U64>>;
    /// A transaction by block hash and index.
    #[method(name = "getTransactionByBlockHashAndIndex", blocking)]
    fn get_transaction_by_block_hash_and_index(
        &self,
        hash: B256,
        index: U64,
    ) -> RpcResult<Option<Transaction>>;
    /// A transaction by block number and index.
    #[method(name = "getTransactionByBlockNumberAndIndex", blocking)]
    fn get_transaction_by_block_number_and_index(
        &self,
        number: BlockNumberOrTag,
        index: U64,
    ) -> RpcResult<Option<Transaction>>;
    /// Uncle count of a block by hash.
    #[method(name = "getUncleCountByBlockHash", blocking)]
    fn get_uncle_count_by_block_hash(&self, hash: B256) -> RpcResult<Option<U64>>;
    /// Uncle count of a block by number.
    #[method(name = "getUncleCountByBlockNumber", blocking)]
    fn get_uncle_count_by_block_number(&self, number: BlockNumberOrTag) -> RpcResult<Option<U64>>;
    /// An uncle by block hash and index (a header, no transactions).
    #[method(name = "getUncleByBlockHashAndIndex", blocking)]
    fn get_uncle_by_block_hash_and_index(
        &self,
        hash: B256,
        index: U64,
    ) -> RpcResult<Option<RpcBlock>>;
    /// An uncle by block number and index.
    #[method(name = "getUncleByBlockNumberAndIndex", blocking)]
    fn get_uncle_by_block_number_and_index(
        &self,
        number: BlockNumberOrTag,
        index: U64,
    ) -> RpcResult<Option<RpcBlock>>;
    /// False, or geth's `{startingBlock, currentBlock, highestBlock}` while a sync runs.
    #[method(name = "syncing")]
    fn syncing(&self) -> RpcResult<alloy_rpc_types_eth::SyncStatus>;
    /// The beneficiary of the blocks this node builds.
    #[method(name = "coinbase")]
    fn coinbase(&self) -> RpcResult<Address>;
    /// True when the node produces blocks (dev) or serves mining work.
    #[method(name = "mining")]
    fn mining(&self) -> RpcResult<bool>;
    /// Zero: the node does not hash; merge-miners do.
    #[method(name = "hashrate")]
    fn hashrate(&self) -> RpcResult<U64>;
    /// EIP-1186 account and storage proofs against the state root.
    #[method(name = "getProof", blocking)]
    fn get_proof(
        &self,
        address: Address,
        keys: Vec<SlotKey>,
        block: Option<BlockId>,
    ) -> RpcResult<EIP1186AccountProofResponse>;
    /// EIP-191 signature by a dev account.
    #[method(name = "sign")]
    fn sign(&self, address: Address, message: Bytes) -> RpcResult<Bytes>;
    /// Fills and signs a transaction with a dev account; returns the raw transaction.
    #[method(name = "signTransaction", blocking)]
    fn sign_transaction(&self, request: Named<TransactionRequest>) -> RpcResult<Bytes>;
    /// Fills, signs with a dev account, and submits a transaction.
    #[method(name = "sendTransaction", blocking)]
    fn send_transaction(&self, request: Named<TransactionRequest>) -> RpcResult<B256>;
    /// The access list a transaction would use, and its gas with that list.
    #[method(name = "createAccessList", blocking)]
    fn create_access_list(
        &self,
        request: Named<TransactionRequest>,
        block: Option<BlockId>,
    ) -> RpcResult<AccessListResult>;
}

/// The extra eth methods over the shared context.
pub struct EthExt(pub RpcContext);

/// Why one attempt at a proof failed.
enum ProofError {
    /// A block was committed meanwhile; the proof is read again.
    HeadMoved,
    /// Any other failure, as the client gets it.
    Rpc(ErrorObjectOwned),
}

impl From<ErrorObjectOwned> for ProofError {
    fn from(e: ErrorObjectOwned) -> Self {
        ProofError::Rpc(e)
    }
}

impl EthExt {
    fn eth(&self) -> crate::eth::Eth {
        crate::eth::Eth(self.0.clone())
    }

    fn by_hash(&self, hash: B256) -> RpcResult<Option<Block>> {
        self.0.chain.store().block(hash).map_err(error::storage)
    }

    fn by_number(&self, number: BlockNumberOrTag) -> RpcResult<Option<Block>> {
        let n = match number {
            BlockNumberOrTag::Number(n) => n,
            BlockNumberOrTag::Earliest => 0,
            _ => self.0.chain.head().number,
        };
        match self.0.chain.canonical_hash(n).map_err(error::chain)? {
            Some(h) => self.by_hash(h),
            None => Ok(None),
        }
    }

    fn tx_at(&self, block: Option<Block>, index: U64) -> RpcResult<Option<Transaction>> {
        let Some(block) = block else { return Ok(None) };
        let i = index.to::<usize>();
        let senders = self
            .0
            .chain
            .store()
            .senders(block.hash())
            .map_err(error::storage)?;
        let (Some(tx), Some(sender)) = (block.transactions.get(i), senders.get(i)) else {
            return Ok(None);
        };
        Ok(Some(rpc_tx(tx.clone(), *sender, &block.header, i)))
    }

    fn uncle_at(&self, block: Option<Block>, index: U64) -> RpcResult<Option<RpcBlock>> {
        let Some(block) = block else { return Ok(None) };
        let Some(uncle) = block.uncles.get(index.to::<usize>()) else {
            return Ok(None);
        };
        let uncle = Block {
            header: uncle.clone(),
            transactions: vec![],
            uncles: vec![],
        };
        Ok(Some(rpc_block(uncle, &[], false, U256::ZERO)))
    }

    fn impersonated(&self, address: Address) -> bool {
        self.0
            .dev
            .as_ref()
            .is_some_and(|d| d.impersonated.lock().contains(&address))
    }

    fn signer(&self, address: Address) -> RpcResult<&PrivateKeySigner> {
        self.0
            .dev_signers
            .iter()
            .find(|s| s.address() == address)
            .ok_or_else(|| {
                error::server(format!(
                    "unknown account {address}: the node holds only the dev accounts"
                ))
            })
    }

    /// Fills nonce, gas, fees and chain id as a wallet would, then signs with a dev key.
    fn fill_and_sign(&self, mut req: TransactionRequest) -> RpcResult<TxEnvelope> {
        let from = req
            .from
            .ok_or_else(|| error::invalid_params("from: missing"))?;
        // An impersonated account has no key: its transaction carries a placeholder signature
        // and the pool takes the sender as given.
        let signer = if self.impersonated(from) {
            None
        } else {
            Some(self.signer(from)?)
        };
        let chain = &self.0.chain;
        let chain_id = chain.chain_id();
        if let Some(id) = req.chain_id {
            if id != chain_id {
                return Err(error::server(format!(
                    "invalid chain id for signer: have {id} want {chain_id}"
                )));
            }
        }
        let nonce = match req.nonce {
            Some(n) => n,
            None => {
                let state = chain.state_nonce(from).map_err(error::chain)?;
                chain.pool().pending_nonce(from, state)
            }
        };
        req.nonce = Some(nonce);
        let gas = match req.gas {
            Some(g) => g,
            None => self
                .eth()
                .estimate_gas(Named(req.clone()), None)?
                .to::<u64>(),
        };
        let to = req.to.unwrap_or(TxKind::Create);
        let value = req.value.unwrap_or_default();
        let input = req.input.input().cloned().unwrap_or_default();
        let next_base = u128::from(chain.next_base_fee());
        let signed = |tx: &dyn SignableHash| -> RpcResult<alloy_primitives::Signature> {
            match signer {
                Some(k) => k.sign_hash_sync(&tx.hash()).map_err(error::internal),
                None => Ok(alloy_primitives::Signature::test_signature()),
            }
        };
        let env = match (req.gas_price, req.access_list.clone()) {
            (Some(gas_price), None) => {
                let tx = TxLegacy {
                    chain_id: Some(chain_id),
                    nonce,
                    gas_price,
                    gas_limit: gas,
                    to,
                    value,
                    input,
                };
                let sig = signed(&tx)?;
                TxEnvelope::from(tx.into_signed(sig))
            }
            (Some(gas_price), Some(access_list)) => {
                let tx = TxEip2930 {
                    chain_id,
                    nonce,
                    gas_price,
                    gas_limit: gas,
                    to,
                    value,
                    access_list,
                    input,
                };
                let sig = signed(&tx)?;
                TxEnvelope::from(tx.into_signed(sig))
            }
            (None, access_list) => {
                let tip = req
                    .max_priority_fee_per_gas
                    .unwrap_or(u128::from(SUGGESTED_TIP));
                let max_fee = req.max_fee_per_gas.unwrap_or(next_base * 2 + tip);
                let tx = TxEip1559 {
                    chain_id,
                    nonce,
                    gas_limit: gas,
                    max_fee_per_gas: max_fee,
                    max_priority_fee_per_gas: tip.min(max_fee),
                    to,
                    value,
                    access_list: access_list.unwrap_or_default(),
                    input,
                };
                let sig = signed(&tx)?;
                TxEnvelope::from(tx.into_signed(sig))
            }
        };
        Ok(env)
    }

    /// One attempt at eth_getProof on the latest read snapshot.
    fn proof_once(
        &self,
        address: Address,
        keys: &[SlotKey],
        block: Option<BlockId>,
    ) -> Result<EIP1186AccountProofResponse, ProofError> {
        let chain = &self.0.chain;
        let head: Header = chain.head();
        let wanted = match block.unwrap_or(BlockId::Number(BlockNumberOrTag::Latest)) {
            BlockId::Hash(h) => h.block_hash,
            BlockId::Number(BlockNumberOrTag::Number(n)) => chain
                .canonical_hash(n)
                .map_err(error::chain)?
                .unwrap_or_default(),
            BlockId::Number(BlockNumberOrTag::Earliest) => chain
                .store()
                .canonical_hash(0)
                .map_err(error::storage)?
                .unwrap_or_default(),
            BlockId::Number(_) => head.hash(),
        };
        // One read snapshot for the head check, the values and the proofs.
        let state = chain.store().state_at(u64::MAX).map_err(error::storage)?;
        if wanted != state.head_hash().map_err(error::storage)? {
            return Err(error::server("proofs are served for the latest block only").into());
        }
        let account = state
            .account(address)
            .map_err(error::storage)?
            .unwrap_or_default();
        let account_proof = match state.account_proof(address) {
            Err(StorageError::HeadMoved) => return Err(ProofError::HeadMoved),
            r => r.map_err(error::storage)?,
        };
        let mut storage_proof = Vec::new();
        for k in keys {
            let k = *k;
            let slot = B256::from(k.0);
            storage_proof.push(EIP1186StorageProof {
                key: alloy_serde::JsonStorageKey::Hash(slot),
                value: state.storage(address, k.0).map_err(error::storage)?,
                proof: state
                    .storage_proof(address, slot)
                    .map_err(error::storage)?
                    .into_iter()
                    .map(Bytes::from)
                    .collect(),
            });
        }
        Ok(EIP1186AccountProofResponse {
            address,
            balance: account.balance,
            code_hash: account.code_hash,
            nonce: account.nonce,
            storage_hash: account.storage_root,
            account_proof: account_proof.into_iter().map(Bytes::from).collect(),
            storage_proof,
        })
    }
}

/// A transaction's signing hash, whatever its type.
trait SignableHash {
    fn hash(&self) -> B256;
}

impl<T: SignableTransaction<alloy_primitives::Signature>> SignableHash for T {
    fn hash(&self) -> B256 {
        self.signature_hash()
    }
}

impl EthExtApiServer for EthExt {
    fn get_block_receipts(&self, block: BlockId) -> RpcResult<Option<Vec<TransactionReceipt>>> {
        let b = match block {
            BlockId::Hash(h) => self.by_hash(h.block_hash)?,
            BlockId::Number(n) => self.by_number(n)?,
        };
        let Some(b) = b else { return Ok(None) };
        let store = self.0.chain.store();
        let senders = store.senders(b.hash()).map_err(error::storage)?;
        let receipts = store
            .receipts(b.hash())
            .map_err(error::storage)?
            .unwrap_or_default();
        Ok(Some(
            (0..b.transactions.len())
                .filter_map(|i| rpc_receipt(&b, &senders, &receipts, i))
                .collect(),
        ))
    }

    fn get_block_transaction_count_by_hash(&self, hash: B256) -> RpcResult<Option<U64>> {
        Ok(self.by_hash(hash)?.map(|b| U64::from(b.transactions.len())))
    }

    fn get_block_transaction_count_by_number(
        &self,
        number: BlockNumberOrTag,
    ) -> RpcResult<Option<U64>> {
        Ok(self
            .by_number(number)?
            .map(|b| U64::from(b.transactions.len())))
    }

    fn get_transaction_by_block_hash_and_index(
        &self,
        hash: B256,
        index: U64,
    ) -> RpcResult<Option<Transaction>> {
        self.tx_at(self.by_hash(hash)?, index)
    }

    fn get_transaction_by_block_number_and_index(
        &self,
        number: BlockNumberOrTag,
        index: U64,
    ) -> RpcResult<Option<Transaction>> {
        self.tx_at(self.by_number(number)?, index)
    }

    fn get_uncle_count_by_block_hash(&self, hash: B256) -> RpcResult<Option<U64>> {
        Ok(self.by_hash(hash)?.map(|b| U64::from(b.uncles.len())))
    }

    fn get_uncle_count_by_block_number(&self, number: BlockNumberOrTag) -> RpcResult<Option<U64>> {
        Ok(self.by_number(number)?.map(|b| U64::from(b.uncles.len())))
    }

    fn get_uncle_by_block_hash_and_index(
        &self,
        hash: B256,
        index: U64,
    ) -> RpcResult<Option<RpcBlock>> {
        self.uncle_at(self.by_hash(hash)?, index)
    }

    fn get_uncle_by_block_number_and_index(
        &self,
        number: BlockNumberOrTag,
        index: U64,
    ) -> RpcResult<Option<RpcBlock>> {
        self.uncle_at(self.by_number(number)?, index)
    }

    fn syncing(&self) -> RpcResult<alloy_rpc_types_eth::SyncStatus> {
        use alloy_rpc_types_eth::{SyncInfo, SyncStatus};
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

    fn get_proof(
        &self,
        address: Address,
        keys: Vec<SlotKey>,
        block: Option<BlockId>,
    ) -> RpcResult<EIP1186AccountProofResponse> {
        // The account trie is read at the head in memory; a block committed between the read
        // snapshot and the proof makes the proof read again, on the new head.
        for _ in 0..3 {
            match self.proof_once(address, &keys, block) {
                Err(ProofError::HeadMoved) => continue,
                Err(ProofError::Rpc(e)) => return Err(e),
                Ok(p) => return Ok(p),
            }
        }
        Err(error::server(
            "the head kept moving while the proof was read; try again",
        ))
    }

    fn sign(&self, address: Address, message: Bytes) -> RpcResult<Bytes> {
        let sig = self
            .signer(address)?
            .sign_message_sync(&message)
            .map_err(error::internal)?;
        Ok(Bytes::from(sig.as_bytes().to_vec()))
    }

    fn sign_transaction(&self, Named(request): Named<TransactionRequest>) -> RpcResult<Bytes> {
        self.signer(request.from.unwrap_or_default())?;
        Ok(self.fill_and_sign(request)?.encoded_2718().into())
    }

    fn send_transaction(&self, Named(request): Named<TransactionRequest>) -> RpcResult<B256> {
        let from = request.from.unwrap_or_default();
        let tx = self.fill_and_sign(request)?;
        let hash = if self.impersonated(from) {
            self.0
                .chain
                .submit_impersonated(tx, from)
                .map_err(error::chain)?
        } else {
            self.0
                .chain
                .submit_raw(&tx.encoded_2718())
                .map_err(error::chain)?
        };
        Ok(hash)
    }

    fn create_access_list(
        &self,
        Named(request): Named<TransactionRequest>,
        block: Option<BlockId>,
    ) -> RpcResult<AccessListResult> {
        let eth = self.eth();
        let header = eth.resolve(block)?;
        let params = crate::eth::Eth::call_params(&header);
        let exec = self.0.chain.exec().clone();
        let mut list = request.access_list.clone().unwrap_or_default();
        // As geth: run with the list so far until the list stops changing (it converges fast:
        // a new entry only changes gas, not which slots are touched, unless code branches on gas).
        for _ in 0..8 {
            let mut req = request.clone();
            req.access_list = Some(list.clone());
            let env = eth.call_env(&req, header.gas_limit)?;
            let state = self
                .0
                .chain
                .store()
                .state_at(header.number)
                .map_err(error::storage)?;
            let inspector = revm_inspectors::access_list::AccessListInspector::new(list.clone());
            let t =
                scion_executor::trace(state, &exec, &params, vec![], (env, None), true, inspector)
                    .map_err(error::exec)?;
            let found = t.inspector.into_access_list();
            if found == list {
                let error = match &t.result.result {
                    revm::context::result::ExecutionResult::Success { .. } => None,
                    revm::context::result::ExecutionResult::Revert { output, .. } => {
                        Some(error::revert(output).message().to_string())
                    }
                    revm::context::result::ExecutionResult::Halt { reason, .. } => {
                        Some(format!("{reason:?}"))
                    }
                };
                let gas_used = U256::from(t.result.result.tx_gas_used());
                return Ok(AccessListResult {
                    access_list: found,
                    gas_used,
                    error,
                });
            }
            list = found;
        }
        Err(error::server("access list did not settle after 8 rounds"))
    }
}
