//! Helpers for network tests with in-process nodes on 127.0.0.1: start a networked dev node,
//! wait for a condition with a deadline, mine on a node, sign a transaction.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use scion_node::{Node, NodeConfig};
use std::path::Path;
use std::time::{Duration, Instant};

/// Starts a dev node in `dir/name` that joins a network on 127.0.0.1 (admin namespace on),
/// dialing the nodes given; `automine` false leaves sealing to whoever calls [`mine`].
pub async fn start(dir: &Path, name: &str, bootnodes: &[&Node], automine: bool) -> Node {
    let boots = bootnodes
        .iter()
        .flat_map(|n| {
            n.network
                .as_ref()
                .map(|h| h.listen_addrs())
                .unwrap_or_default()
        })
        .collect();
    let mut config = NodeConfig::dev_networked(dir.join(name), boots);
    config.automine = automine;
    if let Some(p2p) = config.p2p.as_mut() {
        // Only the peers a test connects: partitions stay partitioned.
        p2p.no_discovery = true;
    }
    scion_node::spawn(config).await.expect("node starts")
}

/// Polls `done` every 20 ms until it holds; panics after `secs`.
pub async fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Handshaken peers of a node.
pub fn peers(n: &Node) -> usize {
    n.network.as_ref().map_or(0, |h| h.peer_count())
}

/// The node's first listen address, `/ip4/127.0.0.1/tcp/…/p2p/…`.
pub fn addr(n: &Node) -> String {
    n.network
        .as_ref()
        .and_then(|h| h.listen_addrs().first().cloned())
        .map(|a| a.to_string())
        .expect("a networked node")
}

/// Seals `blocks` blocks on `node` from its pool.
pub async fn mine(node: &Node, blocks: u64) {
    let chain = node.chain.clone();
    tokio::task::spawn_blocking(move || {
        for _ in 0..blocks {
            chain.mine_block(None).expect("mine");
        }
    })
    .await
    .expect("mining task");
}

/// A signed EIP-1559 transaction on the dev chain (chain id 7773).
pub fn signed(key: &PrivateKeySigner, nonce: u64, to: TxKind, value: u64, input: Bytes) -> Vec<u8> {
    let tx = TxEip1559 {
        chain_id: 7773,
        nonce,
        gas_limit: 100_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to,
        value: U256::from(value),
        input,
        ..Default::default()
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("sign");
    TxEnvelope::from(tx.into_signed(sig)).encoded_2718()
}

/// A transfer of 1 wei.
pub fn transfer(key: &PrivateKeySigner, nonce: u64, to: Address) -> Vec<u8> {
    signed(key, nonce, TxKind::Call(to), 1, Bytes::new())
}
