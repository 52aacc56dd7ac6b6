//! The Store: one MDBX environment holding blocks, receipts, indexes, state history and the
//! storage tries (the account trie is kept in memory: account_trie.rs). A block and everything
//! it changes are written in one transaction (commit.rs).

use crate::account_trie::AccountTrie;
use crate::space::{self, Reserve};
use crate::state::{Shared, StateDb};
use crate::tables::Dbs;
use crate::trie::TrieUpdate;
use crate::{codec, tables, StorageError};
use alloy_consensus::{ReceiptEnvelope, TxEnvelope};
use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_rlp::{Decodable, RlpDecodable, RlpEncodable};
use scion_types::{Account, Block, ChainSpec, Header, StateChanges};
use signet_libmdbx::{
    tx::aliases::{RoTxSync, RwTxSync},
    DatabaseFlags, Environment, EnvironmentFlags, Geometry, Mode, SyncMode, WriteFlags,
};
use std::path::Path;
use std::sync::Arc;

/// Block body as stored: transactions and uncles.
#[derive(RlpEncodable, RlpDecodable)]
struct Body {
    transactions: Vec<TxEnvelope>,
    uncles: Vec<Header>,
}

/// What fork choice keeps for every stored block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockInfo {
    /// Cumulative difficulty from genesis, uncles included.
    pub total_difficulty: U256,
    /// Fees the block paid its miner.
    pub fees: U256,
}

impl BlockInfo {
    fn encode(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.total_difficulty.to_be_bytes::<32>());
        out[32..].copy_from_slice(&self.fees.to_be_bytes::<32>());
        out
    }

    fn decode(v: &[u8]) -> Result<Self, StorageError> {
        if v.len() != 64 {
            return Err(StorageError::Corrupt(format!(
                "block info of {} bytes",
                v.len()
            )));
        }
        Ok(Self {
            total_difficulty: U256::from_be_slice(&v[..32]),
            fees: U256::from_be_slice(&v[32..]),
        })
    }
}

/// Where a transaction sits: its block and index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLocation {
    /// Hash of the block.
    pub block_hash: B256,
    /// Number of the block.
    pub block_number: u64,
    /// Index in the block.
    pub index: u64,
}

/// The size of one table, from MDBX's statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStats {
    /// Table name (see `tables.rs`).
    pub name: &'static str,
    /// Entries (keys).
    pub entries: usize,
    /// B-tree depth.
    pub depth: u32,
    /// Branch, leaf and overflow pages.
    pub pages: usize,
    /// Bytes in those pages.
    pub bytes: u64,
}

/// Scion's database.
#[derive(Debug)]
pub struct Store {
    env: Environment,
    /// Disk space kept ahead of the file when pages are written through the map.
    reserve: Option<Reserve>,
    /// Table handles and the code cache, shared with every [`StateDb`].
    pub(crate) shared: Arc<Shared>,
}

/// The layout of stored records this build reads and writes (META "version"). Format 1, before
/// the key was kept, stored receipts with blooms, whole accounts and 40-byte tx lookups.
/// Format 2 kept the account trie's nodes in TrieNodes; format 3 keeps them in memory
/// (account_trie.rs), and a format-2 database is moved to 3 when it opens.
pub const FORMAT: u32 = 3;

/// Account-trie nodes deleted per transaction when a format-2 database is moved to format 3.
const MIGRATION_BATCH: usize = 10_000;

pub(crate) fn be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

impl Store {
    /// Opens (creating if needed) the database in `dir` for a node, which commits block by
    /// block and calls [`Store::sync`] after each one it must keep.
    ///
    /// Every commit is atomic, and MDBX runs in SafeNoSync mode: a commit is durable once
    /// [`Store::sync`] has returned, and a crash of the process or the machine reopens the
    /// database at an earlier commit, never a torn one. So the owner chooses when to pay the
    /// fsync: after each block it announces, or once per run of blocks fetched in a sync.
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        Self::open_with(dir, true)
    }

    /// Opens the database for a bulk import (`through_map` false), which syncs once at the
    /// end, or for a node (`through_map` true, as [`Store::open`]).
    pub fn open_with(dir: &Path, through_map: bool) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StorageError::Io(format!("{}: {e}", dir.display())))?;
        let sync_mode = SyncMode::SafeNoSync;
        // A node's commits write through the map (WRITEMAP) without readahead, as reth opens
        // MDBX. Linux (ext4 since 6.x) caches a file in large folios when it is read ahead or
        // written in long runs, and writes a dirty folio back whole: with `pwrite`, a commit's
        // scattered 4 KiB pages cost up to 64× their size at fsync (measured: 146 MB/s of page
        // writes became 5.7 GB/s of device writes at 1M accounts). Through the map with
        // readahead off, the cache stays in single pages. `space.rs` keeps disk allocated ahead
        // of the file so that a full disk fails a commit instead of raising SIGBUS. A bulk
        // import that syncs once at the end does better with plain writes.
        let writemap = through_map && Reserve::supported(dir);
        let mut builder = Environment::builder();
        if writemap {
            builder.write_map();
        }
        let env = builder
            .set_flags(EnvironmentFlags {
                mode: Mode::ReadWrite { sync_mode },
                no_rdahead: writemap,
                ..Default::default()
            })
            .set_max_dbs(tables::ALL.len() + 4)
            .set_geometry(Geometry {
                size: Some(0..(1usize << 40)),
                growth_step: Some(space::GROWTH_STEP as isize),
                shrink_threshold: None,
                page_size: None,
            })
            .open(dir)?;
        let reserve = writemap.then(|| Reserve::open(dir)).transpose()?;
        // Create missing tables; an existing database opens with no write (and so also on a
        // full disk, to serve what it holds).
        let ro = env.begin_ro_sync()?;
        let complete = tables::ALL.iter().all(|t| ro.open_db(Some(t)).is_ok());
        drop(ro);
        if !complete {
            if let Some(reserve) = &reserve {
                reserve.ensure(space::ahead_for(tables::ALL.len() + 1))?;
            }
            let txn = env.begin_rw_sync()?;
            for t in tables::ALL {
                txn.create_db(Some(t), DatabaseFlags::empty())?;
            }
            let meta = txn.open_db(Some(tables::META))?;
            txn.put(meta, b"version", FORMAT.to_be_bytes(), WriteFlags::empty())?;
            txn.commit()?;
        }
        let dbs = Dbs::open(&env.begin_ro_sync()?)?;
        let store = Self {
            env,
            reserve,
            shared: Arc::new(Shared::new(dbs)),
        };
        let found = match store.get_raw(tables::META, b"version")? {
            None => 1,
            Some(v) => u32::from_be_bytes(v.try_into().map_err(|v: Vec<u8>| {
                StorageError::Corrupt(format!("format version of {} bytes", v.len()))
            })?),
        };
        if found == 2 {
            // The account trie's nodes leave TrieNodes (the rebuild below replaces them), in
            // batches that each fit the disk space reserved for one transaction; an
            // interrupted move is simply repeated at the next open.
            while store.drop_account_nodes(MIGRATION_BATCH)? == MIGRATION_BATCH {}
            let txn = store.begin_rw(16)?;
            let meta = txn.open_db(Some(tables::META))?;
            txn.put(meta, b"version", FORMAT.to_be_bytes(), WriteFlags::empty())?;
            txn.commit()?;
            store.sync()?;
        } else if found != FORMAT {
            return Err(StorageError::Format {
                dir: dir.display().to_string(),
                found,
                expected: FORMAT,
            });
        }
        if store.meta_hash(b"head")?.is_some() {
            let head = store.head()?;
            let trie = AccountTrie::rebuild(&store.ro()?, &head)?;
            *store.shared.account_trie.write() = trie;
        }
        Ok(store)
    }

    /// Deletes up to `max` account-trie nodes (zero owner) left in TrieNodes by format 2;
    /// returns how many it deleted.
    fn drop_account_nodes(&self, max: usize) -> Result<usize, StorageError> {
        let txn = self.begin_rw(max)?;
        let trie = txn.open_db(Some(tables::TRIE))?;
        let mut keys = Vec::new();
        {
            let mut cursor = txn.cursor(trie)?;
            let mut entry: Option<(Vec<u8>, ())> = cursor.set_range(&[0u8; 32])?;
            while let Some((k, ())) = entry.filter(|(k, _)| k.starts_with(&[0u8; 32])) {
                keys.push(k);
                if keys.len() == max {
                    break;
                }
                entry = cursor.next()?;
            }
        }
        for k in &keys {
            txn.del(trie, k, None)?;
        }
        txn.commit()?;
        Ok(keys.len())
    }

    /// Entries and pages of every table, and the bytes of the data file in use.
    pub fn table_stats(&self) -> Result<(Vec<TableStats>, u64), StorageError> {
        let txn = self.ro()?;
        let mut out = Vec::with_capacity(tables::ALL.len());
        for name in tables::ALL {
            let s = txn.db_stat(&txn.open_db(Some(name))?)?;
            let pages = s.branch_pages() + s.leaf_pages() + s.overflow_pages();
            out.push(TableStats {
                name,
                entries: s.entries(),
                depth: s.depth(),
                pages,
                bytes: pages as u64 * u64::from(s.page_size()),
            });
        }
        let info = self.env.info()?;
        let page = u64::from(self.env.stat()?.page_size());
        Ok((out, info.last_pgno() as u64 * page))
    }

    /// Pages MDBX has written (new pages and copies made on write) since the database's lock
    /// file was created: the difference across a commit is the pages that commit wrote.
    pub fn pages_written(&self) -> Result<u64, StorageError> {
        let ops = self.env.info()?.page_ops();
        Ok(ops.newly + ops.cow)
    }

    /// Makes every commit so far durable (one fsync of the pages written since the last).
    pub fn sync(&self) -> Result<(), StorageError> {
        self.env.sync(true)?;
        Ok(())
    }

    /// Begins a write transaction that writes about `keys` entries, reserving disk for it first.
    pub(crate) fn begin_rw(&self, keys: usize) -> Result<RwTxSync, StorageError> {
        if let Some(reserve) = &self.reserve {
            reserve.ensure(space::ahead_for(keys))?;
        }
        Ok(self.env.begin_rw_sync()?)
    }

    pub(crate) fn ro(&self) -> Result<RoTxSync, StorageError> {
        Ok(self.env.begin_ro_sync()?)
    }

    /// Writes the genesis block and state if the database is empty; otherwise checks that the
    /// stored genesis is this chain's. Returns the genesis header.
    pub fn init_genesis(&self, spec: &ChainSpec) -> Result<Header, StorageError> {
        let mut changes = StateChanges::default();
        for (addr, _, g) in spec.genesis_accounts() {
            let info = scion_types::AccountInfo {
                nonce: g.nonce,
                balance: g.balance,
                code_hash: Account::code_hash_of(&g.code),
                new_code: (!g.code.is_empty()).then(|| g.code.clone()),
            };
            let change = scion_types::AccountChange {
                info: Some(info),
                wiped: false,
                storage: g
                    .storage
                    .clone()
                    .into_iter()
                    .map(|(k, v)| (k.into(), v))
                    .collect(),
            };
            changes.accounts.insert(addr, change);
        }
        let stored = self.meta_hash(b"genesis")?;
        if let Some(stored) = stored {
            let header = self
                .header(stored)?
                .ok_or_else(|| StorageError::Corrupt("genesis header missing".into()))?;
            // Recompute the genesis root in memory to compare chains without writing.
            let expected = spec.genesis_header(genesis_root(&changes)?).hash();
            if expected != stored {
                return Err(StorageError::GenesisMismatch {
                    expected,
                    found: stored,
                });
            }
            return Ok(header);
        }
        let update = self.prepare_state(&changes)?;
        let header = spec.genesis_header(update.state_root);
        let block = Block {
            header: header.clone(),
            transactions: vec![],
            uncles: vec![],
        };
        let info = BlockInfo {
            total_difficulty: header.difficulty,
            fees: U256::ZERO,
        };
        self.commit_block(&block, info, &[], &[], &changes, &update)?;
        let txn = self.begin_rw(1)?;
        let meta = txn.open_db(Some(tables::META))?;
        txn.put(
            meta,
            b"genesis",
            header.hash().as_slice(),
            WriteFlags::empty(),
        )?;
        txn.commit()?;
        Ok(header)
    }

    fn meta_hash(&self, key: &[u8]) -> Result<Option<B256>, StorageError> {
        let txn = self.ro()?;
        let db = txn.open_db(Some(tables::META))?;
        let v: Option<Vec<u8>> = txn.get(db.dbi(), key)?;
        v.map(|v: Vec<u8>| to_b256(&v)).transpose()
    }

    /// Hash of the canonical head.
    pub fn head_hash(&self) -> Result<B256, StorageError> {
        self.meta_hash(b"head")?
            .ok_or_else(|| StorageError::Corrupt("no head".into()))
    }

    /// The canonical head's header.
    pub fn head(&self) -> Result<Header, StorageError> {
        let h = self.head_hash()?;
        self.header(h)?
            .ok_or_else(|| StorageError::Corrupt("head header missing".into()))
    }

    pub(crate) fn get_raw(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let txn = self.ro()?;
        Ok(txn.get(self.shared.dbs.get(table)?.dbi(), key)?)
    }

    /// A header by block hash.
    pub fn header(&self, hash: B256) -> Result<Option<Header>, StorageError> {
        self.get_raw(tables::HEADERS, hash.as_slice())?
            .map(|b| Header::decode_rlp(&b).map_err(|e| StorageError::Corrupt(e.to_string())))
            .transpose()
    }

    /// The canonical block hash at a height.
    pub fn canonical_hash(&self, number: u64) -> Result<Option<B256>, StorageError> {
        self.get_raw(tables::CANONICAL, &be(number))?
            .map(|v| to_b256(&v))
            .transpose()
    }

    /// A whole block by hash.
    pub fn block(&self, hash: B256) -> Result<Option<Block>, StorageError> {
        let Some(header) = self.header(hash)? else {
            return Ok(None);
        };
        let raw = self
            .get_raw(tables::BODIES, hash.as_slice())?
            .ok_or_else(|| StorageError::Corrupt(format!("body of {hash} missing")))?;
        let body = Body::decode(&mut raw.as_slice())
            .map_err(|e| StorageError::Corrupt(format!("body of {hash}: {e}")))?;
        Ok(Some(Block {
            header,
            transactions: body.transactions,
            uncles: body.uncles,
        }))
    }

    /// The senders of a block's transactions, in order.
    pub fn senders(&self, hash: B256) -> Result<Vec<Address>, StorageError> {
        let raw = self
            .get_raw(tables::SENDERS, hash.as_slice())?
            .unwrap_or_default();
        Ok(raw.chunks_exact(20).map(Address::from_slice).collect())
    }

    /// A block's receipts.
    pub fn receipts(&self, hash: B256) -> Result<Option<Vec<ReceiptEnvelope>>, StorageError> {
        let Some(raw) = self.get_raw(tables::RECEIPTS, hash.as_slice())? else {
            return Ok(None);
        };
        codec::decode_receipts(&raw)
            .map(Some)
            .map_err(|e| StorageError::Corrupt(format!("receipts of {hash}: {e}")))
    }

    /// Where a canonical transaction is.
    pub fn tx_location(&self, tx_hash: B256) -> Result<Option<TxLocation>, StorageError> {
        let txn = self.ro()?;
        let lookup = self.shared.dbs.get(tables::TX_LOOKUP)?;
        let Some(v) = txn.get::<Vec<u8>>(lookup.dbi(), tx_hash.as_slice())? else {
            return Ok(None);
        };
        let (block_number, index) = codec::decode_tx_location(&v, tx_hash)?;
        let canonical = self.shared.dbs.get(tables::CANONICAL)?;
        let hash = txn
            .get::<Vec<u8>>(canonical.dbi(), &be(block_number))?
            .ok_or_else(|| {
                StorageError::Corrupt(format!("{tx_hash} is in block {block_number}, not stored"))
            })?;
        Ok(Some(TxLocation {
            block_hash: to_b256(&hash)?,
            block_number,
            index,
        }))
    }

    /// Fork-choice data of a stored block.
    pub fn block_info(&self, hash: B256) -> Result<Option<BlockInfo>, StorageError> {
        self.get_raw(tables::BLOCK_INFO, hash.as_slice())?
            .map(|v| BlockInfo::decode(&v))
            .transpose()
    }

    /// Stores a block that is not (yet) on the canonical chain: header, body and block info,
    /// no state. Executing it later makes it canonical through [`Store::commit_block`].
    pub fn put_side_block(&self, block: &Block, info: BlockInfo) -> Result<(), StorageError> {
        let txn = self.begin_rw(block.transactions.len() + 4)?;
        write_block(&txn, block, info)?;
        txn.commit()?;
        Ok(())
    }

    /// The state after canonical block `number`, as a revm database.
    pub fn state_at(&self, number: u64) -> Result<StateDb, StorageError> {
        Ok(StateDb::new(self.ro()?, number, self.shared.clone()))
    }

    /// The latest account record (storage root included), if the account exists.
    pub fn latest_account(&self, address: Address) -> Result<Option<Account>, StorageError> {
        self.state_at(u64::MAX)?.account(address)
    }
}

/// Header, body and block info of a block, keyed by its hash.
pub(crate) fn write_block(
    txn: &RwTxSync,
    block: &Block,
    info: BlockInfo,
) -> Result<(), StorageError> {
    let hash = block.hash();
    let put = |name: &str, v: &[u8]| -> Result<(), StorageError> {
        txn.put(
            txn.open_db(Some(name))?,
            hash.as_slice(),
            v,
            WriteFlags::empty(),
        )?;
        Ok(())
    };
    put(tables::HEADERS, &block.header.rlp())?;
    let body = Body {
        transactions: block.transactions.clone(),
        uncles: block.uncles.clone(),
    };
    put(tables::BODIES, &alloy_rlp::encode(&body))?;
    put(tables::BLOCK_INFO, &info.encode())
}

pub(crate) fn delete_prefix(
    txn: &RwTxSync,
    db: signet_libmdbx::Database,
    prefix: &[u8],
) -> Result<(), StorageError> {
    let mut keys = Vec::new();
    {
        let mut cursor = txn.cursor(db)?;
        let mut entry: Option<(Vec<u8>, ())> = cursor.set_range(prefix)?;
        while let Some((k, ())) = entry {
            if !k.starts_with(prefix) {
                break;
            }
            keys.push(k);
            entry = cursor.next()?;
        }
    }
    for k in keys {
        txn.del(db, &k, None)?;
    }
    Ok(())
}

/// The genesis state root, computed in memory on empty tries (nothing is written).
fn genesis_root(changes: &StateChanges) -> Result<B256, StorageError> {
    let empty = |_: &[u8]| -> Result<Option<Vec<u8>>, StorageError> { Ok(None) };
    let mut accounts = TrieUpdate::new(&empty);
    for (addr, change) in &changes.accounts {
        let Some(info) = &change.info else { continue };
        let mut storage = TrieUpdate::new(&empty);
        for (slot, value) in change.storage.iter().filter(|(_, v)| !v.is_zero()) {
            storage.insert(
                keccak256(slot.to_be_bytes::<32>()).as_slice(),
                alloy_rlp::encode(value),
            )?;
        }
        let account = Account {
            nonce: info.nonce,
            balance: info.balance,
            storage_root: storage.finish()?.0,
            code_hash: info.code_hash,
        };
        accounts.insert(keccak256(addr).as_slice(), account.rlp())?;
    }
    Ok(accounts.finish()?.0)
}

fn to_b256(v: &[u8]) -> Result<B256, StorageError> {
    if v.len() != 32 {
        return Err(StorageError::Corrupt(format!(
            "expected a 32-byte hash, found {} bytes",
            v.len()
        )));
    }
    Ok(B256::from_slice(v))
}
