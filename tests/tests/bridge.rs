//! The Bridge end to end on a running dev node: Rootstock's ABI, the federation, headers from
//! an in-process regtest chain, and peg-ins registered through eth_sendRawTransaction.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{hex, keccak256, Address, Bytes, TxKind, B256, I256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use bitcoin::consensus::serialize;
use bitcoin::{Amount, OutPoint, ScriptBuf, TxOut};
use scion_bridge::abi::IBridge::{self, *};
use scion_bridge::rsk_address;
use scion_e2e::btc::{op_return, BtcKey, Regtest};
use scion_e2e::{quantity, root, rpc, rpc_raw, run, wait_receipt, NodeProcess, DEV_KEY0};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::process::Command;

const BRIDGE: &str = "0x0000000000000000000000000000000001000006";
/// Test-mnemonic account 17: the first dev federator.
const FEDERATOR_KEY: &str = "0x689af8efa8c651a91ad287602527f3af2fe9f6501a7ac4b061667b5a93e037fd";
const SAT: u128 = 10_000_000_000;

fn call(addr: SocketAddr, data: Vec<u8>) -> Result<Vec<u8>, String> {
    let v = rpc_raw(
        addr,
        "eth_call",
        json!([{"to": BRIDGE, "data": format!("0x{}", hex::encode(data))}, "latest"]),
    );
    match v.get("result") {
        Some(r) => Ok(hex::decode(r.as_str().unwrap().trim_start_matches("0x")).unwrap()),
        None => Err(v["error"].to_string()),
    }
}

fn get<C: SolCall>(addr: SocketAddr, c: C) -> C::Return {
    C::abi_decode_returns(&call(addr, c.abi_encode()).unwrap()).unwrap()
}

/// Sends `data` to the Bridge as a signed EIP-1559 transaction; returns the receipt.
fn send(addr: SocketAddr, key: &str, data: Vec<u8>) -> Value {
    let k: PrivateKeySigner = key.parse().unwrap();
    let nonce = quantity(&rpc(
        addr,
        "eth_getTransactionCount",
        json!([k.address(), "pending"]),
    ));
    let tx = TxEip1559 {
        chain_id: 7773,
        nonce: nonce as u64,
        gas_limit: 5_000_000,
        max_fee_per_gas: 100_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(BRIDGE.parse().unwrap()),
        value: U256::ZERO,
        input: Bytes::from(data),
        ..Default::default()
    };
    let sig = k.sign_hash_sync(&tx.signature_hash()).unwrap();
    let raw = hex::encode(TxEnvelope::from(tx.into_signed(sig)).encoded_2718());
    let hash = rpc(addr, "eth_sendRawTransaction", json!([format!("0x{raw}")]));
    wait_receipt(addr, hash.as_str().unwrap())
}

fn balance(addr: SocketAddr, a: Address) -> u128 {
    quantity(&rpc(addr, "eth_getBalance", json!([a, "latest"])))
}

fn ok(r: &Value) -> bool {
    r["status"] == "0x1"
}

fn topic0s(r: &Value) -> Vec<B256> {
    r["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["topics"][0].as_str().unwrap().parse().unwrap())
        .collect()
}

fn register(tx: &bitcoin::Transaction, height: u32, pmt: Vec<u8>) -> Vec<u8> {
    registerBtcTransactionCall {
        tx: serialize(tx).into(),
        height: I256::try_from(height).unwrap(),
        pmt: pmt.into(),
    }
    .abi_encode()
}

fn relay(addr: SocketAddr, chain: &Regtest, from: u32) -> Value {
    let headers = chain.headers(from).into_iter().map(Bytes::from).collect();
    let r = send(
        addr,
        FEDERATOR_KEY,
        receiveHeadersCall { blocks: headers }.abi_encode(),
    );
    assert!(ok(&r), "receiveHeaders failed: {r}");
    r
}

fn federation_script(addr: SocketAddr) -> ScriptBuf {
    let a: String = get(addr, getFederationAddressCall {});
    a.parse::<bitcoin::Address<_>>()
        .unwrap()
        .require_network(bitcoin::Network::Regtest)
        .unwrap()
        .script_pubkey()
}

fn pay(value_sat: u64, script: &ScriptBuf) -> TxOut {
    TxOut {
        value: Amount::from_sat(value_sat),
        script_pubkey: script.clone(),
    }
}

#[test]
fn selectors_and_events_match_rootstocks_abi() {
    let path = root().join("tools/node_modules/@rsksmart/rsk-precompiled-abis/abis/bridge.json");
    let abi: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(&path).expect("run scripts/install-tools.sh"),
    )
    .unwrap();
    let sig = |e: &Value| {
        let types: Vec<&str> = e["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| match i["type"].as_str().unwrap() {
                "int" => "int256",
                t => t,
            })
            .collect();
        format!("{}({})", e["name"].as_str().unwrap(), types.join(","))
    };
    let functions: Vec<&Value> = abi.iter().filter(|e| e["type"] == "function").collect();
    let events: Vec<&Value> = abi.iter().filter(|e| e["type"] == "event").collect();
    assert_eq!((functions.len(), events.len()), (75, 19));
    let ours = [
        (
            registerBtcTransactionCall::SIGNATURE,
            registerBtcTransactionCall::SELECTOR,
        ),
        (receiveHeadersCall::SIGNATURE, receiveHeadersCall::SELECTOR),
        (receiveHeaderCall::SIGNATURE, receiveHeaderCall::SELECTOR),
        (releaseBtcCall::SIGNATURE, releaseBtcCall::SELECTOR),
        (addSignatureCall::SIGNATURE, addSignatureCall::SELECTOR),
        (
            updateCollectionsCall::SIGNATURE,
            updateCollectionsCall::SELECTOR,
        ),
        (
            getStateForBtcReleaseClientCall::SIGNATURE,
            getStateForBtcReleaseClientCall::SELECTOR,
        ),
        (
            getBtcBlockchainBestChainHeightCall::SIGNATURE,
            getBtcBlockchainBestChainHeightCall::SELECTOR,
        ),
        (
            getBtcBlockchainInitialBlockHeightCall::SIGNATURE,
            getBtcBlockchainInitialBlockHeightCall::SELECTOR,
        ),
        (
            getBtcBlockchainBlockHashAtDepthCall::SIGNATURE,
            getBtcBlockchainBlockHashAtDepthCall::SELECTOR,
        ),
        (
            getBtcBlockchainBestBlockHeaderCall::SIGNATURE,
            getBtcBlockchainBestBlockHeaderCall::SELECTOR,
        ),
        (
            getBtcBlockchainBlockHeaderByHashCall::SIGNATURE,
            getBtcBlockchainBlockHeaderByHashCall::SELECTOR,
        ),
        (
            getBtcBlockchainBlockHeaderByHeightCall::SIGNATURE,
            getBtcBlockchainBlockHeaderByHeightCall::SELECTOR,
        ),
        (
            getBtcTransactionConfirmationsCall::SIGNATURE,
            getBtcTransactionConfirmationsCall::SELECTOR,
        ),
        (
            isBtcTxHashAlreadyProcessedCall::SIGNATURE,
            isBtcTxHashAlreadyProcessedCall::SELECTOR,
        ),
        (
            getBtcTxHashProcessedHeightCall::SIGNATURE,
            getBtcTxHashProcessedHeightCall::SELECTOR,
        ),
        (
            getFederationAddressCall::SIGNATURE,
            getFederationAddressCall::SELECTOR,
        ),
        (
            getFederationSizeCall::SIGNATURE,
            getFederationSizeCall::SELECTOR,
        ),
        (
            getFederationThresholdCall::SIGNATURE,
            getFederationThresholdCall::SELECTOR,
        ),
        (
            getFederatorPublicKeyOfTypeCall::SIGNATURE,
            getFederatorPublicKeyOfTypeCall::SELECTOR,
        ),
        (
            getActivePowpegRedeemScriptCall::SIGNATURE,
            getActivePowpegRedeemScriptCall::SELECTOR,
        ),
        (
            getMinimumLockTxValueCall::SIGNATURE,
            getMinimumLockTxValueCall::SELECTOR,
        ),
        (getFeePerKbCall::SIGNATURE, getFeePerKbCall::SELECTOR),
        (getLockingCapCall::SIGNATURE, getLockingCapCall::SELECTOR),
        (
            getNextPegoutCreationBlockNumberCall::SIGNATURE,
            getNextPegoutCreationBlockNumberCall::SELECTOR,
        ),
        (
            getQueuedPegoutsCountCall::SIGNATURE,
            getQueuedPegoutsCountCall::SELECTOR,
        ),
        (
            getEstimatedFeesForNextPegOutEventCall::SIGNATURE,
            getEstimatedFeesForNextPegOutEventCall::SELECTOR,
        ),
    ];
    for (signature, selector) in ours {
        let f = functions
            .iter()
            .find(|f| sig(f) == signature)
            .unwrap_or_else(|| panic!("{signature} is not in Rootstock's ABI"));
        assert_eq!(keccak256(sig(f))[..4], selector, "{signature}");
    }
    // PROTOCOL.md's selectors, as printed there.
    assert_eq!(
        hex::encode(registerBtcTransactionCall::SELECTOR),
        "43dc0656"
    );
    assert_eq!(hex::encode(receiveHeadersCall::SELECTOR), "e5400e7b");
    assert_eq!(
        hex::encode(getBtcTransactionConfirmationsCall::SELECTOR),
        "5b644587"
    );
    let our_events = [
        (
            IBridge::pegin_btc::SIGNATURE,
            IBridge::pegin_btc::SIGNATURE_HASH,
        ),
        (
            IBridge::rejected_pegin::SIGNATURE,
            IBridge::rejected_pegin::SIGNATURE_HASH,
        ),
        (
            IBridge::unrefundable_pegin::SIGNATURE,
            IBridge::unrefundable_pegin::SIGNATURE_HASH,
        ),
        (
            IBridge::release_request_received::SIGNATURE,
            IBridge::release_request_received::SIGNATURE_HASH,
        ),
        (
            IBridge::release_request_rejected::SIGNATURE,
            IBridge::release_request_rejected::SIGNATURE_HASH,
        ),
        (
            IBridge::release_requested::SIGNATURE,
            IBridge::release_requested::SIGNATURE_HASH,
        ),
        (
            IBridge::batch_pegout_created::SIGNATURE,
            IBridge::batch_pegout_created::SIGNATURE_HASH,
        ),
        (
            IBridge::pegout_confirmed::SIGNATURE,
            IBridge::pegout_confirmed::SIGNATURE_HASH,
        ),
        (
            IBridge::add_signature::SIGNATURE,
            IBridge::add_signature::SIGNATURE_HASH,
        ),
        (
            IBridge::release_btc::SIGNATURE,
            IBridge::release_btc::SIGNATURE_HASH,
        ),
        (
            IBridge::update_collections::SIGNATURE,
            IBridge::update_collections::SIGNATURE_HASH,
        ),
    ];
    for (signature, topic) in our_events {
        let e = events
            .iter()
            .find(|e| sig(e) == signature)
            .unwrap_or_else(|| panic!("event {signature} is not in Rootstock's ABI"));
        assert_eq!(keccak256(sig(e)), topic, "{signature}");
    }
}

#[test]
fn pegin_end_to_end_with_every_bad_input_refused() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(&dir.path().join("data"), &[]);
    let addr = node.addr;

    // The federation, as genesis defines it.
    let size: I256 = get(addr, getFederationSizeCall {});
    let threshold: I256 = get(addr, getFederationThresholdCall {});
    assert_eq!(
        (size, threshold),
        (I256::try_from(3).unwrap(), I256::try_from(2).unwrap())
    );
    let fed = federation_script(addr);
    assert!(fed.is_p2sh());
    let redeem: Bytes = get(addr, getActivePowpegRedeemScriptCall {});
    let program = ScriptBuf::new_p2wsh(&ScriptBuf::from_bytes(redeem.to_vec()).wscript_hash());
    assert_eq!(
        fed,
        ScriptBuf::new_p2sh(&program.script_hash()),
        "P2SH-P2WSH of the redeem script"
    );
    let rsk0: Bytes = get(
        addr,
        getFederatorPublicKeyOfTypeCall {
            index: I256::ZERO,
            atype: "rsk".into(),
        },
    );
    assert_eq!(rsk0.len(), 33);
    let initial: I256 = get(addr, getBtcBlockchainInitialBlockHeightCall {});
    assert_eq!(initial, I256::ZERO);

    // A regtest chain: block 1 pays the user, block 2 holds the peg-in, 3 and 4 confirm it.
    let user = BtcKey::new([7; 32]);
    let miner = BtcKey::new([9; 32]).p2pkh();
    let mut chain = Regtest::new();
    let funding = chain.mine(vec![], &user.p2pkh()).txdata[0].compute_txid();
    let pegin = user.spend(
        OutPoint::new(funding, 0),
        vec![pay(50_000_000, &fed), pay(4_949_000_000, &user.p2pkh())],
    );
    chain.mine(vec![pegin.clone()], &miner);
    chain.mine(vec![], &miner);
    chain.mine(vec![], &miner);

    // Only federators relay batches of headers.
    let stranger = send(
        addr,
        DEV_KEY0,
        receiveHeadersCall { blocks: vec![] }.abi_encode(),
    );
    assert!(
        !ok(&stranger),
        "a non-federator's receiveHeaders must revert"
    );
    let r = relay(addr, &chain, 1);
    eprintln!(
        "receiveHeaders(4 headers) gasUsed {}",
        quantity(&r["gasUsed"])
    );
    let best: I256 = get(addr, getBtcBlockchainBestChainHeightCall {});
    assert_eq!(best, I256::try_from(4).unwrap());
    let tip: Bytes = get(addr, getBtcBlockchainBestBlockHeaderCall {});
    assert_eq!(tip.to_vec(), chain.headers(4)[0]);

    let dest = rsk_address(&user.public);
    let bridge: Address = BRIDGE.parse().unwrap();
    let (dest0, bridge0) = (balance(addr, dest), balance(addr, bridge));
    let txid = pegin.compute_txid().to_string();

    // Bad input first, each refused with nothing credited.
    let refused = |data: Vec<u8>, why: &str| {
        let e = call(addr, data.clone()).expect_err(why);
        assert!(e.contains(why), "expected {why:?} in {e}");
        let before = balance(addr, dest);
        let r = send(addr, DEV_KEY0, data);
        assert!(!ok(&r), "{why}: transaction should revert");
        assert_eq!(balance(addr, dest), before, "{why}: nothing credited");
    };
    refused(register(&pegin, 1, chain.pmt(2, 1)), "merkle root");
    refused(register(&pegin, 2, chain.pmt(2, 0)), "does not include");
    refused(register(&pegin, 9, chain.pmt(2, 1)), "no block at height 9");
    refused(
        registerBtcTransactionCall {
            tx: Bytes::from(vec![0xde, 0xad, 0xbe, 0xef, 1, 2, 3]),
            height: I256::try_from(2).unwrap(),
            pmt: chain.pmt(2, 1).into(),
        }
        .abi_encode(),
        "not a Bitcoin transaction",
    );
    let mut garbled = registerBtcTransactionCall::SELECTOR.to_vec();
    garbled.extend_from_slice(&[1, 2, 3]);
    refused(garbled, "malformed arguments");

    // The peg-in.
    let r = send(addr, DEV_KEY0, register(&pegin, 2, chain.pmt(2, 1)));
    assert!(ok(&r), "registerBtcTransaction failed: {r}");
    eprintln!("registerBtcTransaction gasUsed {}", quantity(&r["gasUsed"]));
    assert_eq!(topic0s(&r), vec![IBridge::pegin_btc::SIGNATURE_HASH]);
    let log = &r["logs"][0];
    assert_eq!(log["address"].as_str().unwrap().to_lowercase(), BRIDGE);
    let receiver: B256 = log["topics"][1].as_str().unwrap().parse().unwrap();
    assert_eq!(Address::from_word(receiver), dest);
    assert_eq!(
        log["topics"][2].as_str().unwrap(),
        format!("0x{txid}"),
        "display order"
    );
    assert_eq!(balance(addr, dest), dest0 + 50_000_000 * SAT);
    assert_eq!(balance(addr, bridge), bridge0 - 50_000_000 * SAT);
    assert!(get(
        addr,
        isBtcTxHashAlreadyProcessedCall { hash: txid.clone() }
    ));
    let at: i64 = get(addr, getBtcTxHashProcessedHeightCall { hash: txid.clone() });
    assert_eq!(at as u128, quantity(&r["blockNumber"]));

    // Twice is refused.
    refused(register(&pegin, 2, chain.pmt(2, 1)), "already processed");

    // Too few confirmations: block 5 holds a second peg-in, with 1 confirmation.
    let change = OutPoint::new(pegin.compute_txid(), 1);
    let second = user.spend(
        change,
        vec![pay(20_000_000, &fed), pay(4_928_000_000, &user.p2pkh())],
    );
    chain.mine(vec![second.clone()], &miner);
    relay(addr, &chain, 5);
    refused(
        register(&second, 5, chain.pmt(5, 1)),
        "1 confirmations, 3 needed",
    );
    chain.mine(vec![], &miner);
    chain.mine(vec![], &miner);
    relay(addr, &chain, 6);
    let r = send(addr, DEV_KEY0, register(&second, 5, chain.pmt(5, 1)));
    assert!(ok(&r));
    assert_eq!(balance(addr, dest), dest0 + 70_000_000 * SAT);

    // Below the minimum: recorded and rejected, not credited, not refundable.
    let third_in = OutPoint::new(second.compute_txid(), 1);
    let small = user.spend(
        third_in,
        vec![pay(50_000, &fed), pay(4_927_900_000, &user.p2pkh())],
    );
    // A malformed RSKT payload: rejected and queued for a refund to the sender.
    let bad_rskt = {
        let funding = chain.mine(vec![small.clone()], &user.p2pkh()).txdata[0].compute_txid();
        user.spend(
            OutPoint::new(funding, 0),
            vec![
                op_return(b"RSKT\x01short"),
                pay(1_000_000, &fed),
                pay(4_998_000_000, &user.p2pkh()),
            ],
        )
    };
    chain.mine(vec![bad_rskt.clone()], &miner);
    chain.mine(vec![], &miner);
    chain.mine(vec![], &miner);
    relay(addr, &chain, 8);
    let r = send(addr, DEV_KEY0, register(&small, 8, chain.pmt(8, 1)));
    assert!(ok(&r));
    assert_eq!(
        topic0s(&r),
        vec![
            IBridge::rejected_pegin::SIGNATURE_HASH,
            IBridge::unrefundable_pegin::SIGNATURE_HASH
        ]
    );
    assert_eq!(
        I256::from_raw(U256::from_be_slice(
            &hex::decode(
                r["logs"][0]["data"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("0x")
            )
            .unwrap()
        )),
        I256::try_from(5).unwrap()
    );
    let r = send(addr, DEV_KEY0, register(&bad_rskt, 9, chain.pmt(9, 1)));
    assert!(ok(&r));
    assert_eq!(topic0s(&r), vec![IBridge::rejected_pegin::SIGNATURE_HASH]);
    let queued: U256 = get(addr, getQueuedPegoutsCountCall {});
    assert_eq!(
        queued,
        U256::from(1),
        "the bad-payload peg-in is owed back to its sender"
    );
    assert_eq!(
        balance(addr, dest),
        dest0 + 70_000_000 * SAT,
        "rejected peg-ins credit nothing"
    );

    // Headers: bad proof of work, bad nBits, unknown parent, wrong size.
    let receive = |h: &bitcoin::block::Header| -> I256 {
        get(
            addr,
            receiveHeaderCall {
                block: serialize(h).into(),
            },
        )
    };
    let tip = chain.blocks.last().unwrap().header;
    let mut next = bitcoin::block::Header {
        prev_blockhash: tip.block_hash(),
        time: tip.time + 1,
        nonce: 0,
        ..tip
    };
    while next.validate_pow(next.target()).is_ok() {
        next.nonce += 1;
    }
    assert_eq!(
        receive(&next),
        I256::try_from(-99).unwrap(),
        "bad proof of work"
    );
    let mut bits = next;
    bits.bits = bitcoin::CompactTarget::from_consensus(0x207f_fffe);
    scion_e2e::btc::grind(&mut bits);
    assert_eq!(receive(&bits), I256::try_from(-99).unwrap(), "bad nBits");
    let r = send(
        addr,
        FEDERATOR_KEY,
        receiveHeadersCall {
            blocks: vec![serialize(&bits).into()],
        }
        .abi_encode(),
    );
    assert!(!ok(&r), "receiveHeaders with bad nBits must revert");
    let e = call(
        addr,
        receiveHeadersCall {
            blocks: vec![serialize(&bits).into()],
        }
        .abi_encode(),
    );
    assert!(e.is_err(), "eth_call from no federator reverts too");
    let mut orphan = next;
    orphan.prev_blockhash = bitcoin::BlockHash::from_raw_hash(bitcoin::hashes::Hash::all_zeros());
    scion_e2e::btc::grind(&mut orphan);
    assert_eq!(
        receive(&orphan),
        I256::try_from(-3).unwrap(),
        "unknown parent"
    );
    let short: I256 = get(
        addr,
        receiveHeaderCall {
            block: vec![0u8; 79].into(),
        },
    );
    assert_eq!(short, I256::try_from(-20).unwrap());
    let mut good = next;
    scion_e2e::btc::grind(&mut good);
    assert_eq!(receive(&good), I256::ZERO, "anyone may add a good header");
    let best: I256 = get(addr, getBtcBlockchainBestChainHeightCall {});
    assert_eq!(
        best,
        I256::try_from(chain.height()).unwrap(),
        "eth_call changed nothing"
    );

    // Unknown selector and value to a non-payable method revert with a reason.
    let e = call(addr, vec![1, 2, 3, 4]).unwrap_err();
    assert!(e.contains("unknown method selector"), "{e}");
}

#[test]
fn pegin_with_rskt_destination_and_a_proof_from_npm_pmt_builder() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(&dir.path().join("data"), &[]);
    let addr = node.addr;
    let fed = federation_script(addr);

    let user = BtcKey::new([11; 32]);
    let dest: Address = "0x00000000000000000000000000000000c0ffee01"
        .parse()
        .unwrap();
    let mut payload = b"RSKT\x01".to_vec();
    payload.extend_from_slice(dest.as_slice());
    let mut chain = Regtest::new();
    let funding = chain.mine(vec![], &user.p2pkh()).txdata[0].compute_txid();
    // Filler transactions so the proof has a real tree to walk.
    let filler: Vec<_> = (0..4u8)
        .map(|i| {
            BtcKey::new([20 + i; 32]).spend(
                OutPoint::new(funding, 1 + u32::from(i)),
                vec![pay(1000, &user.p2pkh())],
            )
        })
        .collect();
    let pegin = user.spend(
        OutPoint::new(funding, 0),
        vec![pay(123_456_789, &fed), op_return(&payload)],
    );
    let mut txs = filler;
    txs.insert(2, pegin.clone());
    chain.mine(txs, &user.p2pkh());
    // 100 headers in one receiveHeaders call (98 empty blocks after the peg-in's).
    for _ in 0..98 {
        chain.mine(vec![], &user.p2pkh());
    }
    let r = relay(addr, &chain, 1);
    eprintln!(
        "receiveHeaders(100 headers) gasUsed {}",
        quantity(&r["gasUsed"])
    );
    let best: I256 = get(addr, getBtcBlockchainBestChainHeightCall {});
    assert_eq!(best, I256::try_from(100).unwrap());

    let block = &chain.blocks[2];
    let leaves: Vec<String> = block
        .txdata
        .iter()
        .map(|t| t.compute_txid().to_string())
        .collect();
    let script = format!(
        "const {{ buildPMT }} = require('@rsksmart/pmt-builder'); \
         process.stdout.write(buildPMT({}, '{}').hex)",
        serde_json::to_string(&leaves).unwrap(),
        pegin.compute_txid()
    );
    let pmt = run(Command::new("node")
        .arg("-e")
        .arg(script)
        .current_dir(root().join("tools")));
    assert_eq!(
        hex::decode(&pmt).unwrap(),
        chain.pmt(2, 3),
        "pmt-builder and rust-bitcoin agree"
    );

    let r = send(
        addr,
        DEV_KEY0,
        register(&pegin, 2, hex::decode(&pmt).unwrap()),
    );
    assert!(ok(&r), "{r}");
    assert_eq!(
        balance(addr, dest),
        123_456_789 * SAT,
        "credited to the RSKT destination"
    );
    let version = &r["logs"][0]["data"].as_str().unwrap()[2 + 64..];
    assert_eq!(
        U256::from_str_radix(version, 16).unwrap(),
        U256::from(1),
        "protocol version 1"
    );
    // The sender's own address got nothing.
    assert_eq!(balance(addr, rsk_address(&user.public)), 0);
}
