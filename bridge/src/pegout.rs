//! Peg-out (PROTOCOL.md §3.3): release requests, the batch that pays the queue in one Bitcoin
//! transaction, its confirmation depth, the federators' signatures and the signed release.
//! Its storage keys (`po.*`) are in keys.rs.

use crate::abi::IBridge;
use crate::keys::{self, PEGOUT_LIST, PEGOUT_NEXT};
use crate::queue::{self, Entry, Reference, Utxo};
use crate::store::Store;
use crate::{len_u64, to_display, BridgeError, Config};
use alloy_primitives::{hex, Address, Bytes, B256, I256, U256};
use alloy_sol_types::SolEvent;
use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::{hash160, Hash};
use bitcoin::secp256k1::{ecdsa, Message, Secp256k1};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{
    absolute, transaction, Amount, OutPoint, PubkeyHash, ScriptBuf, Sequence, Transaction, TxIn,
    TxOut, Witness,
};
use scion_types::WEI_PER_SAT;
use std::num::Saturating;

/// The most federation outputs one peg-out transaction spends.
pub const MAX_INPUTS: usize = 50;
/// The largest peg-out transaction, in virtual bytes (Bitcoin's standard limit is 100,000).
pub const MAX_VSIZE: u64 = 100_000;
/// Outputs below this are dust: no recipient or change output is made smaller.
pub const DUST: Amount = Amount::from_sat(546);
/// The longest DER signature plus its sighash byte, for size estimates.
const MAX_SIG_LEN: u64 = 73;

/// Reasons of `release_request_rejected`.
mod reason {
    pub const LOW_AMOUNT: i64 = 1;
    pub const CALLER_CONTRACT: i64 = 2;
    pub const FEE_ABOVE_VALUE: i64 = 3;
}

fn revert(msg: impl Into<String>) -> BridgeError {
    BridgeError::Revert(msg.into())
}

fn corrupt(what: &str) -> BridgeError {
    BridgeError::Database(format!("corrupt Bridge {what}"))
}

fn int(v: i64) -> I256 {
    I256::try_from(v).unwrap_or_default()
}

fn varint_len(n: u64) -> u64 {
    match n {
        0..=0xfc => 1,
        0xfd..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// Virtual size of a fully signed peg-out spending `inputs` federation outputs to outputs with
/// these scripts, every signature counted at its longest. Saturates: a size past u64::MAX is
/// over [`MAX_VSIZE`] either way.
pub fn vsize(cfg: &Config, inputs: u64, outputs: &[ScriptBuf]) -> u64 {
    let sz = Saturating::<u64>;
    let varint = |v: Saturating<u64>| sz(varint_len(v.0));
    let script = sz(len_u64(cfg.federation.redeem_script.len()));
    let m = sz(len_u64(cfg.federation.threshold));
    let inputs = sz(inputs);
    // outpoint, scriptSig (a push of the 34-byte P2WSH program), sequence.
    let input = sz(36 + 1 + 35 + 4);
    let outs = outputs.iter().fold(sz(0), |sum, s| {
        let len = sz(len_u64(s.len()));
        sum + sz(8) + varint(len) + len
    });
    let base =
        sz(4) + varint(inputs) + inputs * input + varint(sz(len_u64(outputs.len()))) + outs + sz(4);
    // Items: the empty CHECKMULTISIG dummy, m signatures, the witness script.
    let witness_per_input =
        varint(m + sz(2)) + sz(1) + m * sz(1 + MAX_SIG_LEN) + varint(script) + script;
    let weight = sz(4) * base + sz(2) + inputs * witness_per_input;
    weight.0.div_ceil(4)
}

/// The fee of a peg-out paying `recipients` P2PKH outputs from two federation inputs with
/// change, at the genesis fee rate: what getEstimatedFeesForNextPegOutEvent shows and what a
/// request must exceed.
pub fn estimated_fee(cfg: &Config, recipients: u64) -> Amount {
    if recipients == 0 {
        return Amount::ZERO;
    }
    let Ok(recipients) = usize::try_from(recipients) else {
        // More outputs than memory holds: no fee is high enough.
        return Amount::MAX;
    };
    let p2pkh = ScriptBuf::new_p2pkh(&PubkeyHash::all_zeros());
    let mut outs = vec![p2pkh; recipients];
    outs.push(cfg.federation.script_pubkey.clone());
    fee_for(cfg, vsize(cfg, 2, &outs))
}

/// The fee for `vsize` at the genesis fee rate. Saturates: a fee past u64::MAX satoshis is
/// more than any peg-out can pay either way.
fn fee_for(cfg: &Config, vsize: u64) -> Amount {
    Amount::from_sat(vsize.saturating_mul(cfg.params.fee_per_kb).div_ceil(1000))
}

/// `releaseBtc()` or plain value sent to the Bridge: queue a peg-out to the P2PKH address of
/// the key that signed the transaction, or give the value back with a reason.
pub fn release(
    cfg: &Config,
    st: &mut Store,
    caller: Address,
    value: U256,
) -> Result<(), BridgeError> {
    // WEI_PER_SAT is a nonzero constant: the division cannot fail.
    let (sat, rest) = value.div_rem(U256::from(WEI_PER_SAT));
    let amount = Amount::from_sat(u64::try_from(sat).unwrap_or(u64::MAX));
    // The queue and this request; one more than a stored count cannot saturate.
    let recipients = queue::queued(st)?.saturating_add(1);
    let rejected = if caller != st.host().tx_origin() {
        Some(reason::CALLER_CONTRACT)
    } else if amount < Amount::from_sat(cfg.params.pegout_minimum) {
        Some(reason::LOW_AMOUNT)
    } else if amount <= estimated_fee(cfg, recipients) {
        Some(reason::FEE_ABOVE_VALUE)
    } else {
        None
    };
    if let Some(why) = rejected {
        st.host().pay(caller, value)?;
        st.host().log(
            IBridge::release_request_rejected {
                sender: caller,
                amount: U256::from(amount.to_sat()),
                reason: int(why),
            }
            .encode_log_data(),
        );
        return Ok(());
    }
    // Without a signature (eth_call, estimates) no key is known: a zero hash stands in.
    let hash = match st.host().tx_signer() {
        Some(key) => PubkeyHash::from_raw_hash(hash160::Hash::hash(&key)),
        None => PubkeyHash::all_zeros(),
    };
    let script = ScriptBuf::new_p2pkh(&hash);
    let destination = bitcoin::Address::from_script(&script, cfg.network)
        .map_err(|e| BridgeError::Database(format!("P2PKH address: {e}")))?;
    if !rest.is_zero() {
        // Less than a satoshi cannot leave: it goes back.
        st.host().pay(caller, rest)?;
    }
    let reference = Reference::Release(st.host().tx_hash());
    queue::push(st, reference, script, amount)?;
    let locked = queue::locked(st)?;
    queue::set_locked(st, locked.checked_sub(amount).unwrap_or(Amount::ZERO))?;
    st.host().log(
        IBridge::release_request_received {
            sender: caller,
            btcDestinationAddress: destination.to_string(),
            amount: U256::from(amount.to_sat()),
        }
        .encode_log_data(),
    );
    Ok(())
}

/// A batch made by updateCollections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The Scion block it was made in.
    pub created: u64,
    /// True once it is deep enough to be signed.
    pub confirmed: bool,
    /// The value of each input, in order (for BIP143 sighashes).
    pub amounts: Vec<Amount>,
    /// The unsigned transaction.
    pub tx: Transaction,
}

fn sig_key(hash: &B256, member: usize) -> Result<Vec<u8>, BridgeError> {
    // A federation has at most 15 members (Federation::new).
    let member = u8::try_from(member)
        .map_err(|_| BridgeError::Config(format!("federator index {member} above 255")))?;
    Ok(keys::pegout_signatures(hash, member))
}

fn load(st: &mut Store, hash: &B256) -> Result<Option<Batch>, BridgeError> {
    let Some(v) = st.get(&keys::pegout_batch(hash))? else {
        return Ok(None);
    };
    let bad = || corrupt("peg-out batch");
    let (created, rest) = v.split_first_chunk::<8>().ok_or_else(bad)?;
    let (confirmed, rest) = rest.split_first().ok_or_else(bad)?;
    let (n, rest) = rest.split_first_chunk::<2>().ok_or_else(bad)?;
    let (amounts, tx) = usize::from(u16::from_be_bytes(*n))
        .checked_mul(8)
        .and_then(|len| rest.split_at_checked(len))
        .ok_or_else(bad)?;
    let (amounts, _) = amounts.as_chunks::<8>();
    Ok(Some(Batch {
        created: u64::from_be_bytes(*created),
        confirmed: *confirmed == 1,
        amounts: amounts
            .iter()
            .map(|a| Amount::from_sat(u64::from_be_bytes(*a)))
            .collect(),
        tx: deserialize(tx).map_err(|_| bad())?,
    }))
}

fn save(st: &mut Store, hash: &B256, b: &Batch) -> Result<(), BridgeError> {
    let mut v = b.created.to_be_bytes().to_vec();
    v.push(u8::from(b.confirmed));
    let n = u16::try_from(b.amounts.len()).map_err(|_| {
        BridgeError::Database(format!(
            "a peg-out batch of {} inputs does not fit its record",
            b.amounts.len()
        ))
    })?;
    v.extend_from_slice(&n.to_be_bytes());
    for a in &b.amounts {
        v.extend_from_slice(&a.to_sat().to_be_bytes());
    }
    v.extend_from_slice(&serialize(&b.tx));
    st.put(&keys::pegout_batch(hash), &v)
}

fn list(st: &mut Store) -> Result<Vec<B256>, BridgeError> {
    let v = st.get(PEGOUT_LIST)?.unwrap_or_default();
    if !v.len().is_multiple_of(32) {
        return Err(corrupt("peg-out list"));
    }
    Ok(v.chunks(32).map(B256::from_slice).collect())
}

fn set_list(st: &mut Store, l: &[B256]) -> Result<(), BridgeError> {
    st.put(PEGOUT_LIST, &l.concat())
}

/// The block from which updateCollections makes the next batch.
pub fn next_height(cfg: &Config, st: &mut Store) -> Result<u64, BridgeError> {
    Ok(match st.get_u64(PEGOUT_NEXT)? {
        0 => cfg.params.pegout_interval,
        n => n,
    })
}

/// A batch as planned from the queue and the UTXO set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The unsigned transaction: one output per entry paid, then the change (if any).
    pub tx: Transaction,
    /// The value of each input.
    pub amounts: Vec<Amount>,
    /// Indexes of the queue entries paid.
    pub paid: Vec<usize>,
    /// Indexes of the UTXOs spent.
    pub spent: Vec<usize>,
    /// The fee the recipients pay together.
    pub fee: Amount,
}

/// Plans one transaction paying as much of the queue as the UTXO set covers, oldest entries
/// first, with the fewest of the largest UTXOs (at most [`MAX_INPUTS`]) and at most
/// [`MAX_VSIZE`]. An entry the inputs cannot cover waits and later ones may go ahead of it. The
/// fee at `feePerKb` is split evenly among the recipients; an entry whose output would be dust
/// after its share waits for a later batch.
pub fn plan(cfg: &Config, entries: &[Entry], utxos: &[Utxo]) -> Option<Plan> {
    // The UTXOs with their indexes, largest first.
    let mut order: Vec<(usize, &Utxo)> = utxos.iter().enumerate().collect();
    order.sort_by_key(|(_, u)| std::cmp::Reverse(u.value));
    order.truncate(MAX_INPUTS);
    // Sums saturate, so the plan counts in plain satoshis (Amount's arithmetic only checks).
    let dust = DUST.to_sat();
    // prefix[k]: the value of the k largest UTXOs.
    let mut prefix = vec![0u64];
    for (_, u) in &order {
        let last = prefix.last().copied().unwrap_or(0);
        prefix.push(last.saturating_add(u.value.to_sat()));
    }
    // The fewest inputs whose value reaches `total`, and the change they leave.
    let cover = |total: u64| {
        prefix
            .iter()
            .enumerate()
            .skip(1)
            .find_map(|(k, value)| Some((k, value.checked_sub(total)?)))
    };
    let fed = &cfg.federation.script_pubkey;
    let size = |inputs: usize, paid: &[(usize, &Entry)]| {
        let mut scripts: Vec<ScriptBuf> = paid.iter().map(|(_, e)| e.script.clone()).collect();
        scripts.push(fed.clone());
        vsize(cfg, len_u64(inputs), &scripts)
    };
    // The entries to pay, with their indexes in the queue. Their total saturates: a sum past
    // u64::MAX is more than any UTXO set covers, so it is never paid.
    let mut candidates: Vec<(usize, &Entry)> = Vec::new();
    let mut total = 0u64;
    for (i, e) in entries.iter().enumerate() {
        let t = total.saturating_add(e.amount.to_sat());
        let Some((k, _)) = cover(t) else { continue };
        candidates.push((i, e));
        if size(k, &candidates) > MAX_VSIZE {
            candidates.pop();
            break;
        }
        total = t;
    }
    loop {
        let (k, change) = cover(total)?;
        if candidates.is_empty() {
            return None;
        }
        let mut scripts: Vec<ScriptBuf> =
            candidates.iter().map(|(_, e)| e.script.clone()).collect();
        if change >= dust {
            scripts.push(fed.clone());
        }
        let fee = fee_for(cfg, vsize(cfg, len_u64(k), &scripts)).to_sat();
        // Not empty (checked above), so the division cannot fail.
        let share = fee.div_ceil(len_u64(candidates.len()));
        let before = candidates.len();
        candidates.retain(|(_, e)| e.amount.to_sat() >= share.saturating_add(dust));
        if candidates.len() != before {
            total = candidates
                .iter()
                .fold(0u64, |sum, (_, e)| sum.saturating_add(e.amount.to_sat()));
            continue;
        }
        let mut output: Vec<TxOut> = candidates
            .iter()
            .map(|(_, e)| TxOut {
                // Each kept entry has at least share + dust: no underflow.
                value: Amount::from_sat(e.amount.to_sat().saturating_sub(share)),
                script_pubkey: e.script.clone(),
            })
            .collect();
        if change >= dust {
            output.push(TxOut {
                value: Amount::from_sat(change),
                script_pubkey: fed.clone(),
            });
        }
        let program = ScriptBuf::new_p2wsh(&cfg.federation.redeem_script.wscript_hash());
        let script_sig = bitcoin::script::Builder::new()
            .push_slice(<&bitcoin::script::PushBytes>::try_from(program.as_bytes()).ok()?)
            .into_script();
        // k < prefix.len(), which is order.len() + 1.
        let spent = order.get(..k)?;
        let input = spent
            .iter()
            .map(|(_, u)| TxIn {
                previous_output: OutPoint::new(u.txid, u.vout),
                script_sig: script_sig.clone(),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            })
            .collect();
        let tx = Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::ZERO,
            input,
            output,
        };
        return Some(Plan {
            tx,
            amounts: spent.iter().map(|(_, u)| u.value).collect(),
            paid: candidates.iter().map(|(i, _)| *i).collect(),
            spent: spent.iter().map(|(i, _)| *i).collect(),
            // At most the total paid (each entry pays at least its share): no saturation.
            fee: Amount::from_sat(share.saturating_mul(len_u64(before))),
        });
    }
}

/// `updateCollections()`: confirms batches that are deep enough, then, once the block number
/// reaches the next peg-out height, batches the queue.
pub fn update_collections(
    cfg: &Config,
    st: &mut Store,
    caller: Address,
) -> Result<(), BridgeError> {
    st.host()
        .log(IBridge::update_collections { sender: caller }.encode_log_data());
    let now = st.host().block_number();
    for hash in list(st)? {
        let mut b = load(st, &hash)?.ok_or_else(|| corrupt("peg-out list entry"))?;
        if !b.confirmed && now >= b.created.saturating_add(cfg.params.pegout_confirmations) {
            b.confirmed = true;
            save(st, &hash, &b)?;
            st.host().log(
                IBridge::pegout_confirmed {
                    btcTxHash: to_display(&b.tx.compute_txid()),
                    pegoutCreationRskBlockNumber: U256::from(b.created),
                }
                .encode_log_data(),
            );
        }
    }
    if now < next_height(cfg, st)? || queue::queued(st)? == 0 {
        return Ok(());
    }
    let hash = st.host().tx_hash();
    if st.get(&keys::pegout_batch(&hash))?.is_some() {
        // One batch per transaction.
        return Ok(());
    }
    let entries = queue::entries(st)?;
    let utxos = queue::utxos(st)?;
    let Some(plan) = plan(cfg, &entries, &utxos) else {
        return Ok(());
    };
    let txid = plan.tx.compute_txid();
    let left: Vec<Entry> = entries
        .iter()
        .enumerate()
        .filter(|(i, _)| !plan.paid.contains(i))
        .map(|(_, e)| e.clone())
        .collect();
    let unspent: Vec<Utxo> = utxos
        .iter()
        .enumerate()
        .filter(|(i, _)| !plan.spent.contains(i))
        .map(|(_, u)| u.clone())
        .collect();
    let paid: Vec<&Entry> = plan
        .paid
        .iter()
        .map(|&i| entries.get(i))
        .collect::<Option<_>>()
        .ok_or_else(|| corrupt("peg-out plan"))?;
    let total = paid
        .iter()
        .try_fold(Amount::ZERO, |sum, e| sum.checked_add(e.amount))
        .ok_or_else(|| {
            BridgeError::Database(format!("peg-out {txid} pays more than u64::MAX satoshis"))
        })?;
    queue::set_entries(st, &left)?;
    queue::set_utxos(st, &unspent)?;
    queue::record_pegout(st, &txid, now)?;
    st.put_u64(
        PEGOUT_NEXT,
        now.saturating_add(cfg.params.pegout_interval.max(1)),
    )?;
    save(
        st,
        &hash,
        &Batch {
            created: now,
            confirmed: false,
            amounts: plan.amounts,
            tx: plan.tx,
        },
    )?;
    let mut l = list(st)?;
    l.push(hash);
    set_list(st, &l)?;
    let refs: Vec<u8> = paid.iter().flat_map(|e| e.reference.word().0).collect();
    st.host().log(
        IBridge::release_requested {
            rskTxHash: hash,
            btcTxHash: to_display(&txid),
            amount: U256::from(total.to_sat()),
        }
        .encode_log_data(),
    );
    st.host().log(
        IBridge::batch_pegout_created {
            btcTxHash: to_display(&txid),
            releaseRskTxHashes: refs.into(),
        }
        .encode_log_data(),
    );
    Ok(())
}

/// Batches waiting for signatures: (creating Scion transaction hash, batch), oldest first.
pub fn waiting(st: &mut Store) -> Result<Vec<(B256, Batch)>, BridgeError> {
    let mut out = Vec::new();
    for hash in list(st)? {
        let b = load(st, &hash)?.ok_or_else(|| corrupt("peg-out list entry"))?;
        if b.confirmed {
            out.push((hash, b));
        }
    }
    Ok(out)
}

/// getStateForBtcReleaseClient: `RLP([RLP([hash, unsigned tx, hash, unsigned tx, …])])` over
/// the batches waiting for signatures, as Rootstock's StateForFederator encodes it.
pub fn release_client_state(st: &mut Store) -> Result<Vec<u8>, BridgeError> {
    let mut items: Vec<Bytes> = Vec::new();
    for (hash, b) in waiting(st)? {
        items.push(Bytes::copy_from_slice(hash.as_slice()));
        items.push(serialize(&b.tx).into());
    }
    let inner = alloy_rlp::encode(&items);
    // A capacity hint: the list header is at most 9 bytes.
    let mut out = Vec::with_capacity(inner.len().saturating_add(9));
    alloy_rlp::Header {
        list: true,
        payload_length: inner.len(),
    }
    .encode(&mut out);
    out.extend_from_slice(&inner);
    Ok(out)
}

/// Parses a signature as Rootstock's federators send it (DER), or DER with SIGHASH_ALL.
fn parse_sig(raw: &[u8]) -> Option<ecdsa::Signature> {
    ecdsa::Signature::from_der(raw)
        .ok()
        .or_else(|| match raw.split_last() {
            Some((0x01, der)) => ecdsa::Signature::from_der(der).ok(),
            _ => None,
        })
}

/// `addSignature(fedBtcPubKey, sigs, rskTxHash)`: checks one signature per input against its
/// BIP143 sighash and stores them; at the threshold emits `release_btc` with the signed
/// transaction and forgets the batch.
pub fn add_signature(
    cfg: &Config,
    st: &mut Store,
    caller: Address,
    key: &[u8],
    sigs: &[Bytes],
    hash: &[u8],
) -> Result<(), BridgeError> {
    let fed = &cfg.federation;
    let (index, member) = fed
        .members
        .iter()
        .enumerate()
        .find(|(_, m)| m.btc.to_bytes() == key)
        .ok_or_else(|| {
            revert(format!(
                "0x{} is not a federator's BTC key",
                hex::encode(key)
            ))
        })?;
    if member.address != caller {
        return Err(revert(format!(
            "only {} may add signatures for BTC key 0x{}; the caller is {caller}",
            member.address,
            hex::encode(key)
        )));
    }
    let hash = B256::try_from(hash).map_err(|_| {
        revert(format!(
            "the transaction hash has {} bytes, not 32",
            hash.len()
        ))
    })?;
    let Some(batch) = load(st, &hash)?.filter(|b| b.confirmed) else {
        return Err(revert(format!(
            "no peg-out waits for signatures under {hash}"
        )));
    };
    if st.get(&sig_key(&hash, index)?)?.is_some() {
        return Err(revert(format!(
            "federator {} already signed the peg-out of {hash}",
            member.address
        )));
    }
    if sigs.len() != batch.tx.input.len() {
        return Err(revert(format!(
            "{} signatures for {} inputs",
            sigs.len(),
            batch.tx.input.len()
        )));
    }
    let secp = Secp256k1::verification_only();
    let mut cache = SighashCache::new(&batch.tx);
    let mut stored = Vec::new();
    for (i, raw) in sigs.iter().enumerate() {
        let sig = parse_sig(raw).ok_or_else(|| revert(format!("signature {i} is not DER")))?;
        let mut low = sig;
        low.normalize_s();
        if low != sig {
            return Err(revert(format!(
                "signature {i} has a high S (not canonical)"
            )));
        }
        let sighash = cache
            .p2wsh_signature_hash(
                i,
                &fed.redeem_script,
                *batch
                    .amounts
                    .get(i)
                    .ok_or_else(|| corrupt("peg-out batch amounts"))?,
                EcdsaSighashType::All,
            )
            .map_err(|e| BridgeError::Database(format!("sighash of input {i}: {e}")))?;
        let msg = Message::from_digest(sighash.to_byte_array());
        if secp.verify_ecdsa(&msg, &sig, &member.btc.inner).is_err() {
            return Err(revert(format!(
                "signature {i} does not verify for input {i} with key 0x{}",
                hex::encode(key)
            )));
        }
        let der = bitcoin::ecdsa::Signature::sighash_all(sig).to_vec();
        let len = u8::try_from(der.len()).map_err(|_| {
            BridgeError::Database(format!("signature {i} is {} bytes, over 255", der.len()))
        })?;
        stored.push(len);
        stored.extend_from_slice(&der);
    }
    st.put(&sig_key(&hash, index)?, &stored)?;
    st.host().log(
        IBridge::add_signature {
            releaseRskTxHash: hash,
            federatorRskAddress: caller,
            federatorBtcPublicKey: key.to_vec().into(),
        }
        .encode_log_data(),
    );
    let mut signers: Vec<Vec<Vec<u8>>> = Vec::new();
    for m in 0..fed.members.len() {
        if let Some(v) = st.get(&sig_key(&hash, m)?)? {
            signers.push(split_sigs(&v)?);
        }
    }
    if signers.len() < fed.threshold {
        return Ok(());
    }
    let mut tx = batch.tx.clone();
    for (i, input) in tx.input.iter_mut().enumerate() {
        let mut w = Witness::new();
        w.push([]);
        for s in signers.iter().take(fed.threshold) {
            w.push(s.get(i).ok_or_else(|| corrupt("peg-out signatures"))?);
        }
        w.push(fed.redeem_script.as_bytes());
        input.witness = w;
    }
    st.host().log(
        IBridge::release_btc {
            releaseRskTxHash: hash,
            btcRawTransaction: serialize(&tx).into(),
        }
        .encode_log_data(),
    );
    st.delete(&keys::pegout_batch(&hash))?;
    for m in 0..fed.members.len() {
        st.delete(&sig_key(&hash, m)?)?;
    }
    let l: Vec<B256> = list(st)?.into_iter().filter(|h| *h != hash).collect();
    set_list(st, &l)
}

fn split_sigs(mut v: &[u8]) -> Result<Vec<Vec<u8>>, BridgeError> {
    let mut out = Vec::new();
    while let Some((&len, rest)) = v.split_first() {
        let (sig, next) = rest
            .split_at_checked(usize::from(len))
            .ok_or_else(|| corrupt("peg-out signatures"))?;
        out.push(sig.to_vec());
        v = next;
    }
    Ok(out)
}
