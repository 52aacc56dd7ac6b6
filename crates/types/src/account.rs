//! An account as the state keeps it: what the state trie's leaf commits to.

use alloy_primitives::{keccak256, B256, U256};
use alloy_rlp::{RlpDecodable, RlpEncodable};

/// Keccak-256 of empty code.
pub const KECCAK_EMPTY: B256 =
    alloy_primitives::b256!("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");

/// An account: nonce, balance, storage root and code hash, RLP-encoded in that order
/// (exactly Ethereum's state-trie leaf).
#[derive(Debug, Clone, Copy, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Account {
    /// Transactions sent (or contracts created, for a contract).
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// Root of the account's storage trie.
    pub storage_root: B256,
    /// Keccak-256 of the account's code.
    pub code_hash: B256,
}

impl Default for Account {
    fn default() -> Self {
        Self {
            nonce: 0,
            balance: U256::ZERO,
            storage_root: EMPTY_ROOT,
            code_hash: KECCAK_EMPTY,
        }
    }
}

impl Account {
    /// True when the account has no code, nonce or balance (EIP-161 empty).
    pub fn is_empty(&self) -> bool {
        self.nonce == 0 && self.balance.is_zero() && self.code_hash == KECCAK_EMPTY
    }

    /// The RLP encoding, as stored in the state trie.
    pub fn rlp(&self) -> Vec<u8> {
        alloy_rlp::encode(self)
    }

    /// Code hash of `code`, with the empty code hashing to [`KECCAK_EMPTY`].
    pub fn code_hash_of(code: &[u8]) -> B256 {
        if code.is_empty() {
            KECCAK_EMPTY
        } else {
            keccak256(code)
        }
    }
}

/// Root of an empty trie: keccak256(RLP("")).
pub const EMPTY_ROOT: B256 =
    alloy_primitives::b256!("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
