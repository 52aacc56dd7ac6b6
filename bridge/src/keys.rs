//! Every key the Bridge stores a value under (store.rs turns a key into storage slots), with
//! the bytes of its value. Hashes and txids in keys are in internal byte order; numbers are
//! big-endian. Changing a key or a value layout changes the state root: it is consensus.

use alloy_primitives::B256;
use bitcoin::hashes::Hash;
use bitcoin::{BlockHash, Txid};

/// The best Bitcoin header's hash (32).
pub const BTC_BEST: &[u8] = b"btc.best";

/// `btc.h.<block hash>`: a stored header, `header (80) ‖ height (u32) ‖ chainwork (32)`.
pub fn btc_header(hash: &BlockHash) -> Vec<u8> {
    [b"btc.h.".as_slice(), hash.as_byte_array()].concat()
}

/// `btc.m.<height u32>`: the hash (32) of the best chain's header at that height.
pub fn btc_height(height: u32) -> Vec<u8> {
    [b"btc.m.".as_slice(), &height.to_be_bytes()].concat()
}

/// `tx.<txid>`: the Scion block (u64) a Bitcoin transaction was registered in.
pub fn processed(txid: &Txid) -> Vec<u8> {
    [b"tx.".as_slice(), txid.as_byte_array()].concat()
}

/// The number of federation UTXOs (u64).
pub const UTXO_COUNT: &[u8] = b"utxo.n";

/// `utxo.<index u64>`: a federation UTXO, `txid (32) ‖ vout (u32) ‖ satoshis (u64)`.
pub fn utxo(index: u64) -> Vec<u8> {
    [b"utxo.".as_slice(), &index.to_be_bytes()].concat()
}

/// The number of queue entries (u64).
pub const QUEUE_COUNT: &[u8] = b"queue.n";

/// `queue.<index u64>`: BTC owed, `reference (32) ‖ satoshis (u64) ‖ output script`.
pub fn queue_entry(index: u64) -> Vec<u8> {
    [b"queue.".as_slice(), &index.to_be_bytes()].concat()
}

/// Satoshis pegged in and not yet pegged out (u64).
pub const LOCKED: &[u8] = b"locked";

/// The Scion block (u64) from which the next peg-out batch may be made.
pub const PEGOUT_NEXT: &[u8] = b"po.next";

/// The Scion transaction hashes (32 each, oldest first) of the batches not yet signed.
pub const PEGOUT_LIST: &[u8] = b"po.list";

/// `po.b.<Scion transaction hash>`: a batch, `created (u64) ‖ confirmed (1) ‖ input count
/// (u16) ‖ input satoshis (u64 each) ‖ unsigned transaction`.
pub fn pegout_batch(hash: &B256) -> Vec<u8> {
    [b"po.b.".as_slice(), hash.as_slice()].concat()
}

/// `po.s.<Scion transaction hash><member index u8>`: one federator's signatures of a batch,
/// each `length (1) ‖ DER with sighash byte`.
pub fn pegout_signatures(hash: &B256, member: u8) -> Vec<u8> {
    [b"po.s.".as_slice(), hash.as_slice(), &[member]].concat()
}

/// `po.tx.<txid>`: the Scion block (u64) a peg-out transaction was made in, for every batch
/// ever made (its change is the federation's own money).
pub fn pegout_txid(txid: &Txid) -> Vec<u8> {
    [b"po.tx.".as_slice(), txid.as_byte_array()].concat()
}

/// The timestamp (u64) of the Scion block in which receiveHeader last added a header.
pub const RECEIVE_HEADER_LAST: &[u8] = b"rh.last";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_stored_bytes() {
        let h = BlockHash::from_byte_array([7; 32]);
        let t = Txid::from_byte_array([9; 32]);
        assert_eq!(btc_header(&h), [&b"btc.h."[..], &[7; 32]].concat());
        assert_eq!(btc_height(0x0102_0304), b"btc.m.\x01\x02\x03\x04");
        assert_eq!(processed(&t), [&b"tx."[..], &[9; 32]].concat());
        assert_eq!(utxo(1), b"utxo.\0\0\0\0\0\0\0\x01");
        assert_eq!(queue_entry(2), b"queue.\0\0\0\0\0\0\0\x02");
        let b = B256::repeat_byte(5);
        assert_eq!(pegout_batch(&b), [&b"po.b."[..], &[5; 32]].concat());
        assert_eq!(
            pegout_signatures(&b, 3),
            [&b"po.s."[..], &[5; 32], &[3]].concat()
        );
        assert_eq!(pegout_txid(&t), [&b"po.tx."[..], &[9; 32]].concat());
    }
}
