//! The `mnr` namespace: Rootstock's merge-mining work protocol, byte for byte (PROTOCOL.md §2).
//! Refusals are JSON-RPC errors with code -33000 (error.rs maps them); failures of our own are
//! internal errors.

use crate::error::{mining, mining_chain};
use crate::RpcContext;
use alloy_primitives::{hex, B256};
use bitcoin::hashes::Hash;
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;
use scion_chain::Imported;
use scion_consensus::merge_mining::{coinbase_merkle_proof, compress_coinbase};
use scion_consensus::work::stripped;
use serde::Serialize;

/// mnr_getWork's answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkJson {
    /// What the coinbase must commit to.
    pub block_hash_for_merged_mining: B256,
    /// The largest Bitcoin header hash that seals the block, 32 bytes big-endian.
    pub target: B256,
    /// Fees the block pays its miner, in decimal wei.
    pub fees_paid_to_miner: String,
    /// New work the miner should switch to.
    pub notify: bool,
    /// The parent block's hash.
    pub parent_block_hash: B256,
}

/// The answer to every submit method.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmitJson {
    /// `0x` + hex of the ASCII result name (IMPORTED_BEST, …).
    pub block_imported_result: String,
    /// The Scion block's hash.
    pub block_hash: B256,
    /// Its height.
    pub block_included_height: String,
}

/// mnr_* methods.
#[rpc(server, namespace = "mnr")]
pub trait MnrApi {
    /// The current work.
    #[method(name = "getWork", blocking)]
    fn get_work(&self) -> RpcResult<WorkJson>;
    /// A whole serialized Bitcoin block whose coinbase (transaction 0) commits to a template.
    #[method(name = "submitBitcoinBlock", blocking)]
    fn submit_bitcoin_block(&self, block_hex: String) -> RpcResult<SubmitJson>;
    /// Header, coinbase and every txid (display order, space-separated, coinbase first).
    #[method(name = "submitBitcoinBlockTransactions", blocking)]
    fn submit_bitcoin_block_transactions(
        &self,
        block_hash_hex: String,
        header_hex: String,
        coinbase_hex: String,
        tx_hashes: String,
    ) -> RpcResult<SubmitJson>;
    /// Header, coinbase, and the coinbase txid then its merkle branch (internal order,
    /// space-separated).
    #[method(name = "submitBitcoinBlockPartialMerkle", blocking)]
    fn submit_bitcoin_block_partial_merkle(
        &self,
        block_hash_hex: String,
        header_hex: String,
        coinbase_hex: String,
        merkle_hashes: String,
        tx_count_hex: String,
    ) -> RpcResult<SubmitJson>;
}

fn unhex(what: &str, s: &str) -> RpcResult<Vec<u8>> {
    hex::decode(s.trim().trim_start_matches("0x"))
        .map_err(|e| mining(format!("{what} is not hex: {e}")))
}

fn hash32(what: &str, s: &str) -> RpcResult<[u8; 32]> {
    let b = unhex(what, s)?;
    b.try_into()
        .map_err(|b: Vec<u8>| mining(format!("{what} must be 32 bytes, found {}", b.len())))
}

fn header80(s: &str) -> RpcResult<Vec<u8>> {
    let h = unhex("bitcoin header", s)?;
    if h.len() != 80 {
        return Err(mining(format!(
            "bitcoin header must be 80 bytes, found {}",
            h.len()
        )));
    }
    Ok(h)
}

/// The coinbase as sent, re-serialized without witness, and its txid (internal order).
fn coinbase(s: &str) -> RpcResult<(Vec<u8>, [u8; 32])> {
    let raw = unhex("coinbase", s)?;
    let tx: bitcoin::Transaction = bitcoin::consensus::deserialize(&raw)
        .map_err(|e| mining(format!("coinbase is not a bitcoin transaction: {e}")))?;
    Ok((stripped(&tx), tx.compute_txid().to_byte_array()))
}

/// The mnr namespace.
pub struct Mnr(pub RpcContext);

impl Mnr {
    fn submit(&self, header: Vec<u8>, coinbase: Vec<u8>, proof: Vec<u8>) -> RpcResult<SubmitJson> {
        let cc = compress_coinbase(&coinbase).map_err(|e| mining(format!("coinbase: {e}")))?;
        let imported = self
            .0
            .chain
            .submit_solution(header, proof, cc)
            .map_err(mining_chain)?;
        Ok(result_json(&imported))
    }
}

fn result_json(i: &Imported) -> SubmitJson {
    SubmitJson {
        block_imported_result: format!("0x{}", hex::encode(i.result.name())),
        block_hash: i.hash,
        block_included_height: format!("{:#x}", i.number),
    }
}

impl MnrApiServer for Mnr {
    fn get_work(&self) -> RpcResult<WorkJson> {
        let w = self.0.chain.get_work().map_err(crate::error::chain)?;
        Ok(WorkJson {
            block_hash_for_merged_mining: w.hash_for_merged_mining,
            target: B256::from(w.target.to_be_bytes::<32>()),
            fees_paid_to_miner: w.fees.to_string(),
            notify: w.notify,
            parent_block_hash: w.parent,
        })
    }

    fn submit_bitcoin_block(&self, block_hex: String) -> RpcResult<SubmitJson> {
        let raw = unhex("bitcoin block", &block_hex)?;
        let block: bitcoin::Block = bitcoin::consensus::deserialize(&raw)
            .map_err(|e| mining(format!("not a bitcoin block: {e}")))?;
        let cb = block
            .txdata
            .first()
            .ok_or_else(|| mining("bitcoin block has no transactions"))?;
        let header = bitcoin::consensus::serialize(&block.header);
        let txids: Vec<[u8; 32]> = block
            .txdata
            .iter()
            .map(|t| t.compute_txid().to_byte_array())
            .collect();
        self.submit(header, stripped(cb), coinbase_merkle_proof(&txids))
    }

    fn submit_bitcoin_block_transactions(
        &self,
        _block_hash_hex: String,
        header_hex: String,
        coinbase_hex: String,
        tx_hashes: String,
    ) -> RpcResult<SubmitJson> {
        let header = header80(&header_hex)?;
        let (cb, txid) = coinbase(&coinbase_hex)?;
        let mut txids = Vec::new();
        for h in tx_hashes.split_whitespace() {
            let mut t = hash32("transaction hash", h)?;
            t.reverse(); // display → internal
            txids.push(t);
        }
        if txids.first() != Some(&txid) {
            return Err(mining(
                "the first transaction hash must be the coinbase's txid",
            ));
        }
        self.submit(header, cb, coinbase_merkle_proof(&txids))
    }

    fn submit_bitcoin_block_partial_merkle(
        &self,
        _block_hash_hex: String,
        header_hex: String,
        coinbase_hex: String,
        merkle_hashes: String,
        tx_count_hex: String,
    ) -> RpcResult<SubmitJson> {
        let header = header80(&header_hex)?;
        let (cb, txid) = coinbase(&coinbase_hex)?;
        u64::from_str_radix(tx_count_hex.trim().trim_start_matches("0x"), 16)
            .map_err(|e| mining(format!("transaction count is not hex: {e}")))?;
        let mut hashes = merkle_hashes.split_whitespace();
        let first = hashes
            .next()
            .ok_or_else(|| mining("merkle hashes are empty"))?;
        if hash32("merkle hash", first)? != txid {
            return Err(mining("the first merkle hash must be the coinbase's txid"));
        }
        let mut proof = Vec::new();
        for h in hashes {
            let mut b = hash32("merkle hash", h)?;
            b.reverse(); // internal → the display order RSKIP92 stores
            proof.extend_from_slice(&b);
        }
        self.submit(header, cb, proof)
    }
}
