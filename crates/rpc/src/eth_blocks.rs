//! eth_* lookups inside a block: its receipts, and its transactions and uncles counted or
//! taken by index, by block hash or number.

use crate::convert::{rpc_block, rpc_receipt, rpc_tx, RpcBlock};
use crate::{error, RpcContext};
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{B256, U256, U64};
use alloy_rpc_types_eth::{Transaction, TransactionReceipt};
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;
use scion_types::Block;

/// Block receipts, and transactions and uncles by index.
#[rpc(server, namespace = "eth")]
pub trait EthBlocksApi {
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
}

/// The block lookups over the shared context.
pub struct EthBlocks(pub RpcContext);

impl EthBlocks {
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
}

impl EthBlocksApiServer for EthBlocks {
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
}
