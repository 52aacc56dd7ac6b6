//! The chain specification: a geth-format genesis file plus a `scion` section of chain
//! parameters (PROTOCOL.md §4).

use crate::{Account, Header, TypesError, BTC_HEADER_LEN, EMPTY_ROOT};
use alloy_primitives::{Address, Bytes, B256, U256};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The dev chain's genesis file, compiled in.
const DEV_GENESIS: &str = include_str!("../../../genesis/dev.json");

/// Chain parameters from the genesis file's `scion` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScionParams {
    /// Network name (`dev`, `testnet`, `mainnet`).
    pub network: String,
    /// Dev conveniences on (instant mining, relaxed Bitcoin-time rule).
    #[serde(default)]
    pub dev: bool,
    /// Bitcoin network the peg follows (`regtest`, `testnet`, `mainnet`).
    pub bitcoin_network: String,
    /// Target seconds between blocks.
    pub block_spacing: u64,
    /// Difficulty adjustment divisor.
    pub difficulty_divisor: u64,
    /// Minimum difficulty.
    pub minimum_difficulty: U256,
    /// The two-way peg's parameters (PROTOCOL.md §3, §4).
    pub bridge: BridgeParams,
}

/// The Bridge's genesis parameters: Bitcoin checkpoint, federation and peg limits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BridgeParams {
    /// The Bitcoin block the Bridge's header chain starts from.
    pub checkpoint: BtcCheckpoint,
    /// The federation members, in any order (the redeem script sorts their BTC keys).
    pub federation: Vec<FederationMember>,
    /// Confirmations a peg-in needs (best height − height + 1).
    pub pegin_confirmations: u64,
    /// Smallest accepted output to the federation, in satoshis.
    pub pegin_minimum: u64,
    /// Smallest accepted peg-out request, in satoshis.
    pub pegout_minimum: u64,
    /// Blocks between peg-out batches.
    pub pegout_interval: u64,
    /// Scion blocks a peg-out batch waits before federators sign it.
    pub pegout_confirmations: u64,
    /// Bitcoin fee rate for peg-outs, in satoshis per 1000 virtual bytes.
    pub fee_per_kb: u64,
    /// Least seconds (by block timestamp) between accepted receiveHeader calls.
    pub receive_header_interval: u64,
    /// Most BTC the peg may hold, in satoshis.
    pub locking_cap: u64,
}

/// A Bitcoin block to start the header chain from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BtcCheckpoint {
    /// Its height.
    pub height: u32,
    /// Its 80-byte header.
    pub header: Bytes,
    /// Total work up to and including it (defaults to the header's own work).
    #[serde(default)]
    pub chainwork: Option<U256>,
}

/// One federator's public keys (33-byte compressed secp256k1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationMember {
    /// Signs peg-outs on Bitcoin.
    pub btc: Bytes,
    /// Authorizes its calls on Scion (its address is derived from this key).
    pub rsk: Bytes,
    /// The third key Rootstock keeps (informational).
    pub mst: Bytes,
}

/// One allocation of the genesis state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GenesisAccount {
    /// Balance in wei.
    pub balance: U256,
    /// Nonce.
    pub nonce: u64,
    /// Runtime code.
    pub code: Bytes,
    /// Storage slots.
    pub storage: BTreeMap<B256, U256>,
}

/// Everything that defines a chain: genesis header fields, allocations and parameters.
#[derive(Debug, Clone)]
pub struct ChainSpec {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Genesis timestamp.
    pub timestamp: u64,
    /// Genesis extra data.
    pub extra_data: Bytes,
    /// Genesis gas limit, kept by later blocks.
    pub gas_limit: u64,
    /// Genesis difficulty.
    pub difficulty: U256,
    /// Genesis mix hash.
    pub mix_hash: B256,
    /// Genesis beneficiary.
    pub coinbase: Address,
    /// Genesis base fee per gas.
    pub base_fee_per_gas: u64,
    /// Genesis allocations.
    pub alloc: BTreeMap<Address, GenesisAccount>,
    /// Scion parameters.
    pub params: ScionParams,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenesisFile {
    #[serde(flatten)]
    genesis: alloy_genesis::Genesis,
    scion: ScionParams,
}

impl ChainSpec {
    /// The dev chain (genesis/dev.json).
    pub fn dev() -> Self {
        // The file is compiled in and parsed by a unit test, so this cannot fail at run time.
        Self::from_json(DEV_GENESIS, "genesis/dev.json").unwrap_or_else(|e| panic!("{e}"))
    }

    /// Reads a genesis file.
    pub fn from_file(path: &Path) -> Result<Self, TypesError> {
        let text = std::fs::read_to_string(path).map_err(|e| TypesError::Genesis {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// Parses a genesis file's text.
    pub fn from_json(text: &str, path: &str) -> Result<Self, TypesError> {
        let err = |reason: String| TypesError::Genesis {
            path: path.to_string(),
            reason,
        };
        let file: GenesisFile = serde_json::from_str(text).map_err(|e| err(e.to_string()))?;
        let g = file.genesis;
        let chain_id = g.config.chain_id;
        if g.extra_data.len() > 32 {
            return Err(err(format!(
                "extraData is {} bytes, at most 32",
                g.extra_data.len()
            )));
        }
        let base_fee_per_gas = g
            .base_fee_per_gas
            .map(u64::try_from)
            .transpose()
            .map_err(|_| err("baseFeePerGas does not fit in 64 bits".into()))?
            .unwrap_or(1_000_000_000);
        let alloc = g
            .alloc
            .into_iter()
            .map(|(address, a)| {
                let storage = a
                    .storage
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, U256::from_be_bytes(v.0)))
                    .filter(|(_, v)| !v.is_zero())
                    .collect();
                let account = GenesisAccount {
                    balance: a.balance,
                    nonce: a.nonce.unwrap_or(0),
                    code: a.code.unwrap_or_default(),
                    storage,
                };
                (address, account)
            })
            .collect();
        Ok(Self {
            chain_id,
            timestamp: g.timestamp,
            extra_data: g.extra_data,
            gas_limit: g.gas_limit,
            difficulty: g.difficulty,
            mix_hash: g.mix_hash,
            coinbase: g.coinbase,
            base_fee_per_gas,
            alloc,
            params: file.scion,
        })
    }

    /// The genesis header for a given state root (computed by the storage layer).
    pub fn genesis_header(&self, state_root: B256) -> Header {
        Header {
            parent_hash: B256::ZERO,
            ommers_hash: alloy_consensus::EMPTY_OMMER_ROOT_HASH,
            beneficiary: self.coinbase,
            state_root,
            transactions_root: EMPTY_ROOT,
            receipts_root: EMPTY_ROOT,
            logs_bloom: Default::default(),
            difficulty: self.difficulty,
            number: 0,
            gas_limit: self.gas_limit,
            gas_used: 0,
            timestamp: self.timestamp,
            extra_data: self.extra_data.clone(),
            mix_hash: self.mix_hash,
            base_fee_per_gas: self.base_fee_per_gas,
            btc_header: Bytes::from(vec![0u8; BTC_HEADER_LEN]),
            merkle_proof: Bytes::new(),
            compressed_coinbase: Bytes::new(),
        }
    }

    /// Genesis accounts as state accounts, storage roots left empty for the caller to fill.
    pub fn genesis_accounts(&self) -> impl Iterator<Item = (Address, Account, &GenesisAccount)> {
        self.alloc.iter().map(|(addr, g)| {
            let account = Account {
                nonce: g.nonce,
                balance: g.balance,
                storage_root: EMPTY_ROOT,
                code_hash: Account::code_hash_of(&g.code),
            };
            (*addr, account, g)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    #[test]
    fn dev_genesis_funds_the_test_accounts_and_the_bridge() {
        let spec = ChainSpec::dev();
        assert_eq!(spec.chain_id, 7773);
        assert!(spec.params.dev);
        let ten_thousand = U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64));
        let first = address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        assert_eq!(spec.alloc[&first].balance, ten_thousand);
        let funded = spec
            .alloc
            .values()
            .filter(|a| a.balance == ten_thousand)
            .count();
        assert_eq!(funded, 20);
        let bridge = address!("0000000000000000000000000000000001000006");
        let locked = U256::from(21_000_000u64) * U256::from(10u64).pow(U256::from(18u64));
        assert_eq!(spec.alloc[&bridge].balance, locked);
        let multicall = address!("cA11bde05977b3631167028862bE2a173976CA11");
        assert_eq!(spec.alloc[&multicall].code.len(), 3808);
        let create2 = address!("4e59b44847b379578588920ca78fbf26c0b4956c");
        assert!(!spec.alloc[&create2].code.is_empty());
    }

    #[test]
    fn bad_genesis_files_are_reported() {
        assert!(ChainSpec::from_json("{", "x").is_err());
        let no_scion = r#"{"config":{"chainId":1},"gasLimit":"0x1","difficulty":"0x1","alloc":{}}"#;
        let e = ChainSpec::from_json(no_scion, "x").unwrap_err().to_string();
        assert!(e.contains("scion"), "{e}");
    }
}
