//! The Bridge's parameters, parsed once from genesis: Bitcoin network, checkpoint, federation.

use crate::BridgeError;
use alloy_primitives::{keccak256, Address, U256};
use bitcoin::consensus::deserialize;
use bitcoin::opcodes::all::OP_CHECKMULTISIG;
use bitcoin::params::Params;
use bitcoin::script::Builder;
use bitcoin::{Network, PublicKey, ScriptBuf};
use scion_types::BridgeParams;

/// One federator.
#[derive(Debug, Clone)]
pub struct Member {
    /// Signs peg-outs.
    pub btc: PublicKey,
    /// Authorizes its calls on Scion.
    pub rsk: PublicKey,
    /// Rootstock's third key.
    pub mst: PublicKey,
    /// The Scion address of `rsk`.
    pub address: Address,
}

/// The federation: M-of-N over the members' sorted BTC keys, paid to as P2SH-P2WSH.
#[derive(Debug, Clone)]
pub struct Federation {
    /// Members, sorted by BTC key.
    pub members: Vec<Member>,
    /// Signatures needed: ⌊N/2⌋ + 1.
    pub threshold: usize,
    /// `OP_M <keys> OP_N OP_CHECKMULTISIG`: the witness script.
    pub redeem_script: ScriptBuf,
    /// The P2SH output script that pays the federation.
    pub script_pubkey: ScriptBuf,
    /// Its address (base58 P2SH).
    pub address: bitcoin::Address,
}

/// Everything the Bridge needs that does not change.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Bitcoin network followed.
    pub network: Network,
    /// Its consensus parameters (retarget rule, proof-of-work limit).
    pub bitcoin: Params,
    /// Checkpoint height.
    pub checkpoint_height: u32,
    /// Checkpoint header.
    pub checkpoint: bitcoin::block::Header,
    /// Total work at the checkpoint.
    pub checkpoint_work: U256,
    /// The federation.
    pub federation: Federation,
    /// The peg's parameters from genesis: confirmations, minimums, fee rate, intervals, cap.
    pub params: BridgeParams,
}

/// The Scion address of a secp256k1 key: the last 20 bytes of keccak256 of the uncompressed key.
pub fn rsk_address(key: &PublicKey) -> Address {
    let full = key.inner.serialize_uncompressed();
    Address::from_word(keccak256(&full[1..]))
}

fn key(bytes: &[u8], what: &str) -> Result<PublicKey, BridgeError> {
    let k = PublicKey::from_slice(bytes)
        .map_err(|e| BridgeError::Config(format!("{what}: not a public key: {e}")))?;
    if !k.compressed {
        return Err(BridgeError::Config(format!(
            "{what}: key must be compressed"
        )));
    }
    Ok(k)
}

/// Parses a network name as genesis spells it.
pub fn network(name: &str) -> Result<Network, BridgeError> {
    match name {
        "mainnet" | "bitcoin" => Ok(Network::Bitcoin),
        "testnet" | "testnet3" => Ok(Network::Testnet),
        "regtest" => Ok(Network::Regtest),
        other => Err(BridgeError::Config(format!(
            "unknown bitcoin network {other:?} (mainnet, testnet or regtest)"
        ))),
    }
}

impl Federation {
    /// Builds the federation from its members' keys.
    pub fn new(mut members: Vec<Member>, network: Network) -> Result<Self, BridgeError> {
        let n = u8::try_from(members.len())
            .ok()
            .filter(|n| (1..=15).contains(n))
            .ok_or_else(|| {
                BridgeError::Config(format!(
                    "federation has {} members, 1 to 15 allowed",
                    members.len()
                ))
            })?;
        members.sort_by_key(|m| m.btc.inner.serialize());
        if members
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.btc == b.btc))
        {
            return Err(BridgeError::Config("duplicate federator BTC key".into()));
        }
        // n ≤ 15, so this cannot saturate.
        let threshold = (n / 2).saturating_add(1);
        let mut b = Builder::new().push_int(i64::from(threshold));
        for m in &members {
            b = b.push_key(&m.btc);
        }
        let redeem_script = b
            .push_int(i64::from(n))
            .push_opcode(OP_CHECKMULTISIG)
            .into_script();
        let address = bitcoin::Address::p2shwsh(&redeem_script, network);
        Ok(Self {
            members,
            threshold: usize::from(threshold),
            script_pubkey: address.script_pubkey(),
            redeem_script,
            address,
        })
    }

    /// The member whose chain key has this address.
    pub fn by_address(&self, a: Address) -> Option<&Member> {
        self.members.iter().find(|m| m.address == a)
    }
}

impl Config {
    /// Parses and checks genesis's Bridge parameters.
    pub fn new(p: &BridgeParams, network_name: &str) -> Result<Self, BridgeError> {
        let network = network(network_name)?;
        let params = Params::new(network);
        let checkpoint: bitcoin::block::Header = deserialize(&p.checkpoint.header)
            .map_err(|e| BridgeError::Config(format!("checkpoint header: {e}")))?;
        let checkpoint_work = p
            .checkpoint
            .chainwork
            .unwrap_or_else(|| U256::from_be_bytes(checkpoint.work().to_be_bytes()));
        let mut members = Vec::with_capacity(p.federation.len());
        for (i, m) in p.federation.iter().enumerate() {
            let rsk = key(&m.rsk, &format!("federator {i} rsk"))?;
            members.push(Member {
                btc: key(&m.btc, &format!("federator {i} btc"))?,
                address: rsk_address(&rsk),
                rsk,
                mst: key(&m.mst, &format!("federator {i} mst"))?,
            });
        }
        let federation = Federation::new(members, network)?;
        if p.pegin_confirmations == 0 {
            return Err(BridgeError::Config(
                "peginConfirmations must be at least 1".into(),
            ));
        }
        Ok(Self {
            network,
            bitcoin: params,
            checkpoint_height: p.checkpoint.height,
            checkpoint,
            checkpoint_work,
            federation,
            params: p.clone(),
        })
    }
}
