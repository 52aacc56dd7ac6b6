//! The rest of the eth namespace, txpool and net over real HTTP: dev-account signing, lookups
//! by block and index, eth_getProof checked against the state root by alloy-trie's verifier,
//! and the pool's pending/queued view.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{hex, keccak256, Address, Bytes, Signature, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use scion_e2e::{quantity, rpc, rpc_raw, wait_receipt, DEV_ADDR0, DEV_ADDR1, DEV_KEY0};
use scion_node::{spawn, NodeConfig};
use serde_json::{json, Value};
use std::net::SocketAddr;

async fn with_node(test: impl FnOnce(SocketAddr) + Send + 'static) {
    let dir = tempfile::tempdir().unwrap();
    let node = spawn(NodeConfig::dev(dir.path().join("data")))
        .await
        .unwrap();
    let addr = node.rpc_addr;
    tokio::task::spawn_blocking(move || test(addr))
        .await
        .unwrap();
    node.stop().await;
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap().trim_start_matches("0x")).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_accounts_sign_and_send() {
    with_node(|addr| {
        // eth_sendTransaction fills nonce, gas and fees like a wallet and signs with the dev key.
        let h = rpc(
            addr,
            "eth_sendTransaction",
            json!([{"from": DEV_ADDR0, "to": DEV_ADDR1, "value": "0x64"}]),
        );
        let r = wait_receipt(addr, h.as_str().unwrap());
        assert_eq!(r["status"], "0x1");
        assert_eq!(r["type"], "0x2");
        let legacy = rpc(
            addr,
            "eth_sendTransaction",
            json!([{"from": DEV_ADDR0, "to": DEV_ADDR1, "gasPrice": "0x77359400"}]),
        );
        assert_eq!(wait_receipt(addr, legacy.as_str().unwrap())["type"], "0x0");
        // eth_signTransaction returns a raw transaction that recovers to the account.
        let raw = rpc(
            addr,
            "eth_signTransaction",
            json!([{"from": DEV_ADDR0, "to": DEV_ADDR1, "value": "0x1"}]),
        );
        let tx = TxEnvelope::decode_2718(&mut bytes(&raw).as_slice()).unwrap();
        use alloy_consensus::transaction::SignerRecoverable;
        assert_eq!(
            tx.recover_signer().unwrap().to_string().to_lowercase(),
            DEV_ADDR0.to_lowercase()
        );
        // eth_sign is EIP-191.
        let sig = rpc(addr, "eth_sign", json!([DEV_ADDR0, "0x68656c6c6f"]));
        let sig = Signature::try_from(bytes(&sig).as_slice()).unwrap();
        let who = sig.recover_address_from_msg(b"hello").unwrap();
        assert_eq!(who.to_string().to_lowercase(), DEV_ADDR0.to_lowercase());
        // Accounts the node does not hold.
        let e = rpc_raw(
            addr,
            "eth_sendTransaction",
            json!([{"from": Address::repeat_byte(1), "to": DEV_ADDR1}]),
        );
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("unknown account"),
            "{e}"
        );
        // viem tries eth_fillTransaction first and falls back on -32601.
        assert_eq!(
            rpc_raw(addr, "eth_fillTransaction", json!([{}]))["error"]["code"],
            -32601
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lookups_by_block_and_index_and_node_status() {
    with_node(|addr| {
        let h = rpc(
            addr,
            "eth_sendTransaction",
            json!([{"from": DEV_ADDR0, "to": DEV_ADDR1, "value": "0x5"}]),
        );
        let r = wait_receipt(addr, h.as_str().unwrap());
        let (bh, bn) = (r["blockHash"].clone(), r["blockNumber"].clone());
        assert_eq!(
            rpc(addr, "eth_getBlockTransactionCountByHash", json!([bh])),
            "0x1"
        );
        assert_eq!(
            rpc(addr, "eth_getBlockTransactionCountByNumber", json!([bn])),
            "0x1"
        );
        assert_eq!(
            rpc(
                addr,
                "eth_getTransactionByBlockHashAndIndex",
                json!([bh, "0x0"])
            )["hash"],
            h
        );
        assert_eq!(
            rpc(
                addr,
                "eth_getTransactionByBlockNumberAndIndex",
                json!([bn, "0x0"])
            )["hash"],
            h
        );
        assert!(rpc(
            addr,
            "eth_getTransactionByBlockNumberAndIndex",
            json!([bn, "0x1"])
        )
        .is_null());
        let receipts = rpc(addr, "eth_getBlockReceipts", json!([bn]));
        assert_eq!(receipts.as_array().unwrap().len(), 1);
        assert_eq!(receipts[0], r);
        assert_eq!(
            rpc(addr, "eth_getUncleCountByBlockHash", json!([bh])),
            "0x0"
        );
        assert_eq!(
            rpc(addr, "eth_getUncleCountByBlockNumber", json!(["latest"])),
            "0x0"
        );
        assert!(rpc(addr, "eth_getUncleByBlockHashAndIndex", json!([bh, "0x0"])).is_null());
        assert!(rpc(
            addr,
            "eth_getBlockTransactionCountByHash",
            json!([B256::repeat_byte(3)])
        )
        .is_null());
        assert_eq!(rpc(addr, "eth_syncing", json!([])), false);
        assert_eq!(rpc(addr, "eth_mining", json!([])), true);
        assert_eq!(rpc(addr, "eth_hashrate", json!([])), "0x0");
        assert_eq!(
            rpc(addr, "eth_coinbase", json!([])),
            format!("{:#x}", Address::ZERO)
        );
        assert_eq!(rpc(addr, "net_peerCount", json!([])), "0x0");
        // A dev node alone takes part in no network: not listening for peers (geth's meaning).
        assert_eq!(rpc(addr, "net_listening", json!([])), false);
    })
    .await;
}

/// Init code that stores 0x2a in slot 0 and 0x07 in slot 5, and deploys no code.
const STORING_INIT: &str = "602a60005560076005550000";

#[tokio::test(flavor = "multi_thread")]
async fn proofs_verify_against_the_state_root() {
    with_node(|addr| {
        let h = rpc(
            addr,
            "eth_sendTransaction",
            json!([{"from": DEV_ADDR0, "data": format!("0x{STORING_INIT}"), "gas": "0x30000"}]),
        );
        let r = wait_receipt(addr, h.as_str().unwrap());
        let contract: Address = r["contractAddress"].as_str().unwrap().parse().unwrap();
        let block = rpc(addr, "eth_getBlockByNumber", json!(["latest", false]));
        let root: B256 = block["stateRoot"].as_str().unwrap().parse().unwrap();
        let p = rpc(
            addr,
            "eth_getProof",
            json!([contract, ["0x0", "0x5", "0x9"], "latest"]),
        );
        let nodes: Vec<Bytes> = p["accountProof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| Bytes::from(bytes(n)))
            .collect();
        // The account the proof must hold, from what the contract is, not from the answer: a
        // contract starts at nonce 1 (EIP-161), holds nothing, has no code, and its storage
        // root is the root of {0: 0x2a, 5: 0x07} (alloy-trie's HashBuilder).
        let mut storage: Vec<(B256, Vec<u8>)> = [(0u64, 42u64), (5, 7)]
            .iter()
            .map(|(k, v)| {
                (
                    keccak256(U256::from(*k).to_be_bytes::<32>()),
                    alloy_rlp::encode(U256::from(*v)),
                )
            })
            .collect();
        storage.sort();
        let mut hb = alloy_trie::HashBuilder::default();
        for (k, v) in &storage {
            hb.add_leaf(alloy_trie::Nibbles::unpack(k), v);
        }
        let account = scion_types::Account {
            nonce: 1,
            balance: U256::ZERO,
            storage_root: hb.root(),
            code_hash: scion_types::KECCAK_EMPTY,
        };
        assert_eq!(
            (
                &p["address"],
                &p["nonce"],
                &p["balance"],
                &p["storageHash"],
                &p["codeHash"]
            ),
            (
                &json!(contract),
                &json!("0x1"),
                &json!("0x0"),
                &json!(account.storage_root),
                &json!(account.code_hash)
            )
        );
        let key = alloy_trie::Nibbles::unpack(keccak256(contract));
        alloy_trie::proof::verify_proof(root, key, Some(account.rlp()), &nodes)
            .expect("account proof");
        // The proof holds that account and no other.
        let other = scion_types::Account {
            nonce: 2,
            ..account
        };
        assert!(matches!(
            alloy_trie::proof::verify_proof(root, key, Some(other.rlp()), &nodes),
            Err(alloy_trie::proof::ProofVerificationError::ValueMismatch { .. })
        ));
        let want = [(0u64, 42u64), (5, 7), (9, 0)];
        for (i, (slot, value)) in want.iter().enumerate() {
            let sp = &p["storageProof"][i];
            assert_eq!(quantity(&sp["value"]), u128::from(*value));
            let nodes: Vec<Bytes> = sp["proof"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| Bytes::from(bytes(n)))
                .collect();
            let key = alloy_trie::Nibbles::unpack(keccak256(U256::from(*slot).to_be_bytes::<32>()));
            let expected = (*value != 0).then(|| alloy_rlp::encode(U256::from(*value)));
            alloy_trie::proof::verify_proof(account.storage_root, key, expected.clone(), &nodes)
                .expect("storage proof");
            // Present slots do not prove absence; the absent one does not prove a value.
            let wrong = match expected {
                Some(_) => None,
                None => Some(alloy_rlp::encode(U256::from(1))),
            };
            assert!(matches!(
                alloy_trie::proof::verify_proof(account.storage_root, key, wrong, &nodes),
                Err(alloy_trie::proof::ProofVerificationError::ValueMismatch { .. })
            ));
        }
        // A missing account proves its absence.
        let p = rpc(
            addr,
            "eth_getProof",
            json!([Address::repeat_byte(0x55), [], "latest"]),
        );
        let nodes: Vec<Bytes> = p["accountProof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| Bytes::from(bytes(n)))
            .collect();
        let key = alloy_trie::Nibbles::unpack(keccak256(Address::repeat_byte(0x55)));
        alloy_trie::proof::verify_proof(root, key, None, &nodes).expect("absence proof");
        let empty = scion_types::Account::default();
        assert_eq!(
            (
                &p["nonce"],
                &p["balance"],
                &p["storageHash"],
                &p["codeHash"]
            ),
            (
                &json!("0x0"),
                &json!("0x0"),
                &json!(empty.storage_root),
                &json!(empty.code_hash)
            )
        );
        assert!(matches!(
            alloy_trie::proof::verify_proof(root, key, Some(empty.rlp()), &nodes),
            Err(alloy_trie::proof::ProofVerificationError::ValueMismatch { .. })
        ));
        let e = rpc_raw(addr, "eth_getProof", json!([contract, [], "0x0"]));
        assert_eq!(
            e["error"],
            json!({"code": -32000, "message": "proofs are served for the latest block only"})
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn txpool_reports_pending_and_queued() {
    with_node(|addr| {
        let k: PrivateKeySigner = DEV_KEY0.parse().unwrap();
        // Nonce 3 while the account is at 0: queued behind the gap.
        let tx = TxEip1559 {
            chain_id: 7773,
            nonce: 3,
            gas_limit: 21_000,
            max_fee_per_gas: 50_000_000_000,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(Address::repeat_byte(9)),
            value: U256::from(11),
            ..Default::default()
        };
        let sig = k.sign_hash_sync(&tx.signature_hash()).unwrap();
        let raw = format!(
            "0x{}",
            hex::encode(TxEnvelope::from(tx.into_signed(sig)).encoded_2718())
        );
        let h = rpc(addr, "eth_sendRawTransaction", json!([raw]));
        assert_eq!(
            rpc(addr, "txpool_status", json!([])),
            json!({"pending": "0x0", "queued": "0x1"})
        );
        let content = rpc(addr, "txpool_content", json!([]));
        // Keys are lowercase hex addresses, as geth writes them.
        let sender = format!("{:#x}", k.address());
        assert!(content["queued"].get(&sender).is_some(), "{content}");
        assert_eq!(content["queued"][&sender]["3"]["hash"], h);
        assert_eq!(content["pending"], json!({}));
        let inspect = rpc(addr, "txpool_inspect", json!([]));
        let line = inspect["queued"][&sender]["3"].as_str().unwrap();
        assert!(line.contains("11 wei + 21000 gas"), "{line}");
    })
    .await;
}

/// Init code deploying runtime `PUSH1 0 SLOAD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN`.
const SLOT0_READER_INIT: &str = "602a600055600b6011600039600b6000f360005460005260206000f3";

#[tokio::test(flavor = "multi_thread")]
async fn access_lists_and_simulated_blocks() {
    with_node(|addr| {
        let h = rpc(addr, "eth_sendTransaction", json!([{"from": DEV_ADDR0, "data": format!("0x{SLOT0_READER_INIT}"), "gas": "0x30000"}]));
        let contract = wait_receipt(addr, h.as_str().unwrap())["contractAddress"].as_str().unwrap().to_string();
        let al = rpc(addr, "eth_createAccessList", json!([{"from": DEV_ADDR0, "to": contract}, "latest"]));
        let list = al["accessList"].as_array().unwrap();
        assert_eq!(list.len(), 1, "{al}");
        assert_eq!(list[0]["address"].as_str().unwrap().to_lowercase(), contract.to_lowercase());
        assert_eq!(list[0]["storageKeys"], json!([format!("0x{}", "00".repeat(32))]));
        assert!(quantity(&al["gasUsed"]) > 21_000, "{al}");
        assert!(al.get("error").is_none_or(|e| e.is_null()), "{al}");

        // Two simulated blocks: an override funds an empty account that then pays someone, the
        // second block sees the first's state and its own time, and a revert is reported.
        let rich = format!("{:#x}", Address::repeat_byte(0x61));
        let payee = format!("{:#x}", Address::repeat_byte(0x62));
        let head = quantity(&rpc(addr, "eth_blockNumber", json!([])));
        let payload = json!({
            "blockStateCalls": [
                {
                    "stateOverrides": {rich.clone(): {"balance": "0xde0b6b3a7640000"}},
                    "calls": [{"from": rich, "to": payee, "value": "0x3e8"}, {"to": contract}]
                },
                {
                    "blockOverrides": {"time": "0x7fffffff"},
                    "stateOverrides": {contract.clone(): {"stateDiff": {format!("0x{}", "00".repeat(32)): format!("0x{:064x}", 77)}}},
                    "calls": [{"from": payee, "to": rich, "value": "0x1"}, {"to": contract}, {"data": "0x63deadbeef6000526004601cfd"}]
                }
            ]
        });
        let sim = rpc(addr, "eth_simulateV1", json!([payload, "latest"]));
        let blocks = sim.as_array().unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(quantity(&blocks[0]["number"]), head + 1);
        assert_eq!(quantity(&blocks[1]["number"]), head + 2);
        assert_eq!(blocks[1]["timestamp"], "0x7fffffff");
        let c0 = &blocks[0]["calls"];
        assert_eq!((c0[0]["status"].clone(), c0[0]["gasUsed"].clone()), (json!("0x1"), json!("0x5208")), "{c0}");
        assert_eq!(quantity(&c0[1]["returnData"]), 42, "the real slot");
        let c1 = &blocks[1]["calls"];
        assert_eq!(c1[0]["status"], "0x1", "the payee spends what block 1 gave it: {c1}");
        assert_eq!(quantity(&c1[1]["returnData"]), 77, "the overridden slot");
        assert_eq!(c1[2]["status"], "0x0");
        assert_eq!(c1[2]["error"]["code"], 3);
        assert_eq!(c1[2]["returnData"], "0xdeadbeef");
        // Nothing was stored.
        assert_eq!(quantity(&rpc(addr, "eth_blockNumber", json!([]))), head);
        assert_eq!(rpc(addr, "eth_getBalance", json!([payee, "latest"])), "0x0");
    })
    .await;
}
