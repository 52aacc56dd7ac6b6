//! The federation's money in Bridge storage: its UTXO set, the peg-out transactions it made
//! (whose change comes back to it), the queue of BTC owed (peg-out requests and peg-in refunds)
//! and the amount pegged in. pegin.rs and pegout.rs both go through here.

use crate::keys::{self, LOCKED, QUEUE_COUNT, UTXO_COUNT};
use crate::store::Store;
use crate::{len_u64, BridgeError};
use alloy_primitives::B256;
use bitcoin::hashes::Hash;
use bitcoin::{ScriptBuf, Txid};

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
    st.put(&keys::utxo(n), &v)?;
    st.put_u64(UTXO_COUNT, next_count(n, "UTXO count")?)
}

/// `n + 1` for a stored count.
fn next_count(n: u64, what: &str) -> Result<u64, BridgeError> {
    n.checked_add(1)
        .ok_or_else(|| BridgeError::Database(format!("Bridge {what} {n} cannot grow")))
}

/// txid (32) ‖ vout (4) ‖ value (8).
fn decode_utxo(v: &[u8]) -> Option<Utxo> {
    let (txid, rest) = v.split_first_chunk::<32>()?;
    let (vout, value) = rest.split_first_chunk::<4>()?;
    Some(Utxo {
        txid: Txid::from_byte_array(*txid),
        vout: u32::from_be_bytes(*vout),
        value: u64::from_be_bytes(value.try_into().ok()?),
    })
}

/// The whole UTXO set, in insertion order.
pub fn utxos(st: &mut Store) -> Result<Vec<Utxo>, BridgeError> {
    let n = st.get_u64(UTXO_COUNT)?;
    let mut out = Vec::new();
    for i in 0..n {
        let utxo = st
            .get(&keys::utxo(i))?
            .and_then(|v| decode_utxo(&v))
            .ok_or_else(|| corrupt("UTXO"))?;
        out.push(utxo);
    }
    Ok(out)
}

/// Queues BTC owed to `script`: a refund of a rejected peg-in (keyed by its display txid) or a
/// peg-out request (keyed by its Scion transaction hash).
pub fn push(
    st: &mut Store,
    reference: B256,
    script: ScriptBuf,
    sat: u64,
) -> Result<(), BridgeError> {
    let n = st.get_u64(QUEUE_COUNT)?;
    let mut v = reference.to_vec();
    v.extend_from_slice(&sat.to_be_bytes());
    v.extend_from_slice(script.as_bytes());
    st.put(&keys::queue_entry(n), &v)?;
    st.put_u64(QUEUE_COUNT, next_count(n, "queue length")?)
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

/// An entry of the queue: BTC owed to `script`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What it pays back: the Scion transaction of a peg-out request, or the display txid of a
    /// refunded peg-in.
    pub reference: B256,
    /// Satoshis owed (before the Bitcoin fee).
    pub sat: u64,
    /// The output script to pay.
    pub script: ScriptBuf,
}

fn corrupt(what: &str) -> BridgeError {
    BridgeError::Database(format!("corrupt Bridge {what}"))
}

/// reference (32) ‖ sat (8) ‖ script.
fn decode_entry(v: &[u8]) -> Option<Entry> {
    let (reference, rest) = v.split_first_chunk::<32>()?;
    let (sat, script) = rest.split_first_chunk::<8>()?;
    Some(Entry {
        reference: B256::new(*reference),
        sat: u64::from_be_bytes(*sat),
        script: ScriptBuf::from_bytes(script.to_vec()),
    })
}

/// The whole queue, oldest first.
pub fn entries(st: &mut Store) -> Result<Vec<Entry>, BridgeError> {
    let n = st.get_u64(QUEUE_COUNT)?;
    let mut out = Vec::new();
    for i in 0..n {
        let entry = st
            .get(&keys::queue_entry(i))?
            .and_then(|v| decode_entry(&v))
            .ok_or_else(|| corrupt("queue entry"))?;
        out.push(entry);
    }
    Ok(out)
}

/// Replaces the queue with `entries`.
pub fn set_entries(st: &mut Store, entries: &[Entry]) -> Result<(), BridgeError> {
    let old = st.get_u64(QUEUE_COUNT)?;
    for (e, i) in entries.iter().zip(0u64..) {
        let mut v = e.reference.to_vec();
        v.extend_from_slice(&e.sat.to_be_bytes());
        v.extend_from_slice(e.script.as_bytes());
        st.put(&keys::queue_entry(i), &v)?;
    }
    for i in len_u64(entries.len())..old {
        st.delete(&keys::queue_entry(i))?;
    }
    st.put_u64(QUEUE_COUNT, len_u64(entries.len()))
}

/// Replaces the UTXO set with `utxos`.
pub fn set_utxos(st: &mut Store, utxos: &[Utxo]) -> Result<(), BridgeError> {
    let old = st.get_u64(UTXO_COUNT)?;
    st.put_u64(UTXO_COUNT, 0)?;
    for u in utxos {
        add_utxo(st, u.txid, u.vout, u.value)?;
    }
    for i in len_u64(utxos.len())..old {
        st.delete(&keys::utxo(i))?;
    }
    Ok(())
}

/// Records `txid` as a peg-out the Bridge made in Scion block `number`.
pub fn record_pegout(st: &mut Store, txid: &Txid, number: u64) -> Result<(), BridgeError> {
    st.put_u64(&keys::pegout_txid(txid), number)
}

/// True when `txid` is a peg-out the Bridge made (its change is the federation's own money).
pub fn is_pegout(st: &mut Store, txid: &Txid) -> Result<bool, BridgeError> {
    Ok(st.get(&keys::pegout_txid(txid))?.is_some())
}
