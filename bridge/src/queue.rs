//! The federation's UTXO set, the queue of BTC owed back (refunds now, peg-outs with #5) and
//! the amount pegged in, kept in Bridge storage.

use crate::store::Store;
use crate::BridgeError;
use alloy_primitives::B256;
use bitcoin::hashes::Hash;
use bitcoin::{ScriptBuf, Txid};

const UTXO_COUNT: &[u8] = b"utxo.n";
const QUEUE_COUNT: &[u8] = b"queue.n";
const LOCKED: &[u8] = b"locked";

fn indexed(prefix: &[u8], i: u64) -> Vec<u8> {
    [prefix, &i.to_be_bytes()].concat()
}

/// A federation output the Bridge can spend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utxo {
    /// Transaction id (internal order).
    pub txid: Txid,
    /// Output index.
    pub vout: u32,
    /// Value in satoshis.
    pub value: u64,
}

/// Adds a federation output to the set.
pub fn add_utxo(st: &mut Store, txid: Txid, vout: u32, value: u64) -> Result<(), BridgeError> {
    let n = st.get_u64(UTXO_COUNT)?;
    let mut v = txid.to_byte_array().to_vec();
    v.extend_from_slice(&vout.to_be_bytes());
    v.extend_from_slice(&value.to_be_bytes());
    st.put(&indexed(b"utxo.", n), &v)?;
    st.put_u64(UTXO_COUNT, n + 1)
}

/// The whole UTXO set, in insertion order.
pub fn utxos(st: &mut Store) -> Result<Vec<Utxo>, BridgeError> {
    let n = st.get_u64(UTXO_COUNT)?;
    let mut out = Vec::new();
    for i in 0..n {
        let v = st
            .get(&indexed(b"utxo.", i))?
            .filter(|v| v.len() == 44)
            .ok_or_else(|| BridgeError::Database("corrupt Bridge UTXO".into()))?;
        let txid = Txid::from_slice(&v[..32])
            .map_err(|_| BridgeError::Database("corrupt Bridge UTXO".into()))?;
        let vout = u32::from_be_bytes([v[32], v[33], v[34], v[35]]);
        let mut value = [0u8; 8];
        value.copy_from_slice(&v[36..44]);
        out.push(Utxo {
            txid,
            vout,
            value: u64::from_be_bytes(value),
        });
    }
    Ok(out)
}

/// Queues BTC owed to `script` (a refund of a rejected peg-in, keyed by its display txid).
pub fn push_refund(
    st: &mut Store,
    reference: B256,
    script: ScriptBuf,
    sat: u64,
) -> Result<(), BridgeError> {
    let n = st.get_u64(QUEUE_COUNT)?;
    let mut v = reference.to_vec();
    v.extend_from_slice(&sat.to_be_bytes());
    v.extend_from_slice(script.as_bytes());
    st.put(&indexed(b"queue.", n), &v)?;
    st.put_u64(QUEUE_COUNT, n + 1)
}

/// Entries waiting in the queue.
pub fn queued(st: &mut Store) -> Result<u64, BridgeError> {
    st.get_u64(QUEUE_COUNT)
}

/// Satoshis pegged in and not yet pegged out (what the locking cap bounds).
pub fn locked_sat(st: &mut Store) -> Result<u64, BridgeError> {
    st.get_u64(LOCKED)
}

/// Sets the pegged-in total.
pub fn set_locked_sat(st: &mut Store, sat: u64) -> Result<(), BridgeError> {
    st.put_u64(LOCKED, sat)
}
