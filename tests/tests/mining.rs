//! Merge-mining end to end: two `scion miner` processes racing on one node, Rootstock's mnr_
//! shapes and errors over HTTP, and every eth_ answer following a reorg.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{hex, Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use scion_e2e::{
    quantity, rpc, rpc_raw, scion_bin, wait_receipt, NodeProcess, DEV_ADDR0, DEV_KEY0,
};
use scion_node::{spawn, NodeConfig};
use serde_json::{json, Value};
use std::process::Command;

fn signed(nonce: u64, to: TxKind, value: u64, input: Vec<u8>, gas: u64) -> String {
    let tx = TxEip1559 {
        chain_id: 7773,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: 100_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to,
        value: U256::from(value),
        input: Bytes::from(input),
        ..Default::default()
    };
    let k: PrivateKeySigner = DEV_KEY0.parse().unwrap();
    let sig = k.sign_hash_sync(&tx.signature_hash()).unwrap();
    format!(
        "0x{}",
        hex::encode(TxEnvelope::from(tx.into_signed(sig)).encoded_2718())
    )
}

fn check_seal(block: &Value) {
    let bytes = |k: &str| hex::decode(block[k].as_str().unwrap().trim_start_matches("0x")).unwrap();
    let (btc, proof, cc) = (
        bytes("bitcoinMergedMiningHeader"),
        bytes("bitcoinMergedMiningMerkleProof"),
        bytes("bitcoinMergedMiningCoinbaseTransaction"),
    );
    let hfmm: B256 = block["hashForMergedMining"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let difficulty = U256::from(quantity(&block["difficulty"]));
    let mm = scion_consensus::MergeMiningProof {
        btc_header: &btc,
        merkle_proof: &proof,
        compressed_coinbase: &cc,
    };
    assert_eq!(
        scion_consensus::verify(&mm, scion_consensus::Commitment::Full(hfmm), difficulty),
        Ok(()),
        "block {}",
        block["number"]
    );
}

#[test]
fn two_miners_race_on_one_node_and_every_block_is_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(&dir.path().join("data"), &[]);
    let url = node.url();
    let miner = |id: &str, form: &str| {
        Command::new(scion_bin())
            .args([
                "miner", "--rpc", &url, "--blocks", "6", "--id", id, "--submit", form,
            ])
            .spawn()
            .unwrap()
    };
    let (mut m1, mut m2) = (miner("1", "partial"), miner("2", "transactions"));
    // Transactions sent while the miners work end up in sealed blocks.
    let h = rpc(
        node.addr,
        "eth_sendRawTransaction",
        json!([signed(
            0,
            TxKind::Call(Address::repeat_byte(3)),
            9,
            vec![],
            21_000
        )]),
    );
    assert!(m1.wait().unwrap().success());
    assert!(m2.wait().unwrap().success());
    let r = wait_receipt(node.addr, h.as_str().unwrap());
    assert_eq!(r["status"], "0x1");
    let head = quantity(&rpc(node.addr, "eth_blockNumber", json!([]))) as u64;
    assert!(head >= 6, "head {head}");
    let mut td = 1u128;
    for n in 1..=head {
        let b = rpc(
            node.addr,
            "eth_getBlockByNumber",
            json!([format!("{n:#x}"), false]),
        );
        check_seal(&b);
        td += quantity(&b["difficulty"]) + b["uncles"].as_array().unwrap().len() as u128;
        assert_eq!(quantity(&b["cumulativeDifficulty"]), td, "block {n}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn get_work_shapes_notify_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let node = spawn(NodeConfig::dev(dir.path().join("data")))
        .await
        .unwrap();
    let addr = node.rpc_addr;
    tokio::task::spawn_blocking(move || {
        let w1 = rpc(addr, "mnr_getWork", json!([]));
        assert_eq!(w1["notify"], true);
        assert_eq!(
            w1["target"],
            format!("0x{}", "55".repeat(32)),
            "2^256 / 3 at difficulty 1"
        );
        assert_eq!(w1["feesPaidToMiner"], "0");
        assert_eq!(
            w1["parentBlockHash"],
            rpc(addr, "eth_getBlockByNumber", json!(["latest", false]))["hash"]
        );
        let w2 = rpc(addr, "mnr_getWork", json!([]));
        assert_eq!(
            (w2["notify"].clone(), w2["blockHashForMergedMining"].clone()),
            (json!(false), w1["blockHashForMergedMining"].clone())
        );

        // A real solution for a hash the node never handed out: -33000, nothing imported.
        let seal =
            scion_consensus::work::seal(B256::repeat_byte(0x42), U256::from(1), 1_700_000_000, 1)
                .unwrap();
        let cc = &seal.compressed_coinbase;
        assert!(cc.len() > 40);
        let cb_tx = scion_consensus::work::coinbase(
            1,
            1,
            Default::default(),
            B256::repeat_byte(0x42),
            [0; 32],
        );
        let cb_hex = hex::encode(scion_consensus::work::stripped(&cb_tx));
        let header = hex::encode(&seal.btc_header);
        let txid = hex::encode(bitcoin::hashes::Hash::to_byte_array(cb_tx.compute_txid()));
        let e = rpc_raw(
            addr,
            "mnr_submitBitcoinBlockPartialMerkle",
            json!(["00", header, cb_hex, txid, "1"]),
        );
        assert_eq!(e["error"]["code"], -33000, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("no template"),
            "{e}"
        );
        // Garbage: clear -33000 errors.
        for (method, params, want) in [
            ("mnr_submitBitcoinBlock", json!(["zz"]), "not hex"),
            (
                "mnr_submitBitcoinBlock",
                json!(["00112233"]),
                "not a bitcoin block",
            ),
            (
                "mnr_submitBitcoinBlockPartialMerkle",
                json!(["00", "00", cb_hex, txid, "1"]),
                "80 bytes",
            ),
            (
                "mnr_submitBitcoinBlockPartialMerkle",
                json!(["00", header, "deadbeef", txid, "1"]),
                "not a bitcoin transaction",
            ),
            (
                "mnr_submitBitcoinBlockTransactions",
                json!(["00", header, cb_hex, "ab"]),
                "32 bytes",
            ),
        ] {
            let e = rpc_raw(addr, method, params);
            assert_eq!(e["error"]["code"], -33000, "{method}: {e}");
            assert!(
                e["error"]["message"].as_str().unwrap().contains(want),
                "{method}: {e}"
            );
        }
        assert_eq!(
            rpc(addr, "eth_blockNumber", json!([])),
            "0x0",
            "nothing was imported"
        );
    })
    .await
    .unwrap();
    node.stop().await;
}

/// Node A mines its own branch (a transfer and a contract that logs); node B mines a longer
/// one. A imports B's blocks and reorgs; then every eth_ answer on A matches B's.
#[tokio::test(flavor = "multi_thread")]
async fn eth_answers_follow_a_reorg() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = spawn(NodeConfig::dev(da.path().join("data")))
        .await
        .unwrap();
    let b = spawn(NodeConfig::dev(db.path().join("data")))
        .await
        .unwrap();
    let (aa, ba) = (a.rpc_addr, b.rpc_addr);
    let x = Address::repeat_byte(0xaa);
    // Init code emitting LOG1 with topic 0x11…11 in its constructor, deploying nothing.
    let mut log_init = hex::decode("7f").unwrap();
    log_init.extend([0x11u8; 32]);
    log_init.extend(hex::decode("60006000a100").unwrap());
    let a_txs = tokio::task::spawn_blocking(move || {
        let t1 = rpc(
            aa,
            "eth_sendRawTransaction",
            json!([signed(0, TxKind::Call(x), 500, vec![], 21_000)]),
        );
        wait_receipt(aa, t1.as_str().unwrap());
        let t2 = rpc(
            aa,
            "eth_sendRawTransaction",
            json!([signed(1, TxKind::Create, 0, log_init, 100_000)]),
        );
        wait_receipt(aa, t2.as_str().unwrap());
        (t1, t2)
    })
    .await
    .unwrap();
    let b_txs = tokio::task::spawn_blocking(move || {
        (0..4)
            .map(|i| {
                let h = rpc(
                    ba,
                    "eth_sendRawTransaction",
                    json!([signed(i, TxKind::Call(x), 7, vec![], 21_000)]),
                );
                wait_receipt(ba, h.as_str().unwrap());
                h
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    // Feed B's blocks to A's chain, as a peer would.
    let b_head = b.chain.head().number;
    for n in 1..=b_head {
        let hash = b.chain.store().canonical_hash(n).unwrap().unwrap();
        let block = b.chain.store().block(hash).unwrap().unwrap();
        a.chain.import_block(block).unwrap();
    }
    assert_eq!(a.chain.head().hash(), b.chain.head().hash());
    tokio::task::spawn_blocking(move || {
        let same = |method: &str, params: Value| {
            assert_eq!(
                rpc(aa, method, params.clone()),
                rpc(ba, method, params),
                "{method}"
            )
        };
        same("eth_blockNumber", json!([]));
        for n in 0..=b_head {
            same("eth_getBlockByNumber", json!([format!("{n:#x}"), true]));
        }
        same("eth_getBalance", json!([x, "latest"]));
        same("eth_getBalance", json!([DEV_ADDR0, "latest"]));
        same("eth_getTransactionCount", json!([DEV_ADDR0, "latest"]));
        same(
            "eth_getLogs",
            json!([{"fromBlock": "0x0", "toBlock": "latest"}]),
        );
        assert_eq!(
            quantity(&rpc(aa, "eth_getBalance", json!([x, "latest"]))),
            28
        );
        for h in &b_txs {
            same("eth_getTransactionReceipt", json!([h]));
        }
        // A's own transactions: no receipts on the new chain, and their logs are gone.
        assert!(rpc(aa, "eth_getTransactionReceipt", json!([a_txs.0])).is_null());
        assert!(rpc(aa, "eth_getTransactionReceipt", json!([a_txs.1])).is_null());
        let logs = rpc(
            aa,
            "eth_getLogs",
            json!([{"fromBlock": "0x0", "topics": [format!("0x{}", "11".repeat(32))]}]),
        );
        assert_eq!(logs.as_array().unwrap().len(), 0);
    })
    .await
    .unwrap();
    a.stop().await;
    b.stop().await;
}
