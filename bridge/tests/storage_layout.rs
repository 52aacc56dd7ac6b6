//! The Bridge's storage is consensus: its slots are in the state root. A whole peg flow on an
//! in-memory host (headers, peg-ins paid, refunded and unrefundable, release requests, a batch
//! confirmed and signed, its change registered back) must leave exactly these slots, logs and
//! payments; the test pins their digest. If it fails, the storage layout or an event changed.
use alloy_primitives::{b256, keccak256, Address, Bytes, B256, I256, U256};
use alloy_sol_types::SolCall;
use bitcoin::block::{Header, Version};
use bitcoin::hashes::Hash;
use bitcoin::merkle_tree::PartialMerkleTree;
use bitcoin::opcodes::all::{OP_CHECKMULTISIG, OP_RETURN};
use bitcoin::script::Builder;
use bitcoin::{
    absolute, transaction, Amount, CompactTarget, OutPoint, ScriptBuf, Sequence, Transaction, TxIn,
    TxMerkleNode, TxOut, Txid, Witness,
};
use k256::ecdsa::SigningKey;
use scion_bridge::abi::IBridge::*;
use scion_bridge::federator::{parse_release_state, public_key, sign_inputs};
use scion_bridge::headers::Chain;
use scion_bridge::{execute, rsk_address, Call, Config, MemHost, Outcome, Store};
use scion_types::ChainSpec;

const FED_KEYS: [&str; 3] = [
    "689af8efa8c651a91ad287602527f3af2fe9f6501a7ac4b061667b5a93e037fd",
    "de9be858da4a475276426320d5e9262ecfc3ba460bfac56360bfa6c4c28b4ee0",
    "df57089febbacf7ba0bc227dafbffa9fc08a93fdc68e1e42411a14efcf23656e",
];
const SAT: u64 = 10_000_000_000;

fn run(cfg: &Config, h: &mut MemHost, caller: Address, value: U256, input: &[u8]) -> Outcome {
    execute(
        cfg,
        h,
        Call {
            caller,
            value,
            input,
            gas_limit: 30_000_000,
            is_static: false,
        },
    )
    .unwrap()
}
fn ok(o: Outcome) -> Bytes {
    match o {
        Outcome::Success { output, .. } => output,
        o => panic!("{o:?}"),
    }
}
fn mine(prev: &Header, root: TxMerkleNode) -> Header {
    let mut h = Header {
        version: Version::from_consensus(0x2000_0000),
        prev_blockhash: prev.block_hash(),
        merkle_root: root,
        time: prev.time + 600,
        bits: CompactTarget::from_consensus(0x207f_ffff),
        nonce: 0,
    };
    while h.validate_pow(h.target()).is_err() {
        h.nonce += 1;
    }
    h
}
fn p2pkh_in(n: u8, pk: &bitcoin::PublicKey) -> TxIn {
    TxIn {
        previous_output: OutPoint::new(Txid::from_byte_array([n; 32]), 0),
        script_sig: Builder::new()
            .push_slice([0x30u8; 71])
            .push_key(pk)
            .into_script(),
        sequence: Sequence::MAX,
        witness: Witness::new(),
    }
}
fn tx(input: Vec<TxIn>, output: Vec<TxOut>) -> Transaction {
    Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input,
        output,
    }
}
fn pay(sat: u64, s: &ScriptBuf) -> TxOut {
    TxOut {
        value: Amount::from_sat(sat),
        script_pubkey: s.clone(),
    }
}

#[test]
fn a_whole_peg_flow_leaves_these_storage_bytes() {
    let cfg = Config::new(&ChainSpec::dev().params.bridge, "regtest").unwrap();
    let mut h = MemHost::default();
    {
        let mut st = Store::new(&mut h);
        Chain::new(&mut st, &cfg).init().unwrap();
    }
    let feds: Vec<(SigningKey, [u8; 33], Address)> = FED_KEYS
        .iter()
        .map(|k| {
            let key = SigningKey::from_slice(&hex::decode(k).unwrap()).unwrap();
            let btc = public_key(&key);
            let a = rsk_address(&bitcoin::PublicKey::from_slice(&btc).unwrap());
            (key, btc, a)
        })
        .collect();
    let users: Vec<(SigningKey, bitcoin::PublicKey, Address)> = (1..6u8)
        .map(|n| {
            let key = SigningKey::from_slice(&[n; 32]).unwrap();
            let pk = bitcoin::PublicKey::from_slice(&public_key(&key)).unwrap();
            (key, pk, rsk_address(&pk))
        })
        .collect();
    let fed = cfg.federation.script_pubkey.clone();
    let bad_payload = Builder::new()
        .push_opcode(OP_RETURN)
        .push_slice(b"RSKT\x02abcdefghijklmnopqrst")
        .into_script();
    let good_payload = {
        let mut p = b"RSKT\x01".to_vec();
        p.extend_from_slice(&[0x44; 20]);
        p.push(1);
        p.extend_from_slice(&[0x55; 20]);
        Builder::new()
            .push_opcode(OP_RETURN)
            .push_slice(<&bitcoin::script::PushBytes>::try_from(p.as_slice()).unwrap())
            .into_script()
    };
    let multisig = Builder::new()
        .push_int(1)
        .push_key(&users[3].1)
        .push_key(&users[4].1)
        .push_int(2)
        .push_opcode(OP_CHECKMULTISIG)
        .into_script();
    let ms_in = TxIn {
        previous_output: OutPoint::new(Txid::from_byte_array([77; 32]), 1),
        script_sig: Builder::new()
            .push_int(0)
            .push_slice([0x30u8; 71])
            .push_slice(<&bitcoin::script::PushBytes>::try_from(multisig.as_bytes()).unwrap())
            .into_script(),
        sequence: Sequence::MAX,
        witness: Witness::new(),
    };
    let txs = [
        // A P2PKH sender pegs in 1 BTC (plus change to itself): paid to its address.
        tx(
            vec![p2pkh_in(1, &users[0].1)],
            vec![
                pay(100_000_000, &fed),
                pay(5_000, &ScriptBuf::new_p2pkh(&users[0].1.pubkey_hash())),
            ],
        ),
        // Below the minimum: rejected, not refunded.
        tx(vec![p2pkh_in(2, &users[1].1)], vec![pay(1_000, &fed)]),
        // An RSKT payload of version 2: refunded to the sender (a queue entry keyed by txid).
        tx(
            vec![p2pkh_in(3, &users[2].1)],
            vec![
                pay(50_000_000, &fed),
                TxOut {
                    value: Amount::ZERO,
                    script_pubkey: bad_payload,
                },
            ],
        ),
        // A multisig sender: refunded to its P2SH.
        tx(
            vec![ms_in],
            vec![pay(30_000_000, &fed), pay(20_000_000, &fed)],
        ),
        // An RSKT payload with a destination and a refund address: paid to the destination.
        tx(
            vec![p2pkh_in(4, &users[2].1)],
            vec![
                pay(70_000_000, &fed),
                TxOut {
                    value: Amount::ZERO,
                    script_pubkey: good_payload,
                },
            ],
        ),
    ];
    let txids: Vec<Txid> = txs.iter().map(|t| t.compute_txid()).collect();
    let root = bitcoin::merkle_tree::calculate_root(txids.iter().map(|t| t.to_raw_hash())).unwrap();
    let mut tip = cfg.checkpoint;
    let mut headers = vec![];
    tip = mine(&tip, TxMerkleNode::from_raw_hash(root));
    headers.push(tip);
    for i in 0..12u8 {
        tip = mine(&tip, TxMerkleNode::from_byte_array([i; 32]));
        headers.push(tip);
    }
    let base_height = cfg.checkpoint_height;
    h.origin = feds[0].2;
    let raws: Vec<Bytes> = headers
        .iter()
        .map(|x| bitcoin::consensus::serialize(x).into())
        .collect();
    ok(run(
        &cfg,
        &mut h,
        feds[0].2,
        U256::ZERO,
        &receiveHeadersCall { blocks: raws }.abi_encode(),
    ));
    for (i, t) in txs.iter().enumerate() {
        let matches: Vec<bool> = (0..txs.len()).map(|j| j == i).collect();
        let pmt = PartialMerkleTree::from_txids(&txids, &matches);
        h.number = 1 + i as u64;
        h.tx_hash = B256::repeat_byte(0x10 + i as u8);
        let c = registerBtcTransactionCall {
            tx: bitcoin::consensus::serialize(t).into(),
            height: I256::try_from(base_height + 1).unwrap(),
            pmt: bitcoin::consensus::serialize(&pmt).into(),
        };
        ok(run(&cfg, &mut h, users[0].2, U256::ZERO, &c.abi_encode()));
    }
    // Release requests.
    for (i, u) in users.iter().enumerate() {
        h.origin = u.2;
        h.signer = Some(u.1.inner.serialize());
        h.tx_hash = B256::repeat_byte(0x40 + i as u8);
        h.number = 6;
        ok(run(
            &cfg,
            &mut h,
            u.2,
            U256::from((1_000_000 + 12_345 * i as u64) * SAT + 7),
            &[],
        ));
    }
    // Batches.
    let mut n = 6;
    for round in 0..3u8 {
        n += 10;
        h.number = n;
        h.tx_hash = B256::repeat_byte(0x80 + round);
        h.origin = feds[0].2;
        ok(run(
            &cfg,
            &mut h,
            feds[0].2,
            U256::ZERO,
            &updateCollectionsCall {}.abi_encode(),
        ));
    }
    let out = ok(run(
        &cfg,
        &mut h,
        Address::ZERO,
        U256::ZERO,
        &getStateForBtcReleaseClientCall {}.abi_encode(),
    ));
    let raw = getStateForBtcReleaseClientCall::abi_decode_returns(&out).unwrap();
    let waiting = parse_release_state(&raw).unwrap();
    assert!(!waiting.is_empty(), "a batch waits");
    let mut change_txs = vec![];
    for (hash, btx) in &waiting {
        // Input amounts: look them up from the peg-in outputs.
        let amounts: Vec<Amount> = btx
            .input
            .iter()
            .map(|i| {
                let t = txs
                    .iter()
                    .find(|t| t.compute_txid() == i.previous_output.txid)
                    .unwrap();
                t.output[i.previous_output.vout as usize].value
            })
            .collect();
        for f in &feds[..2] {
            let sigs = sign_inputs(btx, &amounts, &cfg.federation.redeem_script, &f.0).unwrap();
            let c = addSignatureCall {
                pubkey: f.1.to_vec().into(),
                signatures: sigs.into_iter().map(Bytes::from).collect(),
                txhash: hash.to_vec().into(),
            };
            h.origin = f.2;
            ok(run(&cfg, &mut h, f.2, U256::ZERO, &c.abi_encode()));
        }
        change_txs.push(btx.clone());
    }
    // Register the change of the first batch back.
    let ctxids: Vec<Txid> = change_txs.iter().map(|t| t.compute_txid()).collect();
    let root =
        bitcoin::merkle_tree::calculate_root(ctxids.iter().map(|t| t.to_raw_hash())).unwrap();
    let mut more = vec![];
    tip = mine(&tip, TxMerkleNode::from_raw_hash(root));
    more.push(tip);
    for i in 0..12u8 {
        tip = mine(&tip, TxMerkleNode::from_byte_array([i + 100; 32]));
        more.push(tip);
    }
    let raws: Vec<Bytes> = more
        .iter()
        .map(|x| bitcoin::consensus::serialize(x).into())
        .collect();
    h.origin = feds[0].2;
    ok(run(
        &cfg,
        &mut h,
        feds[0].2,
        U256::ZERO,
        &receiveHeadersCall { blocks: raws }.abi_encode(),
    ));
    let pmt = PartialMerkleTree::from_txids(&ctxids, &vec![true; ctxids.len()]);
    let c = registerBtcTransactionCall {
        tx: bitcoin::consensus::serialize(&change_txs[0]).into(),
        height: I256::try_from(base_height + 14).unwrap(),
        pmt: bitcoin::consensus::serialize(&pmt).into(),
    };
    h.number = 100;
    ok(run(&cfg, &mut h, users[0].2, U256::ZERO, &c.abi_encode()));
    // Getters that read the queue and the keys; their answers join the digest.
    for input in [
        getQueuedPegoutsCountCall {}.abi_encode(),
        getNextPegoutCreationBlockNumberCall {}.abi_encode(),
        getEstimatedFeesForNextPegOutEventCall {}.abi_encode(),
        getBtcBlockchainBestChainHeightCall {}.abi_encode(),
    ] {
        let o = ok(run(&cfg, &mut h, Address::ZERO, U256::ZERO, &input));
        h.logs
            .push(alloy_primitives::LogData::new_unchecked(vec![], o));
    }
    assert_eq!(
        (h.slots.len(), h.logs.len(), h.paid.len()),
        (228, 24, 7),
        "slots, logs and payments"
    );
    assert_eq!(
        digest(&h),
        b256!("771aafca5b2bd358bc543c2507f0909874cfc3b9a444b91bc9faf27010c69e95"),
        "the Bridge's storage, logs or payments changed"
    );
}

/// keccak256 over every slot (key ‖ value, in key order), every log (topics ‖ data) and every
/// payment (address ‖ wei).
fn digest(h: &MemHost) -> B256 {
    let mut b = Vec::new();
    for (k, v) in &h.slots {
        b.extend_from_slice(&k.to_be_bytes::<32>());
        b.extend_from_slice(&v.to_be_bytes::<32>());
    }
    for l in &h.logs {
        for t in l.topics() {
            b.extend_from_slice(t.as_slice());
        }
        b.extend_from_slice(&l.data);
    }
    for (a, w) in &h.paid {
        b.extend_from_slice(a.as_slice());
        b.extend_from_slice(&w.to_be_bytes::<32>());
    }
    keccak256(&b)
}
