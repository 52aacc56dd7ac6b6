//! The ABI dispatcher: selector → method, gas, argument decoding, and the result or revert.

use crate::abi::IBridge::*;
use crate::headers::{Chain, Reject};
use crate::keys::RECEIVE_HEADER_LAST;
use crate::store::{Host, Store};
use crate::{from_display, len_u64, queue, to_display, BridgeError, Config};
use crate::{pegin, pegout};
use alloy_primitives::{hex, Address, Bytes, I256, U256};
use alloy_sol_types::{Revert, SolCall, SolError};
use bitcoin::consensus::serialize;
use bitcoin::hashes::{sha256d, Hash};
use bitcoin::{BlockHash, Txid};
use std::str::FromStr;

/// A call into the Bridge.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// msg.sender.
    pub caller: Address,
    /// Value sent with the call.
    pub value: U256,
    /// Calldata.
    pub input: &'a [u8],
    /// Gas the call may use.
    pub gas_limit: u64,
    /// Inside a STATICCALL: writes are refused.
    pub is_static: bool,
}

/// How a Bridge call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Returned `output`, using `gas`.
    Success {
        /// Gas used.
        gas: u64,
        /// ABI-encoded return value.
        output: Bytes,
    },
    /// Reverted with `output` (an `Error(string)`), using `gas`; state changes are undone.
    Revert {
        /// Gas used.
        gas: u64,
        /// ABI-encoded `Error(string)`.
        output: Bytes,
    },
    /// The gas limit is below the method's cost.
    OutOfGas,
}

/// (selector, cost, writes state) for every method; gas = cost + 2 per calldata byte. Write
/// costs are PROTOCOL.md's; read costs are Rootstock's.
const METHODS: &[([u8; 4], u64, bool)] = &[
    (registerBtcTransactionCall::SELECTOR, 22_000, true),
    (receiveHeadersCall::SELECTOR, 25_000, true),
    (receiveHeaderCall::SELECTOR, 10_600, true),
    (releaseBtcCall::SELECTOR, 23_000, true),
    (addSignatureCall::SELECTOR, 70_000, true),
    (updateCollectionsCall::SELECTOR, 48_000, true),
    (getStateForBtcReleaseClientCall::SELECTOR, 4_000, false),
    (getBtcBlockchainBestChainHeightCall::SELECTOR, 19_000, false),
    (
        getBtcBlockchainInitialBlockHeightCall::SELECTOR,
        20_000,
        false,
    ),
    (
        getBtcBlockchainBlockHashAtDepthCall::SELECTOR,
        20_000,
        false,
    ),
    (getBtcBlockchainBestBlockHeaderCall::SELECTOR, 3_800, false),
    (
        getBtcBlockchainBlockHeaderByHashCall::SELECTOR,
        3_800,
        false,
    ),
    (
        getBtcBlockchainBlockHeaderByHeightCall::SELECTOR,
        3_800,
        false,
    ),
    (getBtcTransactionConfirmationsCall::SELECTOR, 27_000, false),
    (isBtcTxHashAlreadyProcessedCall::SELECTOR, 23_000, false),
    (getBtcTxHashProcessedHeightCall::SELECTOR, 22_000, false),
    (getFederationAddressCall::SELECTOR, 11_000, false),
    (getFederationSizeCall::SELECTOR, 10_000, false),
    (getFederationThresholdCall::SELECTOR, 11_000, false),
    (getFederatorPublicKeyOfTypeCall::SELECTOR, 10_000, false),
    (getActivePowpegRedeemScriptCall::SELECTOR, 30_000, false),
    (getMinimumLockTxValueCall::SELECTOR, 2_000, false),
    (getFeePerKbCall::SELECTOR, 2_000, false),
    (getLockingCapCall::SELECTOR, 3_000, false),
    (getNextPegoutCreationBlockNumberCall::SELECTOR, 3_000, false),
    (getQueuedPegoutsCountCall::SELECTOR, 3_000, false),
    (
        getEstimatedFeesForNextPegOutEventCall::SELECTOR,
        10_000,
        false,
    ),
];

/// The most headers one receiveHeaders call may carry.
pub const MAX_HEADERS_PER_CALL: usize = 500;
/// receiveHeader refuses a header whose parent is more than this many blocks below the tip.
const RECEIVE_HEADER_MAX_DEPTH: u32 = 25;
/// getBtcTransactionConfirmations looks at most this deep (Rootstock's limit).
const CONFIRMATIONS_MAX_DEPTH: u32 = 4320;

/// The gas a call with this calldata costs, or `None` for an unknown selector.
pub fn method_gas(input: &[u8]) -> Option<u64> {
    let sel: [u8; 4] = if input.is_empty() {
        releaseBtcCall::SELECTOR
    } else {
        input.get(..4)?.try_into().ok()?
    };
    let (_, cost, _) = METHODS.iter().find(|(s, _, _)| *s == sel)?;
    // Gas saturates: a cost past u64::MAX is out of gas either way.
    let mut gas = cost.saturating_add(len_u64(input.len()).saturating_mul(2));
    if sel == receiveHeadersCall::SELECTOR {
        if let Ok(c) = receiveHeadersCall::abi_decode(input) {
            let extra = len_u64(c.blocks.len().saturating_sub(1));
            gas = gas.saturating_add(extra.saturating_mul(3_500));
        }
    }
    Some(gas)
}

fn revert(msg: impl Into<String>) -> BridgeError {
    BridgeError::Revert(msg.into())
}

fn int(v: impl TryInto<I256>) -> I256 {
    v.try_into().unwrap_or(I256::MAX)
}

/// Runs a Bridge call. `Err` only for storage failures, which abort the block.
pub fn execute(cfg: &Config, host: &mut dyn Host, call: Call) -> Result<Outcome, BridgeError> {
    let Some(gas) = method_gas(call.input) else {
        let sel = call
            .input
            .get(..4)
            .map(hex::encode)
            .unwrap_or_else(|| hex::encode(call.input));
        return Ok(reverted(
            0,
            format!("Bridge: unknown method selector 0x{sel}"),
        ));
    };
    if gas > call.gas_limit {
        return Ok(Outcome::OutOfGas);
    }
    let sel: [u8; 4] = call
        .input
        .get(..4)
        .and_then(|s| s.try_into().ok())
        .unwrap_or(releaseBtcCall::SELECTOR);
    let writes = METHODS.iter().any(|(s, _, w)| *s == sel && *w);
    if writes && call.is_static {
        return Ok(reverted(
            gas,
            "Bridge: state change inside a static call".into(),
        ));
    }
    if !call.value.is_zero() && sel != releaseBtcCall::SELECTOR {
        return Ok(reverted(gas, "Bridge: method is not payable".into()));
    }
    let mut st = Store::new(host);
    match run(cfg, &mut st, &call, sel) {
        Ok(output) => Ok(Outcome::Success {
            gas,
            output: output.into(),
        }),
        Err(BridgeError::Revert(msg)) => Ok(reverted(gas, format!("Bridge: {msg}"))),
        Err(e) => Err(e),
    }
}

fn reverted(gas: u64, reason: String) -> Outcome {
    Outcome::Revert {
        gas,
        output: Revert::from(reason).abi_encode().into(),
    }
}

fn decode<C: SolCall>(input: &[u8]) -> Result<C, BridgeError> {
    C::abi_decode(input)
        .map_err(|e| revert(format!("malformed arguments for {}: {e}", C::SIGNATURE)))
}

fn federator_only(cfg: &Config, caller: Address, what: &str) -> Result<(), BridgeError> {
    if cfg.federation.by_address(caller).is_none() {
        return Err(revert(format!(
            "{what} is for federators only; {caller} is not one"
        )));
    }
    Ok(())
}

fn txid_arg(s: &str) -> Result<Txid, BridgeError> {
    Txid::from_str(s.trim_start_matches("0x"))
        .map_err(|e| revert(format!("bad transaction hash {s:?}: {e}")))
}

fn run(cfg: &Config, st: &mut Store, call: &Call, sel: [u8; 4]) -> Result<Vec<u8>, BridgeError> {
    let input = call.input;
    Ok(match sel {
        registerBtcTransactionCall::SELECTOR => {
            let c: registerBtcTransactionCall = decode(input)?;
            pegin::register(cfg, st, &c.tx, c.height, &c.pmt)?;
            Vec::new()
        }
        receiveHeadersCall::SELECTOR => {
            federator_only(cfg, call.caller, "receiveHeaders")?;
            let c: receiveHeadersCall = decode(input)?;
            if c.blocks.len() > MAX_HEADERS_PER_CALL {
                return Err(revert(format!(
                    "{} headers, at most {MAX_HEADERS_PER_CALL} per call",
                    c.blocks.len()
                )));
            }
            let mut chain = Chain::new(st, cfg);
            for (i, raw) in c.blocks.iter().enumerate() {
                match chain.add(raw)? {
                    Ok(_) | Err(Reject::Exists) => {}
                    Err(r) => return Err(revert(format!("header {i}: {r}"))),
                }
            }
            Vec::new()
        }
        receiveHeaderCall::SELECTOR => {
            let c: receiveHeaderCall = decode(input)?;
            let code = receive_header(cfg, st, &c.block)?;
            receiveHeaderCall::abi_encode_returns(&I256::try_from(code).unwrap_or_default())
        }
        releaseBtcCall::SELECTOR => {
            if !input.is_empty() {
                decode::<releaseBtcCall>(input)?;
            }
            pegout::release(cfg, st, call.caller, call.value)?;
            Vec::new()
        }
        addSignatureCall::SELECTOR => {
            federator_only(cfg, call.caller, "addSignature")?;
            let c: addSignatureCall = decode(input)?;
            pegout::add_signature(cfg, st, call.caller, &c.pubkey, &c.signatures, &c.txhash)?;
            Vec::new()
        }
        updateCollectionsCall::SELECTOR => {
            federator_only(cfg, call.caller, "updateCollections")?;
            pegout::update_collections(cfg, st, call.caller)?;
            Vec::new()
        }
        getStateForBtcReleaseClientCall::SELECTOR => {
            let state = pegout::release_client_state(st)?;
            getStateForBtcReleaseClientCall::abi_encode_returns(&Bytes::from(state))
        }
        getBtcBlockchainBestChainHeightCall::SELECTOR => {
            let h = Chain::new(st, cfg).best()?.height;
            getBtcBlockchainBestChainHeightCall::abi_encode_returns(&int(h))
        }
        getBtcBlockchainInitialBlockHeightCall::SELECTOR => {
            getBtcBlockchainInitialBlockHeightCall::abi_encode_returns(&int(cfg.checkpoint_height))
        }
        getBtcBlockchainBlockHashAtDepthCall::SELECTOR => {
            let c: getBtcBlockchainBlockHashAtDepthCall = decode(input)?;
            let mut chain = Chain::new(st, cfg);
            let best = chain.best()?.height;
            let max = best.checked_sub(cfg.checkpoint_height).ok_or_else(|| {
                BridgeError::Database(format!(
                    "Bitcoin best height {best} is below the checkpoint {}",
                    cfg.checkpoint_height
                ))
            })?;
            // depth ≤ max ≤ best, so the height exists.
            let height = u32::try_from(c.depth)
                .ok()
                .filter(|d| *d <= max)
                .and_then(|d| best.checked_sub(d))
                .ok_or_else(|| revert(format!("depth must be between 0 and {max}")))?;
            let b = chain
                .at_height(height)?
                .ok_or_else(|| BridgeError::Database("best chain has a gap".into()))?;
            let hash = to_display(&b.hash());
            getBtcBlockchainBlockHashAtDepthCall::abi_encode_returns(&Bytes::from(hash.to_vec()))
        }
        getBtcBlockchainBestBlockHeaderCall::SELECTOR => {
            let b = Chain::new(st, cfg).best()?;
            getBtcBlockchainBestBlockHeaderCall::abi_encode_returns(&serialize(&b.header).into())
        }
        getBtcBlockchainBlockHeaderByHashCall::SELECTOR => {
            let c: getBtcBlockchainBlockHeaderByHashCall = decode(input)?;
            let hash = from_display::<BlockHash>(c.btcBlockHash);
            let h = Chain::new(st, cfg).get(&hash)?;
            let out = h.map(|s| serialize(&s.header)).unwrap_or_default();
            getBtcBlockchainBlockHeaderByHashCall::abi_encode_returns(&out.into())
        }
        getBtcBlockchainBlockHeaderByHeightCall::SELECTOR => {
            let c: getBtcBlockchainBlockHeaderByHeightCall = decode(input)?;
            let h = match u32::try_from(c.btcBlockHeight) {
                Ok(n) => Chain::new(st, cfg).at_height(n)?,
                Err(_) => None,
            };
            let out = h.map(|s| serialize(&s.header)).unwrap_or_default();
            getBtcBlockchainBlockHeaderByHeightCall::abi_encode_returns(&out.into())
        }
        getBtcTransactionConfirmationsCall::SELECTOR => {
            let c: getBtcTransactionConfirmationsCall = decode(input)?;
            let n = confirmations(cfg, st, &c)?;
            getBtcTransactionConfirmationsCall::abi_encode_returns(&int(n))
        }
        isBtcTxHashAlreadyProcessedCall::SELECTOR => {
            let c: isBtcTxHashAlreadyProcessedCall = decode(input)?;
            let done = pegin::processed_at(st, &txid_arg(&c.hash)?)?.is_some();
            isBtcTxHashAlreadyProcessedCall::abi_encode_returns(&done)
        }
        getBtcTxHashProcessedHeightCall::SELECTOR => {
            let c: getBtcTxHashProcessedHeightCall = decode(input)?;
            let at = pegin::processed_at(st, &txid_arg(&c.hash)?)?
                .and_then(|n| i64::try_from(n).ok())
                .unwrap_or(-1);
            getBtcTxHashProcessedHeightCall::abi_encode_returns(&at)
        }
        getFederationAddressCall::SELECTOR => {
            getFederationAddressCall::abi_encode_returns(&cfg.federation.address.to_string())
        }
        getFederationSizeCall::SELECTOR => {
            getFederationSizeCall::abi_encode_returns(&int(cfg.federation.members.len()))
        }
        getFederationThresholdCall::SELECTOR => {
            getFederationThresholdCall::abi_encode_returns(&int(cfg.federation.threshold))
        }
        getFederatorPublicKeyOfTypeCall::SELECTOR => {
            let c: getFederatorPublicKeyOfTypeCall = decode(input)?;
            let n = cfg.federation.members.len();
            let m = usize::try_from(c.index)
                .ok()
                .and_then(|i| cfg.federation.members.get(i))
                .ok_or_else(|| {
                    // A federation has at least one member.
                    let last = n.saturating_sub(1);
                    revert(format!("federator index must be between 0 and {last}"))
                })?;
            let key = match c.atype.as_str() {
                "btc" => m.btc,
                "rsk" => m.rsk,
                "mst" => m.mst,
                other => return Err(revert(format!("key type {other:?}: use btc, rsk or mst"))),
            };
            getFederatorPublicKeyOfTypeCall::abi_encode_returns(&key.to_bytes().into())
        }
        getActivePowpegRedeemScriptCall::SELECTOR => {
            let s = cfg.federation.redeem_script.to_bytes();
            getActivePowpegRedeemScriptCall::abi_encode_returns(&s.into())
        }
        getMinimumLockTxValueCall::SELECTOR => {
            getMinimumLockTxValueCall::abi_encode_returns(&int(cfg.params.pegin_minimum))
        }
        getFeePerKbCall::SELECTOR => {
            getFeePerKbCall::abi_encode_returns(&int(cfg.params.fee_per_kb))
        }
        getLockingCapCall::SELECTOR => {
            getLockingCapCall::abi_encode_returns(&int(cfg.params.locking_cap))
        }
        getNextPegoutCreationBlockNumberCall::SELECTOR => {
            let next = pegout::next_height(cfg, st)?;
            getNextPegoutCreationBlockNumberCall::abi_encode_returns(&U256::from(next))
        }
        getQueuedPegoutsCountCall::SELECTOR => {
            getQueuedPegoutsCountCall::abi_encode_returns(&U256::from(queue::queued(st)?))
        }
        getEstimatedFeesForNextPegOutEventCall::SELECTOR => {
            let fee = pegout::estimated_fee(cfg, queue::queued(st)?);
            getEstimatedFeesForNextPegOutEventCall::abi_encode_returns(&U256::from(fee.to_sat()))
        }
        other => {
            return Err(revert(format!(
                "unknown method selector 0x{}",
                hex::encode(other)
            )))
        }
    })
}

/// receiveHeader's result codes.
fn receive_header(cfg: &Config, st: &mut Store, raw: &[u8]) -> Result<i64, BridgeError> {
    if raw.len() != 80 {
        return Ok(-20);
    }
    let now = st.host().timestamp();
    // The first call finds 0: any block timestamp is past 0 + interval.
    let last = st.get_u64(RECEIVE_HEADER_LAST)?;
    if last != 0 && now < last.saturating_add(cfg.params.receive_header_interval) {
        return Ok(-1);
    }
    let mut chain = Chain::new(st, cfg);
    if let Ok(h) = bitcoin::consensus::deserialize::<bitcoin::block::Header>(raw) {
        if chain.get(&h.block_hash())?.is_some() {
            return Ok(-4);
        }
        match chain.get(&h.prev_blockhash)? {
            None => return Ok(-3),
            Some(p) => {
                if p.height.saturating_add(RECEIVE_HEADER_MAX_DEPTH) < chain.best()?.height {
                    return Ok(-2);
                }
            }
        }
    }
    match chain.add(raw)? {
        Ok(_) => {
            st.put_u64(RECEIVE_HEADER_LAST, now)?;
            Ok(0)
        }
        Err(Reject::Exists) => Ok(-4),
        Err(Reject::NoParent) => Ok(-3),
        Err(Reject::BadSize) => Ok(-20),
        Err(_) => Ok(-99),
    }
}

/// getBtcTransactionConfirmations, with Rootstock's codes: −1 unknown block, −2 not in the best
/// chain, −3 too deep, −5 the branch does not reach the block's merkle root.
fn confirmations(
    cfg: &Config,
    st: &mut Store,
    c: &getBtcTransactionConfirmationsCall,
) -> Result<i64, BridgeError> {
    let mut chain = Chain::new(st, cfg);
    let Some(block) = chain.get(&from_display::<BlockHash>(c.blockHash))? else {
        return Ok(-1);
    };
    if !chain.is_main(&block)? {
        return Ok(-2);
    }
    let best = chain.best()?.height;
    // A block on the best chain is at most at its tip's height.
    let n = best
        .checked_sub(block.height)
        .and_then(|d| d.checked_add(1))
        .ok_or_else(|| {
            BridgeError::Database(format!(
                "Bitcoin block at height {} is on the best chain above its tip {best}",
                block.height
            ))
        })?;
    if n > CONFIRMATIONS_MAX_DEPTH {
        return Ok(-3);
    }
    let mut node = from_display::<sha256d::Hash>(c.txHash).to_byte_array();
    for (i, sib) in c.merkleBranchHashes.iter().enumerate() {
        let sib = from_display::<sha256d::Hash>(*sib).to_byte_array();
        let right = i < 256 && c.merkleBranchPath.bit(i);
        let mut buf = [0u8; 64];
        if right {
            buf[..32].copy_from_slice(&sib);
            buf[32..].copy_from_slice(&node);
        } else {
            buf[..32].copy_from_slice(&node);
            buf[32..].copy_from_slice(&sib);
        }
        node = sha256d::Hash::hash(&buf).to_byte_array();
    }
    if node != block.header.merkle_root.to_byte_array() {
        return Ok(-5);
    }
    Ok(i64::from(n))
}
