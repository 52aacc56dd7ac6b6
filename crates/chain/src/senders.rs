//! Sender recovery for many blocks at once, on every core: most of an import's CPU is
//! libsecp256k1, so `scion import` and the network's sync recover a chunk of blocks ahead of
//! execution and hand the senders to [`crate::Chain::import_recovered`].

use alloy_consensus::transaction::SignerRecoverable;
use alloy_primitives::Address;
use scion_types::Block;

/// Each block's senders, recovered on every core; `None` for a block with a bad signature,
/// which the import then recovers itself and reports.
pub fn recover_blocks(blocks: &[Block]) -> Vec<Option<Vec<Address>>> {
    let txs: Vec<_> = blocks.iter().flat_map(|b| &b.transactions).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = txs.len().div_ceil(threads).max(1);
    let recovered: Option<Vec<Option<Address>>> = std::thread::scope(|s| {
        let parts: Vec<_> = txs
            .chunks(per)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|t| t.recover_signer().ok())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(txs.len());
        for part in parts {
            all.extend(part.join().ok()?);
        }
        Some(all)
    });
    let Some(recovered) = recovered else {
        return vec![None; blocks.len()];
    };
    let mut it = recovered.into_iter();
    blocks
        .iter()
        .map(|b| {
            let senders: Vec<_> = it.by_ref().take(b.transactions.len()).collect();
            senders.into_iter().collect::<Option<Vec<_>>>()
        })
        .collect()
}
