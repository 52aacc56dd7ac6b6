//! The federator's side of the peg that needs no I/O: reading the Bridge's release state,
//! signing a peg-out's inputs with a k256 key, and reading `release_btc` logs. The daemon that
//! talks to Scion and Bitcoin Core (`scion federator`) lives in scion-node.

use crate::abi::IBridge;
use crate::BridgeError;
use alloy_primitives::{LogData, B256};
use alloy_sol_types::SolEvent;
use bitcoin::consensus::deserialize;
use bitcoin::hashes::Hash;
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{Amount, Script, Transaction};
use k256::ecdsa::signature::hazmat::PrehashSigner;
use k256::ecdsa::{Signature, SigningKey};

fn bad(msg: impl Into<String>) -> BridgeError {
    BridgeError::Revert(msg.into())
}

/// Decodes getStateForBtcReleaseClient's bytes: the peg-outs waiting for signatures, as
/// (Scion transaction hash that created them, unsigned Bitcoin transaction).
pub fn parse_release_state(state: &[u8]) -> Result<Vec<(B256, Transaction)>, BridgeError> {
    let mut buf = state;
    let outer = alloy_rlp::Header::decode(&mut buf).map_err(|e| bad(format!("state: {e}")))?;
    if !outer.list {
        return Err(bad("state: not an RLP list"));
    }
    let mut out = Vec::new();
    if outer.payload_length == 0 {
        return Ok(out);
    }
    let items: Vec<alloy_primitives::Bytes> =
        alloy_rlp::Decodable::decode(&mut buf).map_err(|e| bad(format!("state: {e}")))?;
    if !items.len().is_multiple_of(2) {
        return Err(bad("state: odd number of items"));
    }
    // An even number of items (checked above): nothing is left over.
    let (pairs, _) = items.as_chunks::<2>();
    for [hash, tx] in pairs {
        let hash = B256::try_from(hash.as_ref())
            .map_err(|_| bad("state: a transaction hash is not 32 bytes"))?;
        let tx: Transaction =
            deserialize(tx).map_err(|e| bad(format!("state: transaction: {e}")))?;
        out.push((hash, tx));
    }
    Ok(out)
}

/// Signs every input of `tx` (spending `amounts` from the P2WSH `witness_script`) with
/// SIGHASH_ALL over its BIP143 sighash. Returns DER signatures with low S, as addSignature
/// takes them.
pub fn sign_inputs(
    tx: &Transaction,
    amounts: &[Amount],
    witness_script: &Script,
    key: &SigningKey,
) -> Result<Vec<Vec<u8>>, BridgeError> {
    if amounts.len() != tx.input.len() {
        return Err(bad(format!(
            "{} amounts for {} inputs",
            amounts.len(),
            tx.input.len()
        )));
    }
    let mut cache = SighashCache::new(tx);
    let mut out = Vec::with_capacity(amounts.len());
    for (i, amount) in amounts.iter().enumerate() {
        let sighash = cache
            .p2wsh_signature_hash(i, witness_script, *amount, EcdsaSighashType::All)
            .map_err(|e| bad(format!("sighash of input {i}: {e}")))?;
        let sig: Signature = key
            .sign_prehash(sighash.as_byte_array())
            .map_err(|e| bad(format!("signing input {i}: {e}")))?;
        let sig = sig.normalize_s().unwrap_or(sig);
        out.push(sig.to_der().as_bytes().to_vec());
    }
    Ok(out)
}

/// The compressed public key of a k256 key, as the federation lists BTC keys.
pub fn public_key(key: &SigningKey) -> [u8; 33] {
    let point = key.verifying_key().to_encoded_point(true);
    let mut out = [0u8; 33];
    out.copy_from_slice(point.as_bytes());
    out
}

/// A `release_btc` log: (creating Scion transaction hash, signed raw Bitcoin transaction).
pub fn release_from_log(log: &LogData) -> Option<(B256, Vec<u8>)> {
    let e = IBridge::release_btc::decode_log_data(log).ok()?;
    Some((e.releaseRskTxHash, e.btcRawTransaction.to_vec()))
}
