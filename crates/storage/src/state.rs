//! The state after a given block, read from the history tables, as a revm `DatabaseRef`.

use crate::account_trie::AccountTrie;
use crate::tables::{self, Dbs};
use crate::StorageError;
use alloy_primitives::{keccak256, Address, B256, U256};
use parking_lot::{Mutex, RwLock};
use revm::bytecode::Bytecode;
use revm::database_interface::DatabaseRef;
use revm::state::AccountInfo;
use schnellru::{ByLength, LruMap};
use scion_types::{Account, KECCAK_EMPTY};
use signet_libmdbx::tx::aliases::RoTxSync;
use signet_libmdbx::Database;
use std::sync::Arc;

/// Contracts whose analysed code is kept (at most 24 KiB of code each, about 28 MiB in all).
const CODE_CACHE_ENTRIES: u32 = 1024;

/// What every state read of a store shares: the table handles, and the contracts' analysed
/// code by hash. Code under a hash never changes, so a cached entry never goes stale, and a
/// call no longer reads and analyses (jump destinations) its contract's code each time.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Handles of every table.
    pub(crate) dbs: Dbs,
    code: Mutex<LruMap<B256, Bytecode>>,
    /// The account trie of the head state (see account_trie.rs).
    pub(crate) account_trie: RwLock<AccountTrie>,
}

impl Shared {
    pub(crate) fn new(dbs: Dbs) -> Self {
        Self {
            dbs,
            code: Mutex::new(LruMap::new(ByLength::new(CODE_CACHE_ENTRIES))),
            account_trie: RwLock::new(AccountTrie::default()),
        }
    }
}

/// Key of an account's entry after `block`.
pub(crate) fn account_key(addr: Address, block: u64) -> [u8; 28] {
    let mut k = [0u8; 28];
    k[..20].copy_from_slice(addr.as_slice());
    k[20..].copy_from_slice(&block.to_be_bytes());
    k
}

/// Key of a storage slot's entry after `block`.
pub(crate) fn storage_key(addr: Address, slot: U256, block: u64) -> [u8; 60] {
    let mut k = [0u8; 60];
    k[..20].copy_from_slice(addr.as_slice());
    k[20..52].copy_from_slice(&slot.to_be_bytes::<32>());
    k[52..].copy_from_slice(&block.to_be_bytes());
    k
}

/// State after canonical block `number` (`u64::MAX` = the latest), over one read transaction.
#[derive(Debug)]
pub struct StateDb {
    txn: RoTxSync,
    number: u64,
    shared: Arc<Shared>,
}

impl StateDb {
    pub(crate) fn new(txn: RoTxSync, number: u64, shared: Arc<Shared>) -> Self {
        Self {
            txn,
            number,
            shared,
        }
    }

    /// The block this state is after.
    pub fn number(&self) -> u64 {
        self.number
    }

    fn db(&self, name: &str) -> Result<Database, StorageError> {
        self.shared.dbs.get(name)
    }

    /// The newest entry whose key is `prefix ‖ block` with block ≤ this state's number.
    fn versioned(&self, table: &str, prefix: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let db = self.db(table)?;
        let mut cursor = self.txn.cursor(db)?;
        let mut seek = prefix.to_vec();
        let found: Option<(Vec<u8>, Vec<u8>)> = match self.number.checked_add(1) {
            Some(next) => {
                seek.extend_from_slice(&next.to_be_bytes());
                match cursor.set_range::<Vec<u8>, ()>(&seek)? {
                    Some(_) => cursor.prev()?,
                    None => cursor.last()?,
                }
            }
            None => {
                seek.extend_from_slice(&u64::MAX.to_be_bytes());
                match cursor.set_range::<Vec<u8>, Vec<u8>>(&seek)? {
                    Some((k, v)) if k == seek => Some((k, v)),
                    Some(_) => cursor.prev()?,
                    None => cursor.last()?,
                }
            }
        };
        Ok(found
            .and_then(|(k, v)| (k.len() == prefix.len() + 8 && k.starts_with(prefix)).then_some(v)))
    }

    /// The account record (with storage root), if the account exists.
    pub fn account(&self, address: Address) -> Result<Option<Account>, StorageError> {
        let Some(v) = self.versioned(tables::ACCOUNT_HISTORY, address.as_slice())? else {
            return Ok(None);
        };
        crate::codec::decode_account(&v)
            .map_err(|e| StorageError::Corrupt(format!("account {address}: {e}")))
    }

    /// A storage slot's value (zero when unset).
    pub fn storage(&self, address: Address, slot: U256) -> Result<U256, StorageError> {
        let prefix = [address.as_slice(), &slot.to_be_bytes::<32>()].concat();
        Ok(self
            .versioned(tables::STORAGE_HISTORY, &prefix)?
            .map(|v| U256::from_be_slice(&v))
            .unwrap_or_default())
    }

    /// Contract code by hash (empty for unknown hashes).
    pub fn code(&self, code_hash: B256) -> Result<Vec<u8>, StorageError> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Vec::new());
        }
        let db = self.db(tables::CODE)?;
        Ok(self
            .txn
            .get::<Vec<u8>>(db.dbi(), code_hash.as_slice())?
            .unwrap_or_default())
    }
}

impl StateDb {
    /// The head block's hash in this snapshot.
    pub fn head_hash(&self) -> Result<B256, StorageError> {
        let db = self.db(tables::META)?;
        let v: Option<Vec<u8>> = self.txn.get(db.dbi(), b"head")?;
        v.filter(|v| v.len() == 32)
            .map(|v| B256::from_slice(&v))
            .ok_or_else(|| StorageError::Corrupt("no head".into()))
    }

    /// EIP-1186 proof nodes for an account, from the latest state trie in this snapshot.
    pub fn account_proof(&self, address: Address) -> Result<Vec<Vec<u8>>, StorageError> {
        self.trie_proof([0u8; 32], keccak256(address))
    }

    /// EIP-1186 proof nodes for a storage slot, from the latest state trie in this snapshot.
    pub fn storage_proof(
        &self,
        address: Address,
        slot: B256,
    ) -> Result<Vec<Vec<u8>>, StorageError> {
        self.trie_proof(keccak256(address).0, keccak256(slot))
    }

    fn trie_proof(&self, owner: [u8; 32], key: B256) -> Result<Vec<Vec<u8>>, StorageError> {
        if owner == [0u8; 32] {
            // The account trie lives in memory at the head; it must be this snapshot's head.
            let trie = self.shared.account_trie.read();
            if trie.head() != self.head_hash()? {
                return Err(StorageError::HeadMoved);
            }
            let load =
                |path: &[u8]| -> Result<Option<Vec<u8>>, StorageError> { Ok(trie.get(path)) };
            return crate::trie::proof(&load, key.as_slice());
        }
        let db = self.db(tables::TRIE)?;
        let load = |path: &[u8]| -> Result<Option<Vec<u8>>, StorageError> {
            Ok(self.txn.get(db.dbi(), &[owner.as_slice(), path].concat())?)
        };
        crate::trie::proof(&load, key.as_slice())
    }
}

impl DatabaseRef for StateDb {
    type Error = StorageError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        Ok(self.account(address)?.map(|a| AccountInfo {
            balance: a.balance,
            nonce: a.nonce,
            code_hash: a.code_hash,
            code: None,
            ..Default::default()
        }))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        if let Some(code) = self.shared.code.lock().get(&code_hash) {
            return Ok(code.clone());
        }
        let code = self.code(code_hash)?;
        if code.is_empty() {
            // Unknown hashes are not cached: a later block may store their code.
            return Ok(Bytecode::default());
        }
        let code = Bytecode::new_raw(code.into());
        self.shared.code.lock().insert(code_hash, code.clone());
        Ok(code)
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        self.storage(address, index)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        let db = self.db(tables::CANONICAL)?;
        let v: Option<Vec<u8>> = self.txn.get(db.dbi(), &number.to_be_bytes())?;
        Ok(v.filter(|v: &Vec<u8>| v.len() == 32)
            .map(|v| B256::from_slice(&v))
            .unwrap_or_default())
    }
}
