//! The federation's money in Bridge storage: its UTXO set, the peg-out transactions it made
//! (whose change comes back to it), the queue of BTC owed (peg-out requests and peg-in refunds)
//! and the amount pegged in. pegin.rs and pegout.rs both go through here.

use crate::keys::{self, LOCKED, QUEUE_COUNT, UTXO_COUNT};
use crate::store::Store;
use crate::{from_display, len_u64, to_display, BridgeError};
use alloy_primitives::B256;
use bitcoin::hashes::Hash;
use bitcoin::{Amount, ScriptBuf, Txid};

/// A federation output the Bridge can spend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utxo {
    /// Transaction id (internal order).
    pub txid: Txid,
    /// Output index.
    pub vout: u32,
    /// Its value.
    pub value: Amount,
}

/// Adds a federation output to the set.
pub fn add_utxo(st: &mut Store, txid: Txid, vout: u32, value: Amount) -> Result<(), BridgeError> {
    let n = st.get_u64(UTXO_COUNT)?;
    let mut v = txid.to_byte_array().to_vec();
    v.extend_from_slice(&vout.to_be_bytes());
    v.extend_from_slice(&value.to_sat().to_be_bytes());
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
        value: Amount::from_sat(u64::from_be_bytes(value.try_into().ok()?)),
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

/// What a queue entry pays back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    /// A peg-out request: the Scion transaction that called releaseBtc.
    Release(B256),
    /// A refund of a rejected peg-in: its Bitcoin transaction.
    Refund(Txid),
}

impl Reference {
    /// The 32 bytes stored for it, and listed in `batch_pegout_created`'s
    /// `releaseRskTxHashes`: a Scion hash as it is, a txid in display order.
    pub fn word(&self) -> B256 {
        match self {
            Self::Release(hash) => *hash,
            Self::Refund(txid) => to_display(txid),
        }
    }

    /// Reads a stored word back. Storage keeps no tag, so a word is a refund exactly when the
    /// txid it shows was registered (refunds are queued only after their transaction is
    /// recorded as processed; a Scion transaction hash that reads as a registered txid would
    /// need a hash collision).
    fn from_word(st: &mut Store, word: B256) -> Result<Self, BridgeError> {
        let txid: Txid = from_display(word);
        Ok(match st.get(&keys::processed(&txid))? {
            Some(_) => Self::Refund(txid),
            None => Self::Release(word),
        })
    }
}

/// Queues `amount` owed to `script` for `reference`.
pub fn push(
    st: &mut Store,
    reference: Reference,
    script: ScriptBuf,
    amount: Amount,
) -> Result<(), BridgeError> {
    let n = st.get_u64(QUEUE_COUNT)?;
    let entry = Entry {
        reference,
        amount,
        script,
    };
    st.put(&keys::queue_entry(n), &entry.encode())?;
    st.put_u64(QUEUE_COUNT, next_count(n, "queue length")?)
}

/// Entries waiting in the queue.
pub fn queued(st: &mut Store) -> Result<u64, BridgeError> {
    st.get_u64(QUEUE_COUNT)
}

/// BTC pegged in and not yet pegged out (what the locking cap bounds).
pub fn locked(st: &mut Store) -> Result<Amount, BridgeError> {
    st.get_u64(LOCKED).map(Amount::from_sat)
}

/// Sets the pegged-in total.
pub fn set_locked(st: &mut Store, amount: Amount) -> Result<(), BridgeError> {
    st.put_u64(LOCKED, amount.to_sat())
}

/// An entry of the queue: BTC owed to `script`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What it pays back.
    pub reference: Reference,
    /// What is owed (before the Bitcoin fee).
    pub amount: Amount,
    /// The output script to pay.
    pub script: ScriptBuf,
}

impl Entry {
    /// reference (32) ‖ satoshis (8) ‖ script.
    fn encode(&self) -> Vec<u8> {
        let mut v = self.reference.word().to_vec();
        v.extend_from_slice(&self.amount.to_sat().to_be_bytes());
        v.extend_from_slice(self.script.as_bytes());
        v
    }

    fn decode(st: &mut Store, v: &[u8]) -> Result<Self, BridgeError> {
        let bad = || corrupt("queue entry");
        let (word, rest) = v.split_first_chunk::<32>().ok_or_else(bad)?;
        let (sat, script) = rest.split_first_chunk::<8>().ok_or_else(bad)?;
        Ok(Entry {
            reference: Reference::from_word(st, B256::new(*word))?,
            amount: Amount::from_sat(u64::from_be_bytes(*sat)),
            script: ScriptBuf::from_bytes(script.to_vec()),
        })
    }
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
            .get(&keys::queue_entry(i))?
            .ok_or_else(|| corrupt("queue entry"))?;
        out.push(Entry::decode(st, &v)?);
    }
    Ok(out)
}

/// Replaces the queue with `entries`.
pub fn set_entries(st: &mut Store, entries: &[Entry]) -> Result<(), BridgeError> {
    let old = st.get_u64(QUEUE_COUNT)?;
    for (e, i) in entries.iter().zip(0u64..) {
        st.put(&keys::queue_entry(i), &e.encode())?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemHost;

    #[test]
    fn references_read_back_as_what_was_queued() {
        let mut h = MemHost::default();
        let mut st = Store::new(&mut h);
        let txid = Txid::from_byte_array([3; 32]);
        // A refund is queued only after its transaction is recorded as processed.
        st.put_u64(&keys::processed(&txid), 7).unwrap();
        let script = ScriptBuf::new();
        let release = Reference::Release(B256::repeat_byte(9));
        let refund = Reference::Refund(txid);
        push(&mut st, release, script.clone(), Amount::from_sat(1)).unwrap();
        push(&mut st, refund, script, Amount::from_sat(2)).unwrap();
        let got: Vec<(Reference, Amount)> = entries(&mut st)
            .unwrap()
            .into_iter()
            .map(|e| (e.reference, e.amount))
            .collect();
        assert_eq!(
            got,
            vec![
                (release, Amount::from_sat(1)),
                (refund, Amount::from_sat(2))
            ]
        );
        // What is stored and listed: the hash as it is, the txid in display order.
        assert_eq!(refund.word(), B256::repeat_byte(3));
        let mut shown = [3u8; 32];
        shown[0] = 1;
        let odd = Txid::from_byte_array(shown);
        assert_eq!(Reference::Refund(odd).word().0[31], 1);
    }
}
