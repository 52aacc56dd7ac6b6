//! eth_getProof (EIP-1186 account and storage proofs against the head's state root) and
//! eth_createAccessList (the accounts and slots a call touches, found by running it).

use crate::eth::{Named, SlotKey};
use crate::{error, RpcContext};
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_rpc_types_eth::{
    AccessListResult, EIP1186AccountProofResponse, EIP1186StorageProof, TransactionRequest,
};
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;
use jsonrpsee::types::ErrorObjectOwned;
use scion_storage::StorageError;
use scion_types::Header;

/// Proofs and access lists.
#[rpc(server, namespace = "eth")]
pub trait EthProofApi {
    /// EIP-1186 account and storage proofs against the state root.
    #[method(name = "getProof", blocking)]
    fn get_proof(
        &self,
        address: Address,
        keys: Vec<SlotKey>,
        block: Option<BlockId>,
    ) -> RpcResult<EIP1186AccountProofResponse>;
    /// The access list a transaction would use, and its gas with that list.
    #[method(name = "createAccessList", blocking)]
    fn create_access_list(
        &self,
        request: Named<TransactionRequest>,
        block: Option<BlockId>,
    ) -> RpcResult<AccessListResult>;
}

/// Proofs and access lists over the shared context.
pub struct EthProof(pub RpcContext);

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

impl EthProof {
    fn eth(&self) -> crate::eth::Eth {
        crate::eth::Eth(self.0.clone())
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

impl EthProofApiServer for EthProof {
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
