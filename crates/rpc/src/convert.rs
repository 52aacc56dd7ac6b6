//! Stored blocks, transactions and receipts → their JSON-RPC shapes.

use alloy_consensus::{
    Receipt, ReceiptEnvelope, ReceiptWithBloom, Transaction as _, TxEnvelope, TxReceipt,
};
use alloy_primitives::{Address, Bloom, Bytes, B256, B64, U256, U64};
use alloy_rpc_types_eth::{Log, Transaction, TransactionReceipt};
use scion_types::{Block, Header};
use serde::Serialize;

/// A block as eth_getBlockBy* return it, with Scion's merged-mining fields added.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcBlock {
    /// Block hash.
    pub hash: B256,
    /// Parent hash.
    pub parent_hash: B256,
    /// Uncles hash.
    pub sha3_uncles: B256,
    /// Beneficiary.
    pub miner: Address,
    /// State root.
    pub state_root: B256,
    /// Transactions root.
    pub transactions_root: B256,
    /// Receipts root.
    pub receipts_root: B256,
    /// Logs bloom.
    pub logs_bloom: Bloom,
    /// Difficulty.
    pub difficulty: U256,
    /// Cumulative difficulty from genesis, uncles included.
    pub cumulative_difficulty: U256,
    /// The same, under the name Ethereum tools read.
    pub total_difficulty: U256,
    /// Height.
    pub number: U64,
    /// Gas limit.
    pub gas_limit: U64,
    /// Gas used.
    pub gas_used: U64,
    /// Timestamp.
    pub timestamp: U64,
    /// Extra data.
    pub extra_data: Bytes,
    /// Mix hash (PREVRANDAO).
    pub mix_hash: B256,
    /// Always zero: Bitcoin's header carries the proof of work.
    pub nonce: B64,
    /// Base fee.
    pub base_fee_per_gas: U64,
    /// Size of the block's RLP in bytes.
    pub size: U64,
    /// Hashes or full transactions.
    pub transactions: BlockTransactions,
    /// Uncle hashes.
    pub uncles: Vec<B256>,
    /// Hash the Bitcoin coinbase commits to.
    pub hash_for_merged_mining: B256,
    /// The 80-byte Bitcoin header.
    pub bitcoin_merged_mining_header: Bytes,
    /// The coinbase inclusion proof.
    pub bitcoin_merged_mining_merkle_proof: Bytes,
    /// The compressed coinbase.
    pub bitcoin_merged_mining_coinbase_transaction: Bytes,
}

/// A block's transactions, as hashes or in full.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum BlockTransactions {
    /// Hashes only.
    Hashes(Vec<B256>),
    /// Full objects.
    Full(Vec<Transaction>),
}

/// The JSON of a transaction at a position in a block.
pub fn rpc_tx(tx: TxEnvelope, sender: Address, header: &Header, index: usize) -> Transaction {
    let effective_gas_price = tx.effective_gas_price(Some(header.base_fee_per_gas));
    Transaction {
        inner: alloy_consensus::transaction::Recovered::new_unchecked(tx, sender),
        block_hash: Some(header.hash()),
        block_number: Some(header.number),
        transaction_index: Some(index as u64),
        effective_gas_price: Some(effective_gas_price),
        block_timestamp: Some(header.timestamp),
    }
}

/// The JSON of a pooled (not yet mined) transaction.
pub fn rpc_pending_tx(tx: TxEnvelope, sender: Address) -> Transaction {
    Transaction {
        inner: alloy_consensus::transaction::Recovered::new_unchecked(tx, sender),
        block_hash: None,
        block_number: None,
        transaction_index: None,
        effective_gas_price: None,
        block_timestamp: None,
    }
}

/// The JSON of a block.
pub fn rpc_block(block: Block, senders: &[Address], full: bool, td: U256) -> RpcBlock {
    let size = block.rlp().len() as u64;
    let h = &block.header;
    let hash = h.hash();
    let transactions = if full {
        let txs = block
            .transactions
            .iter()
            .cloned()
            .zip(
                senders
                    .iter()
                    .copied()
                    .chain(std::iter::repeat(Address::ZERO)),
            )
            .enumerate()
            .map(|(i, (tx, sender))| rpc_tx(tx, sender, h, i))
            .collect();
        BlockTransactions::Full(txs)
    } else {
        BlockTransactions::Hashes(block.transactions.iter().map(|t| *t.tx_hash()).collect())
    };
    RpcBlock {
        hash,
        parent_hash: h.parent_hash,
        sha3_uncles: h.ommers_hash,
        miner: h.beneficiary,
        state_root: h.state_root,
        transactions_root: h.transactions_root,
        receipts_root: h.receipts_root,
        logs_bloom: h.logs_bloom,
        difficulty: h.difficulty,
        cumulative_difficulty: td,
        total_difficulty: td,
        number: U64::from(h.number),
        gas_limit: U64::from(h.gas_limit),
        gas_used: U64::from(h.gas_used),
        timestamp: U64::from(h.timestamp),
        extra_data: h.extra_data.clone(),
        mix_hash: h.mix_hash,
        nonce: B64::ZERO,
        base_fee_per_gas: U64::from(h.base_fee_per_gas),
        size: U64::from(size),
        transactions,
        uncles: block.uncles.iter().map(Header::hash).collect(),
        hash_for_merged_mining: h.hash_for_merged_mining(),
        bitcoin_merged_mining_header: h.btc_header.clone(),
        bitcoin_merged_mining_merkle_proof: h.merkle_proof.clone(),
        bitcoin_merged_mining_coinbase_transaction: h.compressed_coinbase.clone(),
    }
}

/// The logs of one receipt with their block positions; `first_index` is the block-wide index
/// of its first log.
pub fn rpc_logs(
    receipt: &ReceiptEnvelope,
    header: &Header,
    tx_hash: B256,
    tx_index: usize,
    first_index: usize,
) -> Vec<Log> {
    receipt
        .logs()
        .iter()
        .enumerate()
        .map(|(i, l)| Log {
            inner: l.clone(),
            block_hash: Some(header.hash()),
            block_number: Some(header.number),
            block_timestamp: Some(header.timestamp),
            transaction_hash: Some(tx_hash),
            transaction_index: Some(tx_index as u64),
            log_index: Some((first_index + i) as u64),
            removed: false,
        })
        .collect()
}

/// The JSON of the receipt of transaction `index` in `block`.
pub fn rpc_receipt(
    block: &Block,
    senders: &[Address],
    receipts: &[ReceiptEnvelope],
    index: usize,
) -> Option<TransactionReceipt> {
    let h = &block.header;
    let tx = block.transactions.get(index)?;
    let receipt = receipts.get(index)?;
    let sender = senders.get(index).copied().unwrap_or_default();
    let prev_cumulative = index
        .checked_sub(1)
        .and_then(|i| receipts.get(i))
        .map(|r| r.cumulative_gas_used());
    let gas_used = receipt.cumulative_gas_used() - prev_cumulative.unwrap_or(0);
    let first_log: usize = receipts[..index].iter().map(|r| r.logs().len()).sum();
    let logs = rpc_logs(receipt, h, *tx.tx_hash(), index, first_log);
    let inner_receipt = Receipt {
        status: receipt.status_or_post_state(),
        cumulative_gas_used: receipt.cumulative_gas_used(),
        logs,
    };
    let with_bloom = ReceiptWithBloom {
        receipt: inner_receipt,
        logs_bloom: receipt.bloom(),
    };
    let inner = ReceiptEnvelope::from_typed(receipt.tx_type(), with_bloom);
    let contract_address = tx.kind().is_create().then(|| sender.create(tx.nonce()));
    Some(TransactionReceipt {
        inner,
        transaction_hash: *tx.tx_hash(),
        transaction_index: Some(index as u64),
        block_hash: Some(h.hash()),
        block_number: Some(h.number),
        gas_used,
        effective_gas_price: tx.effective_gas_price(Some(h.base_fee_per_gas)),
        blob_gas_used: None,
        blob_gas_price: None,
        from: sender,
        to: tx.to(),
        contract_address,
    })
}
