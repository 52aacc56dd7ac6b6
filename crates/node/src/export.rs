//! `scion export` and `scion import`: canonical blocks as concatenated RLP, as geth writes them.
//! Import goes through the normal import path: every header, proof and state root is checked,
//! and every transaction is executed again.

use alloy_primitives::Address;
use scion_chain::{Chain, ImportResult};
use scion_types::Block;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportStats {
    /// Blocks imported.
    pub imported: u64,
    /// Blocks already known.
    pub known: u64,
    /// Transactions executed.
    pub transactions: u64,
    /// Gas executed.
    pub gas: u64,
}

/// Writes canonical blocks `from..=to` (to the head by default) to `path`; returns how many.
pub fn export(chain: &Chain, path: &Path, from: u64, to: Option<u64>) -> eyre::Result<u64> {
    let to = to.unwrap_or(chain.head().number).min(chain.head().number);
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    let mut n = 0;
    for number in from..=to {
        let hash = chain
            .store()
            .canonical_hash(number)?
            .ok_or_else(|| eyre::eyre!("no canonical block {number}"))?;
        let block = chain
            .store()
            .block(hash)?
            .ok_or_else(|| eyre::eyre!("block {number} missing"))?;
        out.write_all(&block.rlp())?;
        n += 1;
    }
    out.flush()?;
    Ok(n)
}

/// Imports the blocks in `path` in order. Genesis (block 0) must be this chain's and is
/// skipped; any invalid block stops the import with its reason.
pub fn import(chain: &Chain, path: &Path) -> eyre::Result<ImportStats> {
    let result = import_blocks(chain, path);
    // Whatever was imported is flushed, also when a block fails.
    chain.store().sync()?;
    result
}

fn import_blocks(chain: &Chain, path: &Path) -> eyre::Result<ImportStats> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    // Decoding and sender recovery (libsecp256k1, most of an import's CPU) run on other
    // threads, a chunk of blocks ahead of execution and commit on this one.
    let (tx, rx) =
        std::sync::mpsc::sync_channel::<eyre::Result<(Block, Option<Vec<Address>>)>>(2 * CHUNK);
    let reader = std::thread::spawn(move || {
        let mut rest = bytes.as_slice();
        let mut index = 0u64;
        while !rest.is_empty() {
            let mut chunk = Vec::with_capacity(CHUNK);
            while chunk.len() < CHUNK && !rest.is_empty() {
                match <Block as alloy_rlp::Decodable>::decode(&mut rest) {
                    Ok(block) => chunk.push(block),
                    Err(e) => {
                        let _ = tx.send(Err(eyre::eyre!("block {index} in the file: {e}")));
                        return;
                    }
                }
                index += 1;
            }
            let senders = scion_chain::recover_blocks(&chunk);
            for item in chunk.into_iter().zip(senders) {
                if tx.send(Ok(item)).is_err() {
                    return;
                }
            }
        }
    });
    let result = import_decoded(chain, rx);
    // On an early error the receiver is gone, so the reader stops at its next send.
    let _ = reader.join();
    result
}

fn import_decoded(
    chain: &Chain,
    rx: std::sync::mpsc::Receiver<eyre::Result<(Block, Option<Vec<Address>>)>>,
) -> eyre::Result<ImportStats> {
    let mut stats = ImportStats::default();
    for item in rx {
        let (block, senders) = item?;
        if block.header.number == 0 {
            let genesis = chain.store().canonical_hash(0)?;
            eyre::ensure!(
                genesis == Some(block.hash()),
                "the file's genesis {} is not this chain's",
                block.hash()
            );
            stats.known += 1;
            continue;
        }
        let (txs, gas, number) = (
            block.transactions.len() as u64,
            block.header.gas_used,
            block.header.number,
        );
        let r = match senders {
            Some(senders) => chain.import_recovered(block, senders)?,
            None => chain.import_block(block)?,
        };
        match r.result {
            ImportResult::ImportedBest | ImportResult::ImportedNotBest => {
                stats.imported += 1;
                stats.transactions += txs;
                stats.gas += gas;
            }
            ImportResult::Exist => stats.known += 1,
            ImportResult::NoParent => eyre::bail!("block {number}: its parent is not known"),
            ImportResult::InvalidBlock => {
                eyre::bail!(
                    "block {number} is invalid: {}",
                    r.reason.map(|e| e.to_string()).unwrap_or_default()
                )
            }
        }
    }
    Ok(stats)
}

/// Blocks decoded and recovered together by the import's reader.
const CHUNK: usize = 32;
