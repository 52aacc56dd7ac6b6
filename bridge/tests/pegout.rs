//! Peg-out in the Bridge on an in-memory host: release requests and their refunds, batching
//! under the interval, input cap and fee rules, confirmation depth, addSignature's checks, and
//! the released transaction verified input by input by Bitcoin Core's interpreter
//! (bitcoinconsensus).

use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_sol_types::{Revert, SolCall, SolError, SolEvent};
use bitcoin::consensus::deserialize;
use bitcoin::hashes::Hash;
use bitcoin::{Amount, OutPoint, ScriptBuf, Transaction, TxOut, Txid};
use k256::ecdsa::SigningKey;
use scion_bridge::abi::IBridge::{self, *};
use scion_bridge::federator::{parse_release_state, public_key, sign_inputs};
use scion_bridge::headers::Chain;
use scion_bridge::queue::Reference;
use scion_bridge::{execute, pegout, queue, rsk_address, Call, Config, MemHost, Outcome, Store};
use scion_types::ChainSpec;
use std::collections::HashMap;

/// The dev federation's keys (test-mnemonic accounts 17, 18, 19).
const FED_KEYS: [&str; 3] = [
    "689af8efa8c651a91ad287602527f3af2fe9f6501a7ac4b061667b5a93e037fd",
    "de9be858da4a475276426320d5e9262ecfc3ba460bfac56360bfa6c4c28b4ee0",
    "df57089febbacf7ba0bc227dafbffa9fc08a93fdc68e1e42411a14efcf23656e",
];
const SAT: u64 = 10_000_000_000;

fn dev_config() -> Config {
    Config::new(&ChainSpec::dev().params.bridge, "regtest").unwrap()
}

fn host(cfg: &Config) -> MemHost {
    let mut h = MemHost::default();
    let mut st = Store::new(&mut h);
    Chain::new(&mut st, cfg).init().unwrap();
    queue::set_locked(&mut st, Amount::from_sat(100 * 100_000_000)).unwrap();
    h
}

struct Fed {
    key: SigningKey,
    btc: [u8; 33],
    address: Address,
}

fn federators() -> Vec<Fed> {
    FED_KEYS
        .iter()
        .map(|k| {
            let key = SigningKey::from_slice(&hex::decode(k).unwrap()).unwrap();
            let btc = public_key(&key);
            let pk = bitcoin::PublicKey::from_slice(&btc).unwrap();
            Fed {
                key,
                btc,
                address: rsk_address(&pk),
            }
        })
        .collect()
}

/// A user: key, compressed public key, address.
fn user(n: u8) -> (SigningKey, [u8; 33], Address) {
    let key = SigningKey::from_slice(&[n; 32]).unwrap();
    let pk = public_key(&key);
    let a = rsk_address(&bitcoin::PublicKey::from_slice(&pk).unwrap());
    (key, pk, a)
}

fn run(cfg: &Config, h: &mut MemHost, caller: Address, value: U256, input: &[u8]) -> Outcome {
    execute(
        cfg,
        h,
        Call {
            caller,
            value,
            input,
            gas_limit: 10_000_000,
            is_static: false,
        },
    )
    .unwrap()
}

fn ok(o: Outcome) -> Bytes {
    match o {
        Outcome::Success { output, .. } => output,
        other => panic!("expected success, got {other:?} ({:?})", reason(&other)),
    }
}

fn reason(o: &Outcome) -> String {
    match o {
        Outcome::Revert { output, .. } => Revert::abi_decode(output).unwrap().reason,
        other => format!("not a revert: {other:?}"),
    }
}

/// A signed transaction from `u` sending `wei` to the Bridge (tx.origin = u).
fn request(
    cfg: &Config,
    h: &mut MemHost,
    u: &(SigningKey, [u8; 33], Address),
    wei: U256,
    tx: B256,
) {
    h.origin = u.2;
    h.signer = Some(u.1);
    h.tx_hash = tx;
    ok(run(cfg, h, u.2, wei, &[]));
}

fn events<E: SolEvent>(h: &MemHost) -> Vec<E> {
    h.logs
        .iter()
        .filter_map(|l| E::decode_log_data(l).ok())
        .collect()
}

fn queued(cfg: &Config, h: &mut MemHost) -> U256 {
    let out = ok(run(
        cfg,
        h,
        Address::ZERO,
        U256::ZERO,
        &getQueuedPegoutsCountCall {}.abi_encode(),
    ));
    getQueuedPegoutsCountCall::abi_decode_returns(&out).unwrap()
}

fn state(cfg: &Config, h: &mut MemHost) -> Vec<(B256, Transaction)> {
    let out = ok(run(
        cfg,
        h,
        Address::ZERO,
        U256::ZERO,
        &getStateForBtcReleaseClientCall {}.abi_encode(),
    ));
    let raw = getStateForBtcReleaseClientCall::abi_decode_returns(&out).unwrap();
    parse_release_state(&raw).unwrap()
}

fn update(cfg: &Config, h: &mut MemHost, fed: &Fed, block: u64, tx: B256) -> Outcome {
    h.number = block;
    h.tx_hash = tx;
    h.origin = fed.address;
    run(
        cfg,
        h,
        fed.address,
        U256::ZERO,
        &updateCollectionsCall {}.abi_encode(),
    )
}

fn add_signature(
    cfg: &Config,
    h: &mut MemHost,
    caller: Address,
    key: &[u8; 33],
    sigs: Vec<Vec<u8>>,
    hash: B256,
) -> Outcome {
    let c = addSignatureCall {
        pubkey: key.to_vec().into(),
        signatures: sigs.into_iter().map(Bytes::from).collect(),
        txhash: hash.to_vec().into(),
    };
    run(cfg, h, caller, U256::ZERO, &c.abi_encode())
}

/// Federation UTXOs of these values, with made-up funding transactions.
fn fund(cfg: &Config, h: &mut MemHost, values: &[u64]) -> HashMap<OutPoint, TxOut> {
    let mut st = Store::new(h);
    let mut spent = HashMap::new();
    for (i, v) in values.iter().enumerate() {
        let txid = Txid::from_byte_array([i as u8 + 1; 32]);
        queue::add_utxo(&mut st, txid, i as u32, Amount::from_sat(*v)).unwrap();
        spent.insert(
            OutPoint::new(txid, i as u32),
            TxOut {
                value: Amount::from_sat(*v),
                script_pubkey: cfg.federation.script_pubkey.clone(),
            },
        );
    }
    spent
}

#[test]
fn requests_queue_or_are_refunded_with_their_reason() {
    let cfg = dev_config();
    let mut h = host(&cfg);
    let alice = user(7);
    // 0.01 BTC and 5 wei: the satoshis queue, the 5 wei go back.
    let wei = U256::from(1_000_000 * SAT + 5);
    request(&cfg, &mut h, &alice, wei, B256::repeat_byte(1));
    assert_eq!(queued(&cfg, &mut h), U256::from(1));
    assert_eq!(h.paid, vec![(alice.2, U256::from(5))]);
    let got: Vec<IBridge::release_request_received> = events(&h);
    let pk = bitcoin::PublicKey::from_slice(&alice.1).unwrap();
    let expected = bitcoin::Address::p2pkh(pk.pubkey_hash(), bitcoin::Network::Regtest);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].sender, alice.2);
    assert_eq!(got[0].btcDestinationAddress, expected.to_string());
    assert_eq!(got[0].amount, U256::from(1_000_000));
    let mut st = Store::new(&mut h);
    assert_eq!(
        queue::locked(&mut st).unwrap(),
        Amount::from_sat(100 * 100_000_000 - 1_000_000)
    );
    let e = queue::entries(&mut st).unwrap();
    assert_eq!(e[0].script, expected.script_pubkey());
    assert_eq!(e[0].reference, Reference::Release(B256::repeat_byte(1)));

    // A contract calling the Bridge (msg.sender ≠ tx.origin): refunded, reason 2.
    h.paid.clear();
    h.logs.clear();
    h.origin = alice.2;
    let contract = Address::repeat_byte(0xcc);
    ok(run(
        &cfg,
        &mut h,
        contract,
        U256::from(2_000_000 * SAT),
        &releaseBtcCall {}.abi_encode(),
    ));
    // Below the minimum (50,000 sat on dev): reason 1.
    let bob = user(8);
    h.origin = bob.2;
    ok(run(&cfg, &mut h, bob.2, U256::from(49_999 * SAT), &[]));
    assert_eq!(
        h.paid,
        vec![
            (contract, U256::from(2_000_000 * SAT)),
            (bob.2, U256::from(49_999 * SAT))
        ]
    );
    let rejected: Vec<IBridge::release_request_rejected> = events(&h);
    let reasons: Vec<_> = rejected
        .iter()
        .map(|r| (r.sender, r.amount.to::<u64>(), r.reason.as_i64()))
        .collect();
    assert_eq!(reasons, vec![(contract, 2_000_000, 2), (bob.2, 49_999, 1)]);

    // A fee rate so high the fee exceeds the value: reason 3.
    let mut p = ChainSpec::dev().params.bridge;
    p.fee_per_kb = 10_000_000;
    let dear = Config::new(&p, "regtest").unwrap();
    let fee = pegout::estimated_fee(&dear, 2);
    assert!(fee > Amount::from_sat(1_000_000), "fee {fee}");
    h.logs.clear();
    request(
        &dear,
        &mut h,
        &bob,
        U256::from(1_000_000 * SAT),
        B256::repeat_byte(2),
    );
    let rejected: Vec<IBridge::release_request_rejected> = events(&h);
    assert_eq!(rejected[0].reason.as_i64(), 3);
    assert_eq!(
        queued(&cfg, &mut h),
        U256::from(1),
        "rejections never queue"
    );
}

/// Queues `n` requests of `sat` each from distinct users; returns their hashes.
fn queue_requests(cfg: &Config, h: &mut MemHost, n: u8, sat: u64) -> Vec<B256> {
    (0..n)
        .map(|i| {
            let u = user(i + 10);
            let hash = B256::repeat_byte(i + 100);
            request(cfg, h, &u, U256::from(sat * SAT), hash);
            hash
        })
        .collect()
}

/// Signs and releases the one batch waiting; returns (signed tx, fee).
fn sign_and_release(
    cfg: &Config,
    h: &mut MemHost,
    spent: &HashMap<OutPoint, TxOut>,
) -> (Transaction, u64) {
    let feds = federators();
    let waiting = state(cfg, h);
    assert_eq!(waiting.len(), 1);
    let (hash, tx) = waiting[0].clone();
    let amounts: Vec<Amount> = tx
        .input
        .iter()
        .map(|i| spent[&i.previous_output].value)
        .collect();
    for f in &feds[..2] {
        let sigs = sign_inputs(&tx, &amounts, &cfg.federation.redeem_script, &f.key).unwrap();
        ok(add_signature(cfg, h, f.address, &f.btc, sigs, hash));
    }
    let released: Vec<IBridge::release_btc> = events(h);
    let signed: Transaction = deserialize(&released.last().unwrap().btcRawTransaction).unwrap();
    assert_eq!(
        signed.compute_txid(),
        tx.compute_txid(),
        "signing does not change the txid"
    );
    let inputs: u64 = amounts.iter().map(|a| a.to_sat()).sum();
    let outputs: u64 = signed.output.iter().map(|o| o.value.to_sat()).sum();
    (signed, inputs - outputs)
}

#[test]
fn a_batch_is_built_confirmed_signed_and_valid_for_bitcoin_core() {
    let cfg = dev_config();
    let feds = federators();
    let mut h = host(&cfg);
    let spent = fund(&cfg, &mut h, &[50_000_000, 30_000_000, 20_000_000]);
    let refs = queue_requests(&cfg, &mut h, 10, 1_000_000);
    let creation = B256::repeat_byte(0xee);

    // Before the next peg-out height (block 5 on dev) nothing is batched.
    ok(update(&cfg, &mut h, &feds[0], 4, creation));
    assert_eq!(queued(&cfg, &mut h), U256::from(10));
    // Federators only.
    h.number = 5;
    let o = run(
        &cfg,
        &mut h,
        Address::repeat_byte(9),
        U256::ZERO,
        &updateCollectionsCall {}.abi_encode(),
    );
    assert!(reason(&o).contains("federators only"), "{}", reason(&o));

    h.logs.clear();
    ok(update(&cfg, &mut h, &feds[0], 5, creation));
    assert_eq!(queued(&cfg, &mut h), U256::ZERO);
    let created: Vec<IBridge::batch_pegout_created> = events(&h);
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].releaseRskTxHashes.to_vec(), refs.concat());
    let requested: Vec<IBridge::release_requested> = events(&h);
    assert_eq!(requested[0].rskTxHash, creation);
    assert_eq!(requested[0].amount, U256::from(10_000_000));
    assert_eq!(requested[0].btcTxHash, created[0].btcTxHash);
    let out = ok(run(
        &cfg,
        &mut h,
        Address::ZERO,
        U256::ZERO,
        &getNextPegoutCreationBlockNumberCall {}.abi_encode(),
    ));
    assert_eq!(
        getNextPegoutCreationBlockNumberCall::abi_decode_returns(&out).unwrap(),
        U256::from(10)
    );

    // Not signable until 3 blocks deep.
    assert!(state(&cfg, &mut h).is_empty());
    let sigs_early = vec![vec![0u8; 70]];
    let o = add_signature(
        &cfg,
        &mut h,
        feds[0].address,
        &feds[0].btc,
        sigs_early,
        creation,
    );
    assert!(reason(&o).contains("no peg-out waits"), "{}", reason(&o));
    ok(update(&cfg, &mut h, &feds[1], 7, B256::repeat_byte(0xe1)));
    assert!(state(&cfg, &mut h).is_empty());
    h.logs.clear();
    ok(update(&cfg, &mut h, &feds[1], 8, B256::repeat_byte(0xe2)));
    let confirmed: Vec<IBridge::pegout_confirmed> = events(&h);
    assert_eq!(confirmed.len(), 1);
    assert_eq!(confirmed[0].pegoutCreationRskBlockNumber, U256::from(5));

    let waiting = state(&cfg, &mut h);
    assert_eq!(waiting.len(), 1);
    let (hash, tx) = waiting[0].clone();
    assert_eq!(hash, creation);
    // The two largest UTXOs cover 0.1 BTC… in fact the largest alone does.
    assert_eq!(tx.input.len(), 1);
    assert_eq!(tx.output.len(), 11);
    let fee_share = 1_000_000 - tx.output[0].value.to_sat();
    assert!(tx.output[..10]
        .iter()
        .all(|o| o.value.to_sat() == 1_000_000 - fee_share));
    assert_eq!(tx.output[10].script_pubkey, cfg.federation.script_pubkey);
    assert_eq!(tx.output[10].value.to_sat(), 50_000_000 - 10_000_000);
    let amounts = vec![Amount::from_sat(50_000_000)];

    // addSignature's refusals.
    let good0 = sign_inputs(&tx, &amounts, &cfg.federation.redeem_script, &feds[0].key).unwrap();
    let by_other_key =
        sign_inputs(&tx, &amounts, &cfg.federation.redeem_script, &feds[1].key).unwrap();
    let cases = [
        (
            feds[0].address,
            feds[0].btc,
            by_other_key.clone(),
            "does not verify",
        ),
        (feds[1].address, feds[0].btc, good0.clone(), "only"),
        (
            feds[0].address,
            feds[0].btc,
            vec![good0[0].clone(), good0[0].clone()],
            "2 signatures for 1 inputs",
        ),
        (feds[0].address, feds[0].btc, vec![vec![1, 2, 3]], "not DER"),
    ];
    for (caller, key, sigs, why) in cases {
        let o = add_signature(&cfg, &mut h, caller, &key, sigs, hash);
        assert!(reason(&o).contains(why), "{why}: {}", reason(&o));
    }
    let o = add_signature(
        &cfg,
        &mut h,
        feds[0].address,
        &feds[0].btc,
        good0.clone(),
        B256::ZERO,
    );
    assert!(reason(&o).contains("no peg-out waits"), "{}", reason(&o));

    h.logs.clear();
    ok(add_signature(
        &cfg,
        &mut h,
        feds[0].address,
        &feds[0].btc,
        good0.clone(),
        hash,
    ));
    let added: Vec<IBridge::add_signature> = events(&h);
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].federatorRskAddress, feds[0].address);
    assert!(
        events::<IBridge::release_btc>(&h).is_empty(),
        "one signature is below the threshold"
    );
    let o = add_signature(&cfg, &mut h, feds[0].address, &feds[0].btc, good0, hash);
    assert!(reason(&o).contains("already signed"), "{}", reason(&o));

    let good2 = sign_inputs(&tx, &amounts, &cfg.federation.redeem_script, &feds[2].key).unwrap();
    ok(add_signature(
        &cfg,
        &mut h,
        feds[2].address,
        &feds[2].btc,
        good2,
        hash,
    ));
    let released: Vec<IBridge::release_btc> = events(&h);
    assert_eq!(released.len(), 1);
    let signed: Transaction = deserialize(&released[0].btcRawTransaction).unwrap();
    // Bitcoin Core's interpreter accepts every input.
    signed
        .verify(|op| spent.get(op).cloned())
        .expect("bitcoinconsensus accepts the released transaction");
    // A signature by a key outside the federation would not pass it.
    let outsider = sign_inputs(&tx, &amounts, &cfg.federation.redeem_script, &user(99).0).unwrap();
    let mut forged = signed.clone();
    let mut w: Vec<Vec<u8>> = forged.input[0].witness.iter().map(|i| i.to_vec()).collect();
    w[1] = [outsider[0].clone(), vec![1]].concat();
    forged.input[0].witness = bitcoin::Witness::from_slice(&w);
    assert!(forged.verify(|op| spent.get(op).cloned()).is_err());
    assert!(
        state(&cfg, &mut h).is_empty(),
        "released batches leave the state"
    );
    let fee = 50_000_000 - signed.output.iter().map(|o| o.value.to_sat()).sum::<u64>();
    assert!(
        fee * 1000 >= cfg.params.fee_per_kb * signed.vsize() as u64,
        "fee {fee} for {} vB",
        signed.vsize()
    );
}

#[test]
fn fee_and_size_of_batches_of_10_and_50() {
    for n in [10u8, 50] {
        let cfg = dev_config();
        let feds = federators();
        let mut h = host(&cfg);
        // Each peg-in brought 0.3 BTC; a batch of n × 0.01 BTC needs ⌈n/30⌉ inputs.
        let spent = fund(&cfg, &mut h, &[30_000_000, 30_000_000, 30_000_000]);
        queue_requests(&cfg, &mut h, n, 1_000_000);
        ok(update(&cfg, &mut h, &feds[0], 5, B256::repeat_byte(0xee)));
        ok(update(&cfg, &mut h, &feds[0], 8, B256::repeat_byte(0xef)));
        let (signed, fee) = sign_and_release(&cfg, &mut h, &spent);
        signed.verify(|op| spent.get(op).cloned()).unwrap();
        let est = pegout::vsize(
            &cfg,
            signed.input.len() as u64,
            &signed
                .output
                .iter()
                .map(|o| o.script_pubkey.clone())
                .collect::<Vec<ScriptBuf>>(),
        );
        let vsize = signed.vsize() as u64;
        println!(
            "batch of {n} peg-outs: {} inputs, {} outputs, {vsize} vB (estimate {est}), fee {fee} sat ({:.2} sat/vB, {} sat per recipient)",
            signed.input.len(),
            signed.output.len(),
            fee as f64 / vsize as f64,
            fee / u64::from(n)
        );
        assert!(
            est >= vsize && est <= vsize + signed.input.len() as u64,
            "estimate {est} vs {vsize}"
        );
        assert!(fee * 1000 >= cfg.params.fee_per_kb * vsize);
        assert!(
            fee * 1000 < cfg.params.fee_per_kb * (vsize + signed.input.len() as u64 + u64::from(n))
        );
    }
}

#[test]
fn the_queue_waits_for_funds_and_the_input_cap() {
    let cfg = dev_config();
    let feds = federators();
    let mut h = host(&cfg);
    // 60 UTXOs of 0.001 BTC: at most 50 (0.05 BTC) can go into one transaction.
    fund(&cfg, &mut h, &[100_000; 60]);
    let big = user(1);
    request(
        &cfg,
        &mut h,
        &big,
        U256::from(6_000_000 * SAT),
        B256::repeat_byte(1),
    );
    ok(update(&cfg, &mut h, &feds[0], 5, B256::repeat_byte(0xe0)));
    assert_eq!(
        queued(&cfg, &mut h),
        U256::from(1),
        "0.06 BTC needs 60 inputs: it waits"
    );
    assert!(events::<IBridge::batch_pegout_created>(&h).is_empty());

    // A small request behind it is paid with the fewest inputs; the big one keeps waiting.
    let small = user(2);
    request(
        &cfg,
        &mut h,
        &small,
        U256::from(60_000 * SAT),
        B256::repeat_byte(2),
    );
    ok(update(&cfg, &mut h, &feds[0], 5, B256::repeat_byte(0xe1)));
    let created: Vec<IBridge::batch_pegout_created> = events(&h);
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0].releaseRskTxHashes.to_vec(),
        B256::repeat_byte(2).to_vec()
    );
    assert_eq!(queued(&cfg, &mut h), U256::from(1));
    let mut st = Store::new(&mut h);
    assert_eq!(queue::utxos(&mut st).unwrap().len(), 59, "one input spent");

    // Oldest first: what the inputs cannot cover waits.
    let mut h = host(&cfg);
    fund(&cfg, &mut h, &[1_500_000]);
    queue_requests(&cfg, &mut h, 3, 1_000_000);
    ok(update(&cfg, &mut h, &feds[0], 5, B256::repeat_byte(0xe0)));
    assert_eq!(queued(&cfg, &mut h), U256::from(2));
    let created: Vec<IBridge::batch_pegout_created> = events(&h);
    assert_eq!(created[0].releaseRskTxHashes.len(), 32);
    let mut st = Store::new(&mut h);
    assert!(
        queue::utxos(&mut st).unwrap().is_empty(),
        "the spent UTXO left the set"
    );
    // The next batch waits for the interval even with funds.
    queue::add_utxo(
        &mut st,
        Txid::from_byte_array([9; 32]),
        0,
        Amount::from_sat(5_000_000),
    )
    .unwrap();
    ok(update(&cfg, &mut h, &feds[0], 9, B256::repeat_byte(0xe1)));
    assert_eq!(queued(&cfg, &mut h), U256::from(2));
    ok(update(&cfg, &mut h, &feds[0], 10, B256::repeat_byte(0xe2)));
    assert_eq!(queued(&cfg, &mut h), U256::ZERO);
}

#[test]
fn a_batch_stays_under_the_standard_size() {
    let cfg = dev_config();
    let entries: Vec<queue::Entry> = (0..4000u32)
        .map(|i| queue::Entry {
            reference: Reference::Release(B256::from(U256::from(i))),
            amount: Amount::from_sat(100_000),
            script: ScriptBuf::new_p2pkh(&bitcoin::PubkeyHash::from_byte_array([i as u8; 20])),
        })
        .collect();
    let utxos: Vec<queue::Utxo> = (0..10u8)
        .map(|i| queue::Utxo {
            txid: Txid::from_byte_array([i; 32]),
            vout: 0,
            value: Amount::from_sat(100_000_000),
        })
        .collect();
    let p = pegout::plan(&cfg, &entries, &utxos).unwrap();
    let scripts: Vec<ScriptBuf> =
        p.tx.output
            .iter()
            .map(|o| o.script_pubkey.clone())
            .collect();
    let size = pegout::vsize(&cfg, p.tx.input.len() as u64, &scripts);
    assert!(size <= pegout::MAX_VSIZE, "{size} vB");
    assert!(
        p.paid.len() > 2000 && p.paid.len() < 4000,
        "{} paid",
        p.paid.len()
    );
    assert_eq!(
        p.paid,
        (0..p.paid.len()).collect::<Vec<_>>(),
        "oldest first"
    );
    assert_eq!(
        p.tx.input.len(),
        3,
        "the fewest inputs that cover {} sat",
        p.paid.len() * 100_000
    );
}
