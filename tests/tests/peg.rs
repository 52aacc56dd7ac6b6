//! The whole peg on a dev node with three `scion federator` processes (2-of-3) and a simulated
//! bitcoind: peg-ins, a batch of peg-outs signed by two federators and accepted by Bitcoin
//! (every input checked by bitcoinconsensus), recipients paid, change registered back, and
//! 21,000,000 scBTC between the Bridge and everyone else at every step. Faults: bitcoind
//! unreachable for a while, a federator down, one restarted mid-flow, a wrong signature, a
//! peg-out below the minimum, a contract sender, and a Scion reorg that drops a peg-out request.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{hex, Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use bitcoin::hashes::Hash;
use bitcoin::{Amount, ScriptBuf, Transaction, TxOut};
use scion_bridge::abi::IBridge::{self, *};
use scion_bridge::federator::sign_inputs;
use scion_e2e::bitcoind::Bitcoind;
use scion_e2e::btc::BtcKey;
use scion_e2e::{quantity, rpc, rpc_raw, scion_bin, wait_receipt, NodeProcess};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BRIDGE: &str = "0x0000000000000000000000000000000001000006";
/// The dev federation's keys (test-mnemonic accounts 17, 18, 19).
const FED_KEYS: [&str; 3] = [
    "689af8efa8c651a91ad287602527f3af2fe9f6501a7ac4b061667b5a93e037fd",
    "de9be858da4a475276426320d5e9262ecfc3ba460bfac56360bfa6c4c28b4ee0",
    "df57089febbacf7ba0bc227dafbffa9fc08a93fdc68e1e42411a14efcf23656e",
];
const WEI_PER_SAT: u128 = 10_000_000_000;
const SUPPLY_WEI: u128 = 21_000_000 * 100_000_000 * WEI_PER_SAT;
/// The 20 dev accounts hold 10,000 scBTC each outside the peg (gas money, as on anvil).
const PREMINE_WEI: u128 = 20 * 10_000 * 100_000_000 * WEI_PER_SAT;

fn wait<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn balance_at(addr: SocketAddr, a: Address, block: &str) -> u128 {
    quantity(&rpc(addr, "eth_getBalance", json!([a, block])))
}

fn view<C: SolCall>(addr: SocketAddr, c: C) -> C::Return {
    let data = format!("0x{}", hex::encode(c.abi_encode()));
    let out = rpc(
        addr,
        "eth_call",
        json!([{"to": BRIDGE, "data": data}, "latest"]),
    );
    C::abi_decode_returns(&hex::decode(out.as_str().unwrap().trim_start_matches("0x")).unwrap())
        .unwrap()
}

/// Signs a transaction from `key` at its next pending nonce and submits it; returns its hash.
fn submit(
    addr: SocketAddr,
    key: &PrivateKeySigner,
    to: TxKind,
    value: u128,
    data: Vec<u8>,
    tip: u128,
) -> B256 {
    let nonce = quantity(&rpc(
        addr,
        "eth_getTransactionCount",
        json!([key.address(), "pending"]),
    ));
    let tx = TxEip1559 {
        chain_id: 7773,
        nonce: nonce as u64,
        gas_limit: 500_000,
        max_fee_per_gas: 50_000_000_000,
        max_priority_fee_per_gas: tip,
        to,
        value: U256::from(value),
        input: Bytes::from(data),
        ..Default::default()
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
    let raw = hex::encode(TxEnvelope::from(tx.into_signed(sig)).encoded_2718());
    let hash = rpc(addr, "eth_sendRawTransaction", json!([format!("0x{raw}")]));
    hash.as_str().unwrap().parse().unwrap()
}

/// Signs and sends a transaction from `key`; returns its receipt.
fn send_tx(
    addr: SocketAddr,
    key: &PrivateKeySigner,
    to: TxKind,
    value: u128,
    data: Vec<u8>,
    tip: u128,
) -> Value {
    let hash = submit(addr, key, to, value, data, tip);
    wait_receipt(addr, &format!("{hash:#x}"))
}

/// Bridge events of type `E` in blocks `from..`, with their transaction hashes.
fn events<E: SolEvent>(addr: SocketAddr, from: u64) -> Vec<(E, B256)> {
    let topic = format!("{:#x}", E::SIGNATURE_HASH);
    let logs = rpc(
        addr,
        "eth_getLogs",
        json!([{"fromBlock": format!("{from:#x}"), "toBlock": "latest", "address": BRIDGE, "topics": [topic]}]),
    );
    logs.as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let topics: Vec<B256> = serde_json::from_value(l["topics"].clone()).unwrap();
            let data = hex::decode(l["data"].as_str().unwrap().trim_start_matches("0x")).unwrap();
            let log = alloy_primitives::LogData::new_unchecked(topics, data.into());
            (
                E::decode_log_data(&log).unwrap(),
                l["transactionHash"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

/// A user holding one secp256k1 key on both chains.
struct User {
    btc: BtcKey,
    scion: PrivateKeySigner,
}

impl User {
    fn new(seed: u8) -> Self {
        let btc = BtcKey::new([seed; 32]);
        let scion = PrivateKeySigner::from_slice(&[seed; 32]).unwrap();
        Self { btc, scion }
    }

    fn address(&self) -> Address {
        self.scion.address()
    }
}

/// Every account that ever holds scBTC in these tests, and the check that the Bridge and
/// they together hold 21,000,000 scBTC plus the dev premine, at one block.
struct Supply {
    accounts: Vec<Address>,
}

impl Supply {
    fn check(&mut self, addr: SocketAddr, step: &str) {
        let head = rpc(addr, "eth_getBlockByNumber", json!(["latest", false]));
        let miner: Address = serde_json::from_value(head["miner"].clone()).unwrap();
        if !self.accounts.contains(&miner) {
            self.accounts.push(miner);
        }
        let n = head["number"].as_str().unwrap().to_string();
        let bridge = balance_at(addr, BRIDGE.parse().unwrap(), &n);
        let others: u128 = self.accounts.iter().map(|a| balance_at(addr, *a, &n)).sum();
        assert_eq!(
            bridge + others - PREMINE_WEI,
            SUPPLY_WEI,
            "{step}: locked {bridge} + circulating {} at block {n}",
            others as i128 - PREMINE_WEI as i128
        );
        println!(
            "supply ok at block {n} ({step}): locked {} BTC",
            bridge as f64 / 1e18
        );
    }
}

struct Federator {
    key_file: PathBuf,
    datadir: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Federator {
    fn new(dir: &Path, i: usize) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let key_file = dir.join(format!("fed{i}.key"));
        std::fs::write(&key_file, format!("0x{}\n", FED_KEYS[i])).unwrap();
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        Self {
            key_file,
            datadir: dir.join(format!("fed{i}")),
            log: dir.join(format!("fed{i}.log")),
            child: None,
        }
    }

    fn start(&mut self, node: &str, btc: &str) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(scion_bin())
            .args([
                "federator",
                "--rpc",
                node,
                "--btc-rpc",
                btc,
                "--poll-ms",
                "100",
                "--update-every",
                "1",
            ])
            .arg("--key-file")
            .arg(&self.key_file)
            .arg("--datadir")
            .arg(&self.datadir)
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Federator {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Mines a Bitcoin block every `every` until dropped.
struct BtcMiner {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BtcMiner {
    fn start(btc: Arc<Bitcoind>, every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                std::thread::sleep(every);
                btc.mine(1);
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for BtcMiner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Pays `sat` from a fresh Bitcoin output of `u` to the federation; returns the transaction.
fn peg_in(btc: &Bitcoind, u: &User, fed: &ScriptBuf, sat: u64) -> Transaction {
    let prev = btc.fund(&u.btc.p2pkh(), sat + 10_000);
    let tx = u.btc.spend(
        prev,
        vec![TxOut {
            value: Amount::from_sat(sat),
            script_pubkey: fed.clone(),
        }],
    );
    btc.send(&tx).unwrap();
    tx
}

fn wait_balance(addr: SocketAddr, a: Address, at_least: u128) -> u128 {
    wait("scBTC from a peg-in", 120, || {
        let b = balance_at(addr, a, "latest");
        (b >= at_least).then_some(b)
    })
}

#[test]
fn peg_in_and_batched_peg_out_round_trip_with_faults() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(&dir.path().join("scion"), &[]);
    let addr = node.addr;
    let btc = Arc::new(Bitcoind::start());
    let btc_url = format!("http://scion:scion@{}", btc.addr());
    let fed_script =
        scion_bridge::Config::new(&scion_types::ChainSpec::dev().params.bridge, "regtest")
            .unwrap()
            .federation
            .script_pubkey;
    let mut feds: Vec<Federator> = (0..3).map(|i| Federator::new(dir.path(), i)).collect();
    let dev_accounts: Vec<Address> = scion_node::dev_accounts();
    let users: Vec<User> = (1..=4).map(|i| User::new(0x40 + i)).collect();
    let mut supply = Supply {
        accounts: dev_accounts
            .iter()
            .copied()
            .chain(users.iter().map(User::address))
            .collect(),
    };
    supply.check(addr, "genesis");

    // A key file others can read is refused, and the key is not printed.
    {
        use std::os::unix::fs::PermissionsExt;
        let loose = dir.path().join("loose.key");
        std::fs::write(&loose, FED_KEYS[0]).unwrap();
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = Command::new(scion_bin())
            .args([
                "federator",
                "--rpc",
                &node.url(),
                "--btc-rpc",
                &btc_url,
                "--key-file",
            ])
            .arg(&loose)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && text.contains("readable by others"),
            "{text}"
        );
        assert!(!text.contains(FED_KEYS[0]));
    }

    for f in feds.iter_mut() {
        f.start(&node.url(), &btc_url);
    }
    let miner = BtcMiner::start(btc.clone(), Duration::from_millis(300));

    // Peg-ins: three users pay the federation 0.3 BTC each from P2PKH outputs.
    let t0 = Instant::now();
    let pegin_sat = 30_000_000u64;
    let pegins: Vec<Transaction> = users[..3]
        .iter()
        .map(|u| peg_in(&btc, u, &fed_script, pegin_sat))
        .collect();
    // Bitcoin Core stops answering for 1.5 s: the federators' rounds fail and are retried.
    btc.set_down(true);
    std::thread::sleep(Duration::from_millis(1500));
    btc.set_down(false);
    for u in &users[..3] {
        assert_eq!(
            wait_balance(addr, u.address(), 1),
            u128::from(pegin_sat) * WEI_PER_SAT
        );
    }
    println!(
        "peg-in: 3 payments credited {:.1} s after broadcast",
        t0.elapsed().as_secs_f64()
    );
    for tx in &pegins {
        assert!(view(
            addr,
            isBtcTxHashAlreadyProcessedCall {
                hash: tx.compute_txid().to_string()
            }
        ));
    }
    supply.check(addr, "after peg-ins");

    // Refused requests: below the minimum, and from a contract. Both get their value back.
    let u0 = &users[0];
    let before = balance_at(addr, u0.address(), "latest");
    let r = send_tx(
        addr,
        &u0.scion,
        TxKind::Call(BRIDGE.parse().unwrap()),
        40_000 * WEI_PER_SAT,
        vec![],
        1_000_000_000,
    );
    assert_eq!(r["status"], "0x1");
    let gas = quantity(&r["gasUsed"]) * quantity(&r["effectiveGasPrice"]);
    assert_eq!(
        balance_at(addr, u0.address(), "latest"),
        before - gas,
        "refunded in full"
    );
    let block = quantity(&r["blockNumber"]) as u64;
    let rejected = events::<IBridge::release_request_rejected>(addr, block);
    assert_eq!(
        (rejected[0].0.sender, rejected[0].0.reason.as_i64()),
        (u0.address(), 1)
    );
    // A contract forwarding its call value to the Bridge.
    // CALL(gas, Bridge, callvalue, 0, 0, 0, 0); STOP
    let runtime = hex::decode(
        "600060006000600034730000000000000000000000000000000001000006".to_owned() + "5af15000",
    )
    .unwrap();
    assert_eq!(runtime.len(), 0x22);
    let init = [hex::decode("602280600b6000396000f3").unwrap(), runtime].concat();
    let r = send_tx(addr, &u0.scion, TxKind::Create, 0, init, 1_000_000_000);
    let contract: Address = serde_json::from_value(r["contractAddress"].clone()).unwrap();
    supply.accounts.push(contract);
    let r = send_tx(
        addr,
        &u0.scion,
        TxKind::Call(contract),
        100_000 * WEI_PER_SAT,
        vec![],
        1_000_000_000,
    );
    assert_eq!(r["status"], "0x1", "{r}");
    let rejected =
        events::<IBridge::release_request_rejected>(addr, quantity(&r["blockNumber"]) as u64);
    assert_eq!(
        (rejected[0].0.sender, rejected[0].0.reason.as_i64()),
        (contract, 2)
    );
    assert_eq!(
        balance_at(addr, contract, "latest"),
        100_000 * WEI_PER_SAT,
        "refunded to the contract"
    );
    assert_eq!(view(addr, getQueuedPegoutsCountCall {}), U256::ZERO);
    supply.check(addr, "after refused requests");

    // Federator 2 goes down; 0 and 1 still make the threshold.
    feds[2].stop();
    // Three peg-outs land in one block (automine off meanwhile), ahead of any federator call.
    let first_block = quantity(&rpc(addr, "eth_blockNumber", json!([])));
    rpc(addr, "evm_setAutomine", json!([false]));
    let amounts = [10_000_000u64, 7_000_000, 5_000_000];
    let mut request_hashes = Vec::new();
    for (u, sat) in users[..3].iter().zip(amounts) {
        let value = u128::from(sat) * WEI_PER_SAT;
        let bridge = TxKind::Call(BRIDGE.parse().unwrap());
        request_hashes.push(submit(
            addr,
            &u.scion,
            bridge,
            value,
            vec![],
            10_000_000_000,
        ));
    }
    rpc(addr, "anvil_mine", json!([]));
    rpc(addr, "evm_setAutomine", json!([true]));
    let received = events::<IBridge::release_request_received>(addr, first_block as u64);
    assert_eq!(received.len(), 3);
    for (u, sat) in users.iter().zip(amounts) {
        let (e, _) = received
            .iter()
            .find(|(e, _)| e.sender == u.address())
            .expect("a request per user");
        let dest = bitcoin::Address::p2pkh(u.btc.public.pubkey_hash(), bitcoin::Network::Regtest);
        assert_eq!(
            (e.sender, e.btcDestinationAddress.clone(), e.amount),
            (u.address(), dest.to_string(), U256::from(sat))
        );
    }
    supply.check(addr, "after peg-out requests");

    // The batch: one Bitcoin transaction for all three.
    let (batch, creation) = wait("batch_pegout_created", 60, || {
        events::<IBridge::batch_pegout_created>(addr, first_block as u64).pop()
    });
    let mut refs: Vec<B256> = batch
        .releaseRskTxHashes
        .chunks(32)
        .map(B256::from_slice)
        .collect();
    refs.sort();
    request_hashes.sort();
    assert_eq!(refs, request_hashes, "one batch for the three requests");
    let btc_txid = bitcoin::Txid::from_byte_array({
        let mut b = batch.btcTxHash.0;
        b.reverse();
        b
    });
    // Federator 1 restarts mid-flow, before the batch is deep enough to sign.
    feds[1].stop();
    supply.check(addr, "after the batch");

    // Federator 0 signs alone: below the threshold, the batch waits.
    wait("federator 0's signature", 60, || {
        events::<IBridge::add_signature>(addr, first_block as u64)
            .into_iter()
            .find(|(e, _)| e.releaseRskTxHash == creation)
    });
    assert!(events::<IBridge::release_btc>(addr, first_block as u64).is_empty());
    // A signature by the wrong key is refused (federator 2's account, signing with user 0's key).
    let waiting = scion_bridge::federator::parse_release_state(&view(
        addr,
        getStateForBtcReleaseClientCall {},
    ))
    .unwrap();
    let (hash, unsigned) = waiting
        .iter()
        .find(|(h, _)| *h == creation)
        .cloned()
        .expect("the batch waits for signatures");
    let amounts_in: Vec<bitcoin::Amount> = unsigned
        .input
        .iter()
        .map(|i| {
            btc.find_tx(&i.previous_output.txid).unwrap().0.output[i.previous_output.vout as usize]
                .value
        })
        .collect();
    let fed2 = PrivateKeySigner::from_slice(&hex::decode(FED_KEYS[2]).unwrap()).unwrap();
    let wrong = k256::ecdsa::SigningKey::from_slice(&[0x41; 32]).unwrap();
    let redeem = ScriptBuf::from_bytes(view(addr, getActivePowpegRedeemScriptCall {}).to_vec());
    let bad = sign_inputs(&unsigned, &amounts_in, &redeem, &wrong).unwrap();
    let fed2_btc = scion_bridge::federator::public_key(
        &k256::ecdsa::SigningKey::from_slice(&hex::decode(FED_KEYS[2]).unwrap()).unwrap(),
    );
    let call = addSignatureCall {
        pubkey: fed2_btc.to_vec().into(),
        signatures: bad.into_iter().map(Bytes::from).collect(),
        txhash: hash.to_vec().into(),
    };
    let data = format!("0x{}", hex::encode(call.abi_encode()));
    let err = rpc_raw(
        addr,
        "eth_call",
        json!([{"from": fed2.address(), "to": BRIDGE, "data": data}, "latest"]),
    );
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("does not verify"),
        "{err}"
    );
    let r = send_tx(
        addr,
        &fed2,
        TxKind::Call(BRIDGE.parse().unwrap()),
        0,
        call.abi_encode(),
        1_000_000_000,
    );
    assert_eq!(r["status"], "0x0", "a wrong signature reverts");

    // Federator 1 comes back, picks up where it was and signs: released and broadcast.
    feds[1].start(&node.url(), &btc_url);
    let (release, _) = wait("release_btc", 90, || {
        events::<IBridge::release_btc>(addr, first_block as u64)
            .into_iter()
            .find(|(e, _)| e.releaseRskTxHash == creation)
    });
    let signed: Transaction = bitcoin::consensus::deserialize(&release.btcRawTransaction).unwrap();
    assert_eq!(signed.compute_txid(), btc_txid);
    let height = wait("the peg-out confirmed on Bitcoin", 60, || {
        btc.find_tx(&btc_txid).and_then(|(_, h)| h)
    });
    println!(
        "peg-out {btc_txid} confirmed at Bitcoin height {height}: {} vB, {} inputs",
        signed.vsize(),
        signed.input.len()
    );
    // Every input verified by Bitcoin Core's interpreter.
    signed
        .verify(|op| {
            btc.find_tx(&op.txid)
                .and_then(|(t, _)| t.output.get(op.vout as usize).cloned())
        })
        .expect("bitcoinconsensus accepts the peg-out");
    let in_sat: u64 = amounts_in.iter().map(|a| a.to_sat()).sum();
    let out_sat: u64 = signed.output.iter().map(|o| o.value.to_sat()).sum();
    let fee = in_sat - out_sat;
    let share = fee.div_ceil(3);
    for (u, sat) in users[..3].iter().zip(amounts) {
        let got = btc.received(&u.btc.p2pkh());
        assert!(
            got + share >= sat && got + share <= sat + 3,
            "{} got {got} of {sat} (fee share {share})",
            u.address()
        );
    }
    // The change comes back to the Bridge's UTXO set.
    wait("the change registered", 60, || {
        view(
            addr,
            isBtcTxHashAlreadyProcessedCall {
                hash: btc_txid.to_string(),
            },
        )
        .then_some(())
    });
    supply.check(addr, "after the peg-out");
    let logs = feds[0].log() + &feds[1].log();
    for k in FED_KEYS {
        assert!(!logs.contains(k), "a federator logged its key");
    }
    drop(miner);
    for f in feds.iter_mut() {
        f.stop();
    }
    // The restarted federator resumed from its saved progress.
    assert_eq!(
        feds[1].log().matches("federator running").count(),
        2,
        "{}",
        feds[1].log()
    );
    let progress: Value =
        serde_json::from_slice(&std::fs::read(feds[1].datadir.join("federator.json")).unwrap())
            .unwrap();
    assert!(progress["scanned"][0].as_u64().unwrap() > 0, "{progress}");
    let signed = json!(format!("{creation}:{btc_txid}"));
    assert!(
        progress["signed"].as_array().unwrap().contains(&signed),
        "{progress}"
    );
    let confirmed = json!(btc_txid.to_string());
    assert!(
        progress["confirmed"]
            .as_array()
            .unwrap()
            .contains(&confirmed),
        "{progress}"
    );

    // A clean round trip with all three federators, timed.
    for f in feds.iter_mut() {
        f.start(&node.url(), &btc_url);
    }
    let miner = BtcMiner::start(btc.clone(), Duration::from_millis(300));
    let u = &users[3];
    let t0 = Instant::now();
    peg_in(&btc, u, &fed_script, 20_000_000);
    wait_balance(addr, u.address(), 1);
    let credited = t0.elapsed();
    let r = send_tx(
        addr,
        &u.scion,
        TxKind::Call(BRIDGE.parse().unwrap()),
        10_000_000 * WEI_PER_SAT,
        vec![],
        1_000_000_000,
    );
    assert_eq!(r["status"], "0x1");
    wait("the second peg-out paid on Bitcoin", 120, || {
        (btc.received(&u.btc.p2pkh()) > 9_000_000).then_some(())
    });
    println!(
        "round trip: peg-in credited after {:.1} s, peg-out paid on Bitcoin {:.1} s after broadcast (Bitcoin block every 0.3 s, federators poll every 0.1 s)",
        credited.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    drop(miner);
    supply.check(addr, "after the second round trip");
}

/// Node A takes a peg-out request; node B builds a longer chain without it. When A imports B's
/// blocks and reorganizes, the request leaves A's queue and the sender has the value back,
/// exactly as B sees it. The request returns to A's pool and is queued once when it runs again.
#[tokio::test(flavor = "multi_thread")]
async fn a_scion_reorg_drops_a_peg_out_request_and_the_queue_follows() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = scion_node::spawn(scion_node::NodeConfig::dev(da.path().join("data")))
        .await
        .unwrap();
    let b = scion_node::spawn(scion_node::NodeConfig::dev(db.path().join("data")))
        .await
        .unwrap();
    let (aa, ba) = (a.rpc_addr, b.rpc_addr);
    let dev0: PrivateKeySigner = scion_e2e::DEV_KEY0.parse().unwrap();
    let dev1 = PrivateKeySigner::from_slice(&hex::decode(FED_KEYS[0]).unwrap()).unwrap();
    let bridge: Address = BRIDGE.parse().unwrap();
    let dropped = tokio::task::spawn_blocking(move || {
        let r = send_tx(
            aa,
            &dev0,
            TxKind::Call(bridge),
            1_000_000 * WEI_PER_SAT,
            vec![],
            1_000_000_000,
        );
        assert_eq!(r["status"], "0x1");
        assert_eq!(view(aa, getQueuedPegoutsCountCall {}), U256::from(1));
        for _ in 0..3 {
            send_tx(
                ba,
                &dev1,
                TxKind::Call(Address::repeat_byte(0xaa)),
                1,
                vec![],
                1_000_000_000,
            );
        }
        r["transactionHash"].as_str().unwrap().to_string()
    })
    .await
    .unwrap();
    for n in 1..=b.chain.head().number {
        let hash = b.chain.store().canonical_hash(n).unwrap().unwrap();
        let block = b.chain.store().block(hash).unwrap().unwrap();
        a.chain.import_block(block).unwrap();
    }
    assert_eq!(a.chain.head().hash(), b.chain.head().hash());
    tokio::task::spawn_blocking(move || {
        let dev0: PrivateKeySigner = scion_e2e::DEV_KEY0.parse().unwrap();
        assert!(rpc(aa, "eth_getTransactionReceipt", json!([dropped])).is_null());
        assert_eq!(view(aa, getQueuedPegoutsCountCall {}), U256::ZERO);
        assert_eq!(
            view(aa, getQueuedPegoutsCountCall {}),
            view(ba, getQueuedPegoutsCountCall {})
        );
        assert_eq!(
            view(aa, getEstimatedFeesForNextPegOutEventCall {}),
            view(ba, getEstimatedFeesForNextPegOutEventCall {})
        );
        for who in [bridge, dev0.address()] {
            assert_eq!(
                balance_at(aa, who, "latest"),
                balance_at(ba, who, "latest"),
                "{who}"
            );
        }
        // The Bridge's storage is B's, slot for slot, where the queue lives.
        let count_slot = format!("{:#x}", alloy_primitives::keccak256(b"queue.n"));
        assert_eq!(
            rpc(
                aa,
                "eth_getStorageAt",
                json!([BRIDGE, count_slot, "latest"])
            ),
            rpc(
                ba,
                "eth_getStorageAt",
                json!([BRIDGE, count_slot, "latest"])
            )
        );
        // The dropped request went back to A's pool (as geth does): the next block runs it
        // again on the new chain, once, beside a new request.
        let r = send_tx(
            aa,
            &dev0,
            TxKind::Call(bridge),
            2_000_000 * WEI_PER_SAT,
            vec![],
            1_000_000_000,
        );
        assert_eq!(r["status"], "0x1");
        let again = wait_receipt(aa, &dropped);
        assert_eq!(again["status"], "0x1");
        assert_eq!(view(aa, getQueuedPegoutsCountCall {}), U256::from(2));
        let mut got: Vec<(U256, B256)> = events::<IBridge::release_request_received>(aa, 0)
            .into_iter()
            .map(|(e, tx)| (e.amount, tx))
            .collect();
        got.sort();
        let new: B256 = r["transactionHash"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            got,
            vec![
                (U256::from(1_000_000), dropped.parse().unwrap()),
                (U256::from(2_000_000), new)
            ]
        );
    })
    .await
    .unwrap();
    a.stop().await;
    b.stop().await;
}
