//! `scion export` and `scion import`: canonical blocks as concatenated RLP, as geth writes them.
//! Import goes through the normal import path: every header, proof and state root is checked,
//! and every transaction is executed again.

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
    let mut rest = bytes.as_slice();
    let mut stats = ImportStats::default();
    while !rest.is_empty() {
        let block = <Block as alloy_rlp::Decodable>::decode(&mut rest)
            .map_err(|e| eyre::eyre!("block {} in the file: {e}", stats.imported + stats.known))?;
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
        let r = chain.import_block(block)?;
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
                    r.reason.unwrap_or_default()
                )
            }
        }
    }
    Ok(stats)
}
