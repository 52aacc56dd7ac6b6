//! Every MDBX table Scion keeps, with its key and value bytes. Integers are big-endian so that
//! keys sort numerically.

/// `"head"` → block hash (32); `"genesis"` → block hash (32); `"version"` → record format
/// (u32 BE, `store::FORMAT`).
pub const META: &str = "Meta";
/// block hash (32) → header RLP (merged-mining fields included).
pub const HEADERS: &str = "Headers";
/// block hash (32) → RLP `[[tx…], [uncle…]]`, transactions in their network (EIP-2718) form.
pub const BODIES: &str = "Bodies";
/// block hash (32) → concatenated 20-byte senders, one per transaction.
pub const SENDERS: &str = "Senders";
/// block hash (32) → RLP list of receipts without their blooms (see codec.rs).
pub const RECEIPTS: &str = "Receipts";
/// block number (u64) → canonical block hash (32).
pub const CANONICAL: &str = "CanonicalHashes";
/// transaction hash (32) → block number (u64) ‖ index in block (u32), canonical blocks only.
pub const TX_LOOKUP: &str = "TxLookup";
/// address (20) ‖ block number (u64) → account RLP after that block, empty if deleted; an
/// account with no storage and no code is kept without those two hashes (see codec.rs).
pub const ACCOUNT_HISTORY: &str = "AccountHistory";
/// address (20) ‖ slot (32) ‖ block number (u64) → value after that block (32, zero = unset).
pub const STORAGE_HISTORY: &str = "StorageHistory";
/// block number (u64) → changeset: for each account touched, address (20) ‖ wiped (1: its
/// earlier storage was dropped) ‖ slot count (u32) ‖ slots (32 each), every slot the block
/// wrote, the zeroed ones of a wipe included. Lets a reorg roll the block back exactly.
pub const CHANGESETS: &str = "ChangeSets";
/// block hash (32) → total difficulty (32) ‖ fees paid to the miner (32), for every stored
/// block, canonical or not (fork choice reads it).
pub const BLOCK_INFO: &str = "BlockInfo";
/// code hash (32) → contract code.
pub const CODE: &str = "Code";
/// owner (32: keccak256(address) of the storage trie's account) ‖ path → trie node (see
/// trie.rs for the node bytes). The account trie is not here: it is kept in memory
/// (account_trie.rs); databases of format 2 and earlier kept it under the zero owner.
pub const TRIE: &str = "TrieNodes";

/// All tables, created on open.
pub const ALL: [&str; 13] = [
    META,
    HEADERS,
    BODIES,
    SENDERS,
    RECEIPTS,
    CANONICAL,
    TX_LOOKUP,
    ACCOUNT_HISTORY,
    STORAGE_HISTORY,
    CHANGESETS,
    CODE,
    TRIE,
    BLOCK_INFO,
];

/// A handle of every table, opened once with the environment: MDBX shares the handle of an
/// existing table with every transaction, so reads skip opening tables by name each time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dbs([(&'static str, signet_libmdbx::Database); ALL.len()]);

impl Dbs {
    /// Opens every table in `txn`; each must exist.
    pub(crate) fn open(
        txn: &signet_libmdbx::tx::aliases::RoTxSync,
    ) -> Result<Self, signet_libmdbx::MdbxError> {
        let mut out = [(META, txn.open_db(Some(META))?); ALL.len()];
        for (slot, name) in out.iter_mut().zip(ALL) {
            *slot = (name, txn.open_db(Some(name))?);
        }
        Ok(Self(out))
    }

    /// The handle of table `name` (one of [`ALL`]).
    pub(crate) fn get(&self, name: &str) -> Result<signet_libmdbx::Database, crate::StorageError> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, db)| *db)
            .ok_or_else(|| crate::StorageError::Corrupt(format!("no table {name}")))
    }
}
