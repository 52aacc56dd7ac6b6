//! Peg-in: `registerBtcTransaction` (PROTOCOL.md §3.2), the RSKT payload (RSKIP170) and the
//! sender rules for input 0.

use crate::abi::IBridge;
use crate::config::rsk_address;
use crate::headers::Chain;
use crate::queue::{self, Reference};
use crate::store::Store;
use crate::{keys, to_display, BridgeError, Config};
use alloy_primitives::{Address, I256};
use alloy_sol_types::SolEvent;
use bitcoin::blockdata::script::Instruction;
use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::Hash;
use bitcoin::merkle_tree::PartialMerkleTree;
use bitcoin::opcodes::all::{OP_CHECKMULTISIG, OP_RETURN};
use bitcoin::{Amount, PublicKey, Script, ScriptBuf, Transaction, Txid};
use scion_types::sat_to_wei;

/// How input 0 was signed (rskj's `BtcLockSender` rules, in its order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// scriptSig `<sig> <pubkey>`.
    P2pkh(PublicKey),
    /// scriptSig `<0014‖hash160(key)>`, witness `<sig> <key>`.
    P2shP2wpkh(PublicKey),
    /// scriptSig ends with a multisig redeem script.
    P2shMultisig(ScriptBuf),
    /// Witness ends with a multisig witness script; scriptSig pushes its P2WSH program.
    P2shP2wsh(ScriptBuf),
}

impl Sender {
    /// The Scion address the sender's key maps to (none for multisig).
    pub fn rsk_address(&self) -> Option<Address> {
        match self {
            Self::P2pkh(k) | Self::P2shP2wpkh(k) => Some(rsk_address(k)),
            _ => None,
        }
    }

    /// The output script that pays the sender back.
    pub fn refund_script(&self) -> ScriptBuf {
        match self {
            Self::P2pkh(k) => ScriptBuf::new_p2pkh(&k.pubkey_hash()),
            Self::P2shP2wpkh(k) => {
                let program = ScriptBuf::new_p2wpkh(&bitcoin::WPubkeyHash::hash(&k.to_bytes()));
                ScriptBuf::new_p2sh(&program.script_hash())
            }
            Self::P2shMultisig(redeem) => ScriptBuf::new_p2sh(&redeem.script_hash()),
            Self::P2shP2wsh(witness) => {
                let program = ScriptBuf::new_p2wsh(&witness.wscript_hash());
                ScriptBuf::new_p2sh(&program.script_hash())
            }
        }
    }
}

fn pushes(script: &Script) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for ins in script.instructions() {
        match ins.ok()? {
            Instruction::PushBytes(b) => out.push(b.as_bytes().to_vec()),
            Instruction::Op(op) => {
                // OP_0 and OP_1..OP_16 count as chunks too.
                if op.to_u8() == 0 {
                    out.push(Vec::new());
                } else {
                    out.push(vec![small_int(op.to_u8())?]);
                }
            }
        }
    }
    Some(out)
}

/// The number OP_1..OP_16 pushes, or `None` for any other opcode.
fn small_int(op: u8) -> Option<u8> {
    op.checked_sub(0x50).filter(|n| (1..=16).contains(n))
}

fn is_multisig(script: &[u8]) -> bool {
    let s = Script::from_bytes(script);
    let Ok(ops) = s.instructions().collect::<Result<Vec<_>, _>>() else {
        return false;
    };
    // OP_m <keys> OP_n OP_CHECKMULTISIG, with n keys (so at least four instructions).
    let [first, keys @ .., before_last, last] = ops.as_slice() else {
        return false;
    };
    let op = |i: &Instruction| match i {
        Instruction::Op(o) => Some(o.to_u8()),
        _ => None,
    };
    let (Some(m), Some(n), Some(last)) = (op(first), op(before_last), op(last)) else {
        return false;
    };
    let (Some(m), Some(n)) = (small_int(m), small_int(n)) else {
        return false;
    };
    last == OP_CHECKMULTISIG.to_u8() && usize::from(n) == keys.len() && m <= n
}

/// Classifies input 0, or `None` when no rule applies.
pub fn sender(tx: &Transaction) -> Option<Sender> {
    let input = tx.input.first()?;
    let chunks = pushes(&input.script_sig)?;
    let witness: Vec<&[u8]> = input.witness.iter().collect();
    if let [_, key] = chunks.as_slice() {
        if let Ok(k) = PublicKey::from_slice(key) {
            return Some(Sender::P2pkh(k));
        }
    }
    if let ([pushed], [_, key]) = (chunks.as_slice(), witness.as_slice()) {
        if key.len() == 33 {
            if let Ok(k) = PublicKey::from_slice(key) {
                // The witness key must be the one the (txid-committed) scriptSig names.
                let program = ScriptBuf::new_p2wpkh(&bitcoin::WPubkeyHash::hash(&k.to_bytes()));
                if pushed == program.as_bytes() {
                    return Some(Sender::P2shP2wpkh(k));
                }
            }
        }
    }
    if chunks.len() >= 3 {
        if let Some(last) = chunks.last().filter(|l| is_multisig(l)) {
            return Some(Sender::P2shMultisig(ScriptBuf::from_bytes(last.clone())));
        }
    }
    if witness.len() >= 3 {
        if let Some(last) = witness.last().filter(|l| is_multisig(l)) {
            let script = ScriptBuf::from_bytes(last.to_vec());
            let program = ScriptBuf::new_p2wsh(&script.wscript_hash());
            if matches!(chunks.as_slice(), [pushed] if pushed == program.as_bytes()) {
                return Some(Sender::P2shP2wsh(script));
            }
        }
    }
    None
}

/// A parsed RSKIP170 version-1 payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instructions {
    /// Where the scBTC goes.
    pub destination: Address,
    /// Where a refund goes, if given: P2PKH (type 1) or P2SH (type 2).
    pub refund: Option<ScriptBuf>,
}

/// Why a payload is invalid (the vectors' `reason` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadError {
    /// Fewer than 5 bytes.
    ShorterThan5Bytes,
    /// Version other than 1.
    UnsupportedProtocolVersion,
    /// Version 1 but not 25 or 46 bytes.
    InvalidLengthForVersion1,
    /// Refund type other than 1 or 2.
    InvalidRefundAddressType,
    /// More than one RSKT output.
    MoreThanOneRsktOutput,
}

const RSKT: &[u8] = b"RSKT";

/// Parses an RSKT payload (the OP_RETURN data, prefix included).
pub fn parse_payload(p: &[u8]) -> Result<Instructions, PayloadError> {
    // RSKT ‖ version (1) ‖ destination (20) [‖ refund type (1) ‖ refund hash (20)].
    let Some((_, [version, rest @ ..])) = p.split_first_chunk::<4>() else {
        return Err(PayloadError::ShorterThan5Bytes);
    };
    if *version != 1 {
        return Err(PayloadError::UnsupportedProtocolVersion);
    }
    let (destination, refund) = match rest.split_first_chunk::<20>() {
        Some((d, [])) => (d, None),
        Some((d, [kind, hash @ ..])) => {
            let hash: [u8; 20] = hash
                .try_into()
                .map_err(|_| PayloadError::InvalidLengthForVersion1)?;
            (d, Some((*kind, hash)))
        }
        None => return Err(PayloadError::InvalidLengthForVersion1),
    };
    let refund = match refund {
        None => None,
        Some((1, h)) => Some(ScriptBuf::new_p2pkh(&bitcoin::PubkeyHash::from_byte_array(
            h,
        ))),
        Some((2, h)) => Some(ScriptBuf::new_p2sh(&bitcoin::ScriptHash::from_byte_array(
            h,
        ))),
        Some(_) => return Err(PayloadError::InvalidRefundAddressType),
    };
    Ok(Instructions {
        destination: Address::new(*destination),
        refund,
    })
}

/// The RSKT payload among a transaction's OP_RETURN outputs: `Ok(None)` when there is none.
pub fn instructions(tx: &Transaction) -> Result<Option<Instructions>, PayloadError> {
    let mut found = Vec::new();
    for out in &tx.output {
        let mut ins = out.script_pubkey.instructions();
        if !matches!(ins.next(), Some(Ok(Instruction::Op(op))) if op == OP_RETURN) {
            continue;
        }
        if let Some(Ok(Instruction::PushBytes(b))) = ins.next() {
            if b.as_bytes().starts_with(RSKT) {
                found.push(b.as_bytes().to_vec());
            }
        }
    }
    match found.as_slice() {
        [] => Ok(None),
        [one] => parse_payload(one).map(Some),
        _ => Err(PayloadError::MoreThanOneRsktOutput),
    }
}

/// The Scion block a Bitcoin transaction was processed in, if it was.
pub fn processed_at(st: &mut Store, txid: &Txid) -> Result<Option<u64>, BridgeError> {
    match st.get(&keys::processed(txid))? {
        None => Ok(None),
        Some(v) => v
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .map(|b| Some(u64::from_be_bytes(b)))
            .ok_or_else(|| BridgeError::Database("corrupt processed-transaction record".into())),
    }
}

fn revert(msg: impl Into<String>) -> BridgeError {
    BridgeError::Revert(msg.into())
}

/// Rejection reasons of `rejected_pegin`.
mod reason {
    pub const CAP: i64 = 1;
    pub const MULTISIG_SENDER: i64 = 2;
    pub const UNDETERMINED_SENDER: i64 = 3;
    pub const BAD_PAYLOAD: i64 = 4;
    pub const INVALID_AMOUNT: i64 = 5;
}

/// `registerBtcTransaction(tx, height, pmt)`.
pub fn register(
    cfg: &Config,
    st: &mut Store,
    raw: &[u8],
    height: I256,
    pmt: &[u8],
) -> Result<(), BridgeError> {
    let tx: Transaction =
        deserialize(raw).map_err(|e| revert(format!("not a Bitcoin transaction: {e}")))?;
    let stripped = {
        let mut t = tx.clone();
        t.input.iter_mut().for_each(|i| i.witness.clear());
        serialize(&t)
    };
    if stripped.len() == 64 {
        return Err(revert("64-byte transactions are not accepted"));
    }
    let txid = tx.compute_txid();
    if let Some(n) = processed_at(st, &txid)? {
        return Err(revert(format!(
            "transaction {txid} already processed in block {n}"
        )));
    }
    let height = u32::try_from(height).map_err(|_| revert(format!("bad height {height}")))?;
    let mut chain = Chain::new(st, cfg);
    let Some(block) = chain.at_height(height)? else {
        return Err(revert(format!(
            "no block at height {height} in the Bridge's best chain"
        )));
    };
    let best = chain.best()?.height;
    // A block on the best chain is at most at its tip's height; + 1 cannot overflow a u64.
    let confirmations = best
        .checked_sub(height)
        .map(|d| u64::from(d).saturating_add(1))
        .ok_or_else(|| {
            BridgeError::Database(format!(
                "Bitcoin block at height {height} is on the best chain above its tip {best}"
            ))
        })?;
    if confirmations < cfg.params.pegin_confirmations {
        return Err(revert(format!(
            "{confirmations} confirmations, {} needed",
            cfg.params.pegin_confirmations
        )));
    }
    let tree: PartialMerkleTree =
        deserialize(pmt).map_err(|e| revert(format!("malformed partial merkle tree: {e}")))?;
    let (mut matches, mut indexes) = (Vec::new(), Vec::new());
    let root = tree
        .extract_matches(&mut matches, &mut indexes)
        .map_err(|e| revert(format!("invalid partial merkle tree: {e:?}")))?;
    if root != block.header.merkle_root {
        return Err(revert(format!(
            "the proof's merkle root is not that of block {} at height {height}",
            block.hash()
        )));
    }
    if !matches.contains(&txid) {
        return Err(revert(format!(
            "the proof does not include transaction {txid}"
        )));
    }
    let fed = &cfg.federation.script_pubkey;
    let mut outputs: Vec<(u32, Amount)> = Vec::new();
    for (i, o) in tx.output.iter().enumerate() {
        if &o.script_pubkey == fed {
            let vout = u32::try_from(i)
                .map_err(|_| revert(format!("output index {i} does not fit a u32")))?;
            outputs.push((vout, o.value));
        }
    }
    if outputs.is_empty() {
        return Err(revert(format!(
            "transaction {txid} pays nothing to the federation address {}",
            cfg.federation.address
        )));
    }
    // No valid output or sum exceeds Bitcoin's 21,000,000 BTC.
    let Some(total) = outputs
        .iter()
        .try_fold(Amount::ZERO, |sum, (_, v)| sum.checked_add(*v))
        .filter(|t| *t <= Amount::MAX_MONEY)
    else {
        return Err(revert(format!(
            "transaction {txid} pays more than 21,000,000 BTC"
        )));
    };

    // From here on the transaction is recorded whatever the outcome.
    let number = st.host().block_number();
    st.put_u64(&keys::processed(&txid), number)?;
    for (vout, value) in &outputs {
        queue::add_utxo(st, txid, *vout, *value)?;
    }
    if queue::is_pegout(st, &txid)? {
        // The change of the Bridge's own peg-out: back in the UTXO set, nobody is paid.
        return Ok(());
    }
    let sender = sender(&tx);
    let shown = to_display(&txid);
    let reject = |st: &mut Store, why: i64, refund: Option<ScriptBuf>| -> Result<(), BridgeError> {
        st.host().log(
            IBridge::rejected_pegin {
                btcTxHash: shown,
                reason: I256::try_from(why).unwrap_or_default(),
            }
            .encode_log_data(),
        );
        match refund {
            Some(script) => queue::push(st, Reference::Refund(txid), script, total),
            None => {
                st.host().log(
                    IBridge::unrefundable_pegin {
                        btcTxHash: shown,
                        reason: I256::try_from(why).unwrap_or_default(),
                    }
                    .encode_log_data(),
                );
                Ok(())
            }
        }
    };
    let sender_refund = sender.as_ref().map(Sender::refund_script);
    let minimum = Amount::from_sat(cfg.params.pegin_minimum);
    if outputs.iter().any(|(_, v)| *v < minimum) {
        return reject(st, reason::INVALID_AMOUNT, None);
    }
    let (destination, version, refund) = match instructions(&tx) {
        Err(_) => return reject(st, reason::BAD_PAYLOAD, sender_refund),
        Ok(Some(i)) => (i.destination, 1i64, i.refund.or(sender_refund)),
        Ok(None) => match sender.as_ref().and_then(Sender::rsk_address) {
            Some(a) => (a, 0, sender_refund),
            None if sender.is_some() => return reject(st, reason::MULTISIG_SENDER, sender_refund),
            None => return reject(st, reason::UNDETERMINED_SENDER, None),
        },
    };
    let locked = queue::locked(st)?;
    // A sum past u64::MAX satoshis is over any cap.
    let Some(locked) = locked
        .checked_add(total)
        .filter(|l| *l <= Amount::from_sat(cfg.params.locking_cap))
    else {
        return reject(st, reason::CAP, refund);
    };
    queue::set_locked(st, locked)?;
    st.host().pay(destination, sat_to_wei(total.to_sat()))?;
    st.host().log(
        IBridge::pegin_btc {
            receiver: destination,
            btcTxHash: shown,
            amount: I256::try_from(total.to_sat()).unwrap_or_default(),
            protocolVersion: I256::try_from(version).unwrap_or_default(),
        }
        .encode_log_data(),
    );
    Ok(())
}
