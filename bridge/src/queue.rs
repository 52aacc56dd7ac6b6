//! The federation's UTXO set, the queue of BTC owed (peg-out requests and peg-in refunds) and
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
            .ok_or_else(|| corrupt("UTXO"))?;
        let txid = Txid::from_slice(&v[..32]).map_err(|_| corrupt("UTXO"))?;
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

/// The whole queue, oldest first.
pub fn entries(st: &mut Store) -> Result<Vec<Entry>, BridgeError> {
    let n = st.get_u64(QUEUE_COUNT)?;
    let mut out = Vec::new();
    for i in 0..n {
        let v = st
            .get(&indexed(b"queue.", i))?
            .filter(|v| v.len() >= 40)
            .ok_or_else(|| corrupt("queue entry"))?;
        let mut sat = [0u8; 8];
        sat.copy_from_slice(&v[32..40]);
        out.push(Entry {
            reference: B256::from_slice(&v[..32]),
            sat: u64::from_be_bytes(sat),
            script: ScriptBuf::from_bytes(v[40..].to_vec()),
        });
    }
    Ok(out)
}

/// Replaces the queue with `entries`.
pub fn set_entries(st: &mut Store, entries: &[Entry]) -> Result<(), BridgeError> {
    let old = st.get_u64(QUEUE_COUNT)?;
    for (i, e) in entries.iter().enumerate() {
        let mut v = e.reference.to_vec();
        v.extend_from_slice(&e.sat.to_be_bytes());
        v.extend_from_slice(e.script.as_bytes());
        st.put(&indexed(b"queue.", i as u64), &v)?;
    }
    for i in entries.len() as u64..old {
        st.delete(&indexed(b"queue.", i))?;
    }
    st.put_u64(QUEUE_COUNT, entries.len() as u64)
}

/// Replaces the UTXO set with `utxos`.
pub fn set_utxos(st: &mut Store, utxos: &[Utxo]) -> Result<(), BridgeError> {
    let old = st.get_u64(UTXO_COUNT)?;
    st.put_u64(UTXO_COUNT, 0)?;
    for u in utxos {
        add_utxo(st, u.txid, u.vout, u.value)?;
    }
    for i in utxos.len() as u64..old {
        st.delete(&indexed(b"utxo.", i))?;
    }
    Ok(())
}
