//! The Bitcoin light client (headers.rs) and its Bridge methods (dispatch.rs) against real
//! mainnet headers from tests/data/bitcoin-headers.json and headers mined at regtest difficulty.

use alloy_primitives::{Address, Bytes, B256, I256, U256};
use alloy_sol_types::{Revert, SolCall, SolError};
use bitcoin::block::{Header, Version};
use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::Hash;
use bitcoin::{BlockHash, CompactTarget, TxMerkleNode};
use scion_bridge::abi::IBridge;
use scion_bridge::headers::{Chain, Reject, Stored};
use scion_bridge::{execute, method_gas, rsk_address, Call, Config, MemHost, Outcome, Store};
use scion_types::ChainSpec;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn vectors() -> Value {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/bitcoin-headers.json"
    );
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A mainnet vector by height: (raw header, display-order hash).
fn mainnet(v: &Value, height: u64) -> (Vec<u8>, String) {
    let r = v["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["network"] == "bitcoin-mainnet" && r["height"].as_u64() == Some(height))
        .unwrap_or_else(|| panic!("no mainnet vector at {height}"));
    (
        hex::decode(r["header"].as_str().unwrap()).unwrap(),
        r["hash"].as_str().unwrap().to_string(),
    )
}

fn dev_config() -> Config {
    Config::new(&ChainSpec::dev().params.bridge, "regtest").unwrap()
}

/// The dev config with the checkpoint moved to a mainnet header.
fn mainnet_config(height: u32, raw: &[u8]) -> Config {
    let mut p = ChainSpec::dev().params.bridge.clone();
    p.checkpoint.height = height;
    p.checkpoint.header = Bytes::copy_from_slice(raw);
    p.checkpoint.chainwork = None;
    Config::new(&p, "mainnet").unwrap()
}

/// A MemHost holding the checkpoint as the only header.
fn host(cfg: &Config) -> MemHost {
    let mut h = MemHost::default();
    let mut st = Store::new(&mut h);
    Chain::new(&mut st, cfg).init().unwrap();
    h
}

fn add(cfg: &Config, h: &mut MemHost, raw: &[u8]) -> Result<Stored, Reject> {
    let mut st = Store::new(h);
    Chain::new(&mut st, cfg).add(raw).unwrap()
}

fn add_header(cfg: &Config, h: &mut MemHost, header: &Header) -> Result<Stored, Reject> {
    add(cfg, h, &serialize(header))
}

fn best(cfg: &Config, h: &mut MemHost) -> Stored {
    let mut st = Store::new(h);
    Chain::new(&mut st, cfg).best().unwrap()
}

fn at_height(cfg: &Config, h: &mut MemHost, height: u32) -> Option<Stored> {
    let mut st = Store::new(h);
    Chain::new(&mut st, cfg).at_height(height).unwrap()
}

fn get(cfg: &Config, h: &mut MemHost, hash: &BlockHash) -> Option<Stored> {
    let mut st = Store::new(h);
    Chain::new(&mut st, cfg).get(hash).unwrap()
}

fn is_main(cfg: &Config, h: &mut MemHost, s: &Stored) -> bool {
    let mut st = Store::new(h);
    Chain::new(&mut st, cfg).is_main(s).unwrap()
}

fn work(bits: u32) -> U256 {
    let h = Header {
        version: Version::ONE,
        prev_blockhash: BlockHash::all_zeros(),
        merkle_root: TxMerkleNode::all_zeros(),
        time: 0,
        bits: CompactTarget::from_consensus(bits),
        nonce: 0,
    };
    U256::from_be_bytes(h.work().to_be_bytes())
}

/// A header on `prev` (merkle root `tag` tells branches apart) whose hash meets its own target.
fn mine(prev: &Header, time: u32, bits: u32, tag: u64) -> Header {
    let mut root = [0u8; 32];
    root[..8].copy_from_slice(&tag.to_le_bytes());
    let mut h = Header {
        version: Version::from_consensus(0x2000_0000),
        prev_blockhash: prev.block_hash(),
        merkle_root: TxMerkleNode::from_byte_array(root),
        time,
        bits: CompactTarget::from_consensus(bits),
        nonce: 0,
    };
    while h.validate_pow(h.target()).is_err() {
        h.nonce += 1;
    }
    h
}

/// Like [`mine`] but with a nonce whose hash does NOT meet the target.
fn mine_bad(prev: &Header, time: u32, bits: u32, tag: u64) -> Header {
    let mut h = mine(prev, time, bits, tag);
    h.nonce += 1;
    while h.validate_pow(h.target()).is_ok() {
        h.nonce += 1;
    }
    h
}

const REGTEST_BITS: u32 = 0x207f_ffff;

/// Mines `n` headers on `from`, `spacing` seconds apart.
fn mine_chain(from: &Header, n: usize, spacing: u32, tag: u64) -> Vec<Header> {
    let mut out: Vec<Header> = Vec::with_capacity(n);
    for i in 0..n {
        let prev = out.last().unwrap_or(from);
        out.push(mine(
            prev,
            prev.time + spacing,
            prev.bits.to_consensus(),
            tag + i as u64,
        ));
    }
    out
}

fn call(cfg: &Config, h: &mut MemHost, caller: Address, input: &[u8]) -> Outcome {
    execute(
        cfg,
        h,
        Call {
            caller,
            value: U256::ZERO,
            input,
            gas_limit: 30_000_000,
            is_static: false,
        },
    )
    .unwrap()
}

fn success(o: Outcome) -> Bytes {
    match o {
        Outcome::Success { output, .. } => output,
        other => panic!("expected success, got {other:?}"),
    }
}

fn revert_reason(o: &Outcome) -> String {
    match o {
        Outcome::Revert { output, .. } => Revert::abi_decode(output).unwrap().reason,
        other => panic!("expected revert, got {other:?}"),
    }
}

fn receive_header(cfg: &Config, h: &mut MemHost, raw: &[u8]) -> i64 {
    let input = IBridge::receiveHeaderCall {
        block: Bytes::copy_from_slice(raw),
    }
    .abi_encode();
    let out = success(call(cfg, h, Address::ZERO, &input));
    let code = IBridge::receiveHeaderCall::abi_decode_returns(&out).unwrap();
    i64::try_from(code).unwrap()
}

fn receive_headers(cfg: &Config, h: &mut MemHost, caller: Address, raws: &[Vec<u8>]) -> Outcome {
    let input = IBridge::receiveHeadersCall {
        blocks: raws.iter().map(|r| Bytes::copy_from_slice(r)).collect(),
    }
    .abi_encode();
    call(cfg, h, caller, &input)
}

fn display(hash: &BlockHash) -> Vec<u8> {
    scion_bridge::to_display(hash).to_vec()
}

// ---------------------------------------------------------------------------------------------
// 1. Real mainnet headers
// ---------------------------------------------------------------------------------------------

const CP: u32 = 849_134;

#[test]
fn mainnet_headers_extend_the_chain_from_a_checkpoint() {
    let v = vectors();
    let (cp_raw, cp_hash) = mainnet(&v, CP.into());
    let cfg = mainnet_config(CP, &cp_raw);
    assert_eq!(cfg.checkpoint.block_hash().to_string(), cp_hash);
    let mut h = host(&cfg);
    assert_eq!(best(&cfg, &mut h).height, CP);
    let bits = cfg.checkpoint.bits.to_consensus();
    assert_eq!(bits, 0x1703_5d25);

    for (i, height) in (CP + 1..=CP + 5).enumerate() {
        let (raw, hash) = mainnet(&v, height.into());
        let s = add(&cfg, &mut h, &raw).unwrap_or_else(|r| panic!("{height}: {r}"));
        assert_eq!(s.height, height);
        assert_eq!(s.hash().to_string(), hash);
        assert_eq!(
            s.chainwork,
            cfg.checkpoint_work + work(bits) * U256::from(i + 1)
        );
        let b = best(&cfg, &mut h);
        assert_eq!(b, s, "best follows each new header");
    }
    assert_eq!(best(&cfg, &mut h).height, CP + 5);
    for height in CP..=CP + 5 {
        let (raw, hash) = mainnet(&v, height.into());
        let s = at_height(&cfg, &mut h, height).unwrap();
        assert_eq!(s.hash().to_string(), hash);
        assert_eq!(serialize(&s.header), raw);
        assert!(is_main(&cfg, &mut h, &s));
        assert_eq!(get(&cfg, &mut h, &s.hash()), Some(s));
    }
    assert_eq!(at_height(&cfg, &mut h, CP + 6), None);
    assert_eq!(at_height(&cfg, &mut h, CP - 1), None);

    // The getters through the ABI dispatcher.
    let who = Address::repeat_byte(7);
    let out = success(call(
        &cfg,
        &mut h,
        who,
        &IBridge::getBtcBlockchainBestChainHeightCall {}.abi_encode(),
    ));
    assert_eq!(
        IBridge::getBtcBlockchainBestChainHeightCall::abi_decode_returns(&out).unwrap(),
        I256::try_from(CP + 5).unwrap()
    );
    let out = success(call(
        &cfg,
        &mut h,
        who,
        &IBridge::getBtcBlockchainInitialBlockHeightCall {}.abi_encode(),
    ));
    assert_eq!(
        IBridge::getBtcBlockchainInitialBlockHeightCall::abi_decode_returns(&out).unwrap(),
        I256::try_from(CP).unwrap()
    );
    for depth in 0..=5u32 {
        let input = IBridge::getBtcBlockchainBlockHashAtDepthCall {
            depth: I256::try_from(depth).unwrap(),
        }
        .abi_encode();
        let out = success(call(&cfg, &mut h, who, &input));
        let got = IBridge::getBtcBlockchainBlockHashAtDepthCall::abi_decode_returns(&out).unwrap();
        let (_, hash) = mainnet(&v, (CP + 5 - depth).into());
        assert_eq!(hex::encode(got), hash, "depth {depth}");
    }
    for bad in [I256::try_from(6).unwrap(), I256::MINUS_ONE] {
        let input = IBridge::getBtcBlockchainBlockHashAtDepthCall { depth: bad }.abi_encode();
        let o = call(&cfg, &mut h, who, &input);
        assert_eq!(revert_reason(&o), "Bridge: depth must be between 0 and 5");
    }
    for height in CP..=CP + 6 {
        let input = IBridge::getBtcBlockchainBlockHeaderByHeightCall {
            btcBlockHeight: U256::from(height),
        }
        .abi_encode();
        let out = success(call(&cfg, &mut h, who, &input));
        let got =
            IBridge::getBtcBlockchainBlockHeaderByHeightCall::abi_decode_returns(&out).unwrap();
        if height <= CP + 5 {
            assert_eq!(
                got.to_vec(),
                mainnet(&v, height.into()).0,
                "height {height}"
            );
        } else {
            assert!(got.is_empty(), "no header above the tip");
        }
    }
    let (tip_raw, tip_hash) = mainnet(&v, (CP + 5).into());
    let out = success(call(
        &cfg,
        &mut h,
        who,
        &IBridge::getBtcBlockchainBestBlockHeaderCall {}.abi_encode(),
    ));
    assert_eq!(
        IBridge::getBtcBlockchainBestBlockHeaderCall::abi_decode_returns(&out)
            .unwrap()
            .to_vec(),
        tip_raw
    );
    let (_, mid_hash) = mainnet(&v, (CP + 2).into());
    for (hash, want) in [
        (&tip_hash, tip_raw.clone()),
        (&mid_hash, mainnet(&v, (CP + 2).into()).0),
        (&"11".repeat(32), Vec::new()),
    ] {
        let input = IBridge::getBtcBlockchainBlockHeaderByHashCall {
            btcBlockHash: B256::from_slice(&hex::decode(hash).unwrap()),
        }
        .abi_encode();
        let out = success(call(&cfg, &mut h, who, &input));
        let got = IBridge::getBtcBlockchainBlockHeaderByHashCall::abi_decode_returns(&out).unwrap();
        assert_eq!(got.to_vec(), want, "by hash {hash}");
    }
}

#[test]
fn mainnet_headers_are_rejected_for_the_right_reason() {
    let v = vectors();
    let (cp_raw, _) = mainnet(&v, CP.into());
    let cfg = mainnet_config(CP, &cp_raw);
    let mut h = host(&cfg);
    let (raw1, _) = mainnet(&v, (CP + 1).into());
    let (raw2, _) = mainnet(&v, (CP + 2).into());
    let (raw3, _) = mainnet(&v, (CP + 3).into());

    // Unknown parent: 849136 before 849135.
    assert_eq!(add(&cfg, &mut h, &raw2), Err(Reject::NoParent));
    // The checkpoint itself is known.
    assert_eq!(add(&cfg, &mut h, &cp_raw), Err(Reject::Exists));

    // Nonce changed: the hash no longer meets the target.
    let mut bad: Header = deserialize(&raw1).unwrap();
    bad.nonce ^= 1;
    assert_eq!(add_header(&cfg, &mut h, &bad), Err(Reject::BadPow));
    // Also a changed timestamp or merkle root.
    let mut bad: Header = deserialize(&raw1).unwrap();
    bad.time += 1;
    assert_eq!(add_header(&cfg, &mut h, &bad), Err(Reject::BadPow));

    // nBits changed: either its own proof of work fails or the bits are not the rule's.
    for bits in [
        0x1703_5d24u32,
        0x1703_5d26,
        0x1803_5d25,
        0x1d00_ffff,
        0x1600_ffff,
    ] {
        let mut bad: Header = deserialize(&raw1).unwrap();
        bad.bits = CompactTarget::from_consensus(bits);
        match add_header(&cfg, &mut h, &bad) {
            Err(Reject::BadPow) | Err(Reject::BadBits { .. }) => {}
            other => panic!("bits {bits:#x}: {other:?}"),
        }
    }
    // A target above the proof-of-work limit is refused as bad proof of work.
    let mut bad: Header = deserialize(&raw1).unwrap();
    bad.bits = CompactTarget::from_consensus(0x1e00_ffff);
    assert_eq!(add_header(&cfg, &mut h, &bad), Err(Reject::BadPow));
    // Not 80 bytes.
    assert_eq!(add(&cfg, &mut h, &raw1[..79]), Err(Reject::BadSize));
    assert_eq!(
        add(&cfg, &mut h, &[raw1.clone(), vec![0]].concat()),
        Err(Reject::BadSize)
    );

    // Nothing was stored by the rejections.
    assert_eq!(best(&cfg, &mut h).height, CP);
    assert_eq!(at_height(&cfg, &mut h, CP + 1), None);

    // The real one is accepted once; the second time it exists.
    assert_eq!(add(&cfg, &mut h, &raw1).unwrap().height, CP + 1);
    assert_eq!(add(&cfg, &mut h, &raw1), Err(Reject::Exists));
    assert_eq!(add(&cfg, &mut h, &raw2).unwrap().height, CP + 2);
    assert_eq!(add(&cfg, &mut h, &raw2), Err(Reject::Exists));
    assert_eq!(add(&cfg, &mut h, &raw3).unwrap().height, CP + 3);
    assert_eq!(best(&cfg, &mut h).height, CP + 3);
}

#[test]
fn mainnet_run_at_900000_links_too() {
    let v = vectors();
    let (cp_raw, _) = mainnet(&v, 900_000);
    let cfg = mainnet_config(900_000, &cp_raw);
    let mut h = host(&cfg);
    for height in 900_001..=900_002u32 {
        let (raw, hash) = mainnet(&v, height.into());
        let s = add(&cfg, &mut h, &raw).unwrap_or_else(|r| panic!("{height}: {r}"));
        assert_eq!(s.hash().to_string(), hash);
    }
    assert_eq!(best(&cfg, &mut h).height, 900_002);
    // A header from the other run has no parent here.
    assert_eq!(
        add(&cfg, &mut h, &mainnet(&v, 849_135).0),
        Err(Reject::NoParent)
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Every vector header
// ---------------------------------------------------------------------------------------------

#[test]
fn all_vector_headers_meet_their_own_target_and_hash_as_recorded() {
    let v = vectors();
    let all = v["headers"].as_array().unwrap();
    assert_eq!(all.len(), 1208);
    for r in all {
        let raw = hex::decode(r["header"].as_str().unwrap()).unwrap();
        assert_eq!(raw.len(), 80);
        let header: Header = deserialize(&raw).unwrap();
        let what = format!("{} {}", r["network"], r["height"]);
        let hash = header
            .validate_pow(header.target())
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(hash.to_string(), r["hash"].as_str().unwrap(), "{what}");
        assert_eq!(header.block_hash(), hash);
        assert_eq!(
            header.prev_blockhash.to_string(),
            r["prev_hash"].as_str().unwrap(),
            "{what}"
        );
        assert_eq!(
            header.merkle_root.to_string(),
            r["merkle_root"].as_str().unwrap(),
            "{what}"
        );
        assert_eq!(
            format!("{:08x}", header.bits.to_consensus()),
            r["bits"].as_str().unwrap()
        );
        assert_eq!(
            u64::from(header.time),
            r["time"].as_u64().unwrap(),
            "{what}"
        );
        assert_eq!(
            u64::from(header.nonce),
            r["nonce"].as_u64().unwrap(),
            "{what}"
        );
        assert_eq!(
            hex::encode(header.target().to_be_bytes()),
            r["target"].as_str().unwrap(),
            "{what}"
        );
        assert_eq!(r["pow_valid"], true, "{what}");
        assert_eq!(serialize(&header), raw);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Regtest: forks, median time past, nBits
// ---------------------------------------------------------------------------------------------

#[test]
fn regtest_dev_checkpoint_is_the_genesis_block() {
    let cfg = dev_config();
    assert_eq!(cfg.checkpoint_height, 0);
    assert_eq!(
        cfg.checkpoint.block_hash(),
        bitcoin::constants::genesis_block(bitcoin::Network::Regtest).block_hash()
    );
    assert_eq!(cfg.checkpoint.bits.to_consensus(), REGTEST_BITS);
    assert_eq!(cfg.checkpoint_work, work(REGTEST_BITS));
    let mut h = host(&cfg);
    assert_eq!(best(&cfg, &mut h).hash(), cfg.checkpoint.block_hash());
}

#[test]
fn regtest_fork_with_more_work_becomes_best_and_back() {
    let cfg = dev_config();
    let mut h = host(&cfg);
    let g = cfg.checkpoint;
    let a = mine_chain(&g, 5, 600, 0xa00); // a[0] is height 1
    for x in &a {
        add_header(&cfg, &mut h, x).unwrap();
    }
    assert_eq!(best(&cfg, &mut h).hash(), a[4].block_hash());

    // Branch b forks off a[1] (height 2): b[0] is height 3.
    let b = mine_chain(&a[1], 5, 601, 0xb00);
    for (i, x) in b.iter().enumerate().take(3) {
        let s = add_header(&cfg, &mut h, x).unwrap();
        assert_eq!(s.height, 3 + i as u32);
        // Less or equal work: the first seen tip stays best.
        assert_eq!(best(&cfg, &mut h).hash(), a[4].block_hash(), "b{i}");
        assert!(!is_main(&cfg, &mut h, &s));
    }
    // b[3] at height 6 has more work than a[4] at height 5: reorg.
    let s = add_header(&cfg, &mut h, &b[3]).unwrap();
    assert_eq!(s.height, 6);
    assert_eq!(s.chainwork, work(REGTEST_BITS) * U256::from(7));
    assert_eq!(best(&cfg, &mut h), s);
    for height in 3..=6u32 {
        let got = at_height(&cfg, &mut h, height).unwrap();
        assert_eq!(
            got.hash(),
            b[height as usize - 3].block_hash(),
            "height {height}"
        );
    }
    for height in 0..=2u32 {
        let want = if height == 0 {
            g.block_hash()
        } else {
            a[height as usize - 1].block_hash()
        };
        assert_eq!(at_height(&cfg, &mut h, height).unwrap().hash(), want);
    }
    for x in &a[2..] {
        let s = get(&cfg, &mut h, &x.block_hash()).unwrap();
        assert!(
            !is_main(&cfg, &mut h, &s),
            "old branch block at {} still main",
            s.height
        );
    }
    for x in &a[..2] {
        let s = get(&cfg, &mut h, &x.block_hash()).unwrap();
        assert!(is_main(&cfg, &mut h, &s));
    }
    add_header(&cfg, &mut h, &b[4]).unwrap();
    assert_eq!(best(&cfg, &mut h).height, 7);

    // The old branch catches up and overtakes: the chain reorgs back.
    let a_more = mine_chain(&a[4], 3, 600, 0xa10);
    add_header(&cfg, &mut h, &a_more[0]).unwrap(); // height 6
    add_header(&cfg, &mut h, &a_more[1]).unwrap(); // height 7: tie with b[4]
    assert_eq!(best(&cfg, &mut h).hash(), b[4].block_hash());
    add_header(&cfg, &mut h, &a_more[2]).unwrap(); // height 8
    assert_eq!(best(&cfg, &mut h).hash(), a_more[2].block_hash());
    let main: Vec<Header> = a.iter().chain(a_more.iter()).copied().collect();
    for (i, x) in main.iter().enumerate() {
        let got = at_height(&cfg, &mut h, i as u32 + 1).unwrap();
        assert_eq!(got.hash(), x.block_hash(), "height {}", i + 1);
        assert!(is_main(&cfg, &mut h, &got));
    }
    assert_eq!(at_height(&cfg, &mut h, 9), None);
    for x in &b {
        let s = get(&cfg, &mut h, &x.block_hash()).unwrap();
        assert!(
            !is_main(&cfg, &mut h, &s),
            "b block at {} still main",
            s.height
        );
    }
}

#[test]
fn regtest_reorg_through_the_dispatcher_getters() {
    let cfg = dev_config();
    let mut h = host(&cfg);
    let a = mine_chain(&cfg.checkpoint, 3, 600, 0x100);
    let b = mine_chain(&cfg.checkpoint, 4, 599, 0x200);
    for x in a.iter().chain(b.iter()) {
        add_header(&cfg, &mut h, x).unwrap();
    }
    let who = Address::repeat_byte(1);
    let out = success(call(
        &cfg,
        &mut h,
        who,
        &IBridge::getBtcBlockchainBestChainHeightCall {}.abi_encode(),
    ));
    assert_eq!(
        IBridge::getBtcBlockchainBestChainHeightCall::abi_decode_returns(&out).unwrap(),
        I256::try_from(4).unwrap()
    );
    for depth in 0..4usize {
        let input = IBridge::getBtcBlockchainBlockHashAtDepthCall {
            depth: I256::try_from(depth).unwrap(),
        }
        .abi_encode();
        let out = success(call(&cfg, &mut h, who, &input));
        let got = IBridge::getBtcBlockchainBlockHashAtDepthCall::abi_decode_returns(&out).unwrap();
        assert_eq!(
            got.to_vec(),
            display(&b[3 - depth].block_hash()),
            "depth {depth}"
        );
    }
}

#[test]
fn regtest_time_not_above_median_of_last_11_is_rejected() {
    let cfg = dev_config();
    let mut h = host(&cfg);
    let g = cfg.checkpoint;
    // Heights 1..=12 at times g+600·i.
    let c = mine_chain(&g, 12, 600, 0x300);
    for x in &c {
        add_header(&cfg, &mut h, x).unwrap();
    }
    // The last 11 are heights 2..=12: times g+1200 .. g+7200, median is height 7's.
    let tip = c[11];
    let median = c[6].time;
    assert_eq!(median, g.time + 7 * 600);
    for t in [median, median - 1, g.time] {
        let x = mine(&tip, t, REGTEST_BITS, 0x3ff);
        assert_eq!(
            add_header(&cfg, &mut h, &x),
            Err(Reject::TimeTooOld),
            "time {t}"
        );
    }
    // One second above the median is fine, even though it is below its parent's time.
    let x = mine(&tip, median + 1, REGTEST_BITS, 0x3ff);
    assert!(x.time < tip.time);
    let s = add_header(&cfg, &mut h, &x).unwrap();
    assert_eq!(s.height, 13);

    // With fewer than 11 ancestors the median is taken over what is known: on a chain
    // g, y1 (g+600), y2 (g+1200), the median of {g, g+600, g+1200} is g+600.
    let y = mine_chain(&g, 2, 600, 0x500);
    for x in &y {
        add_header(&cfg, &mut h, x).unwrap();
    }
    let x = mine(&y[1], g.time + 600, REGTEST_BITS, 0x5ff);
    assert_eq!(add_header(&cfg, &mut h, &x), Err(Reject::TimeTooOld));
    let x = mine(&y[1], g.time + 601, REGTEST_BITS, 0x5ff);
    assert_eq!(add_header(&cfg, &mut h, &x).unwrap().height, 3);
    // The checkpoint's child only needs to be after the checkpoint.
    let x = mine(&g, g.time, REGTEST_BITS, 0x600);
    assert_eq!(add_header(&cfg, &mut h, &x), Err(Reject::TimeTooOld));
    let x = mine(&g, g.time + 1, REGTEST_BITS, 0x600);
    assert_eq!(add_header(&cfg, &mut h, &x).unwrap().height, 1);
}

#[test]
fn regtest_bits_other_than_the_parents_are_rejected() {
    let cfg = dev_config();
    let mut h = host(&cfg);
    let g = cfg.checkpoint;
    let c = mine_chain(&g, 2, 600, 0x700);
    for x in &c {
        add_header(&cfg, &mut h, x).unwrap();
    }
    // Harder targets, each met by the header's own hash: wrong bits.
    for bits in [0x207f_fffeu32, 0x203f_ffff, 0x2010_0000, 0x1f7f_ffff] {
        let x = mine(&c[1], c[1].time + 600, bits, u64::from(bits));
        assert_eq!(x.validate_pow(x.target()), Ok(x.block_hash()));
        assert_eq!(
            add_header(&cfg, &mut h, &x),
            Err(Reject::BadBits {
                expected: REGTEST_BITS,
                got: bits
            }),
            "bits {bits:#x}"
        );
        // Also after the 20-minute gap that allows minimum-difficulty blocks.
        let x = mine(&c[1], c[1].time + 1201, bits, u64::from(bits) + 1);
        assert_eq!(
            add_header(&cfg, &mut h, &x),
            Err(Reject::BadBits {
                expected: REGTEST_BITS,
                got: bits
            })
        );
    }
    // Targets above the regtest limit are bad proof of work even when the hash meets them.
    for bits in [0x2100_ffffu32, 0x217f_ffff, 0x2100_8000] {
        let x = mine(&c[1], c[1].time + 600, bits, u64::from(bits));
        assert_eq!(
            add_header(&cfg, &mut h, &x),
            Err(Reject::BadPow),
            "bits {bits:#x}"
        );
    }
    // The right bits but a hash above the target.
    let x = mine_bad(&c[1], c[1].time + 600, REGTEST_BITS, 0x7ff);
    assert_eq!(add_header(&cfg, &mut h, &x), Err(Reject::BadPow));
    // A negative mantissa decodes to a zero target: never met.
    let mut x = mine(&c[1], c[1].time + 600, REGTEST_BITS, 0x7fe);
    x.bits = CompactTarget::from_consensus(0x20ff_ffff);
    assert_eq!(add_header(&cfg, &mut h, &x), Err(Reject::BadPow));

    assert_eq!(best(&cfg, &mut h).height, 2);
    let x = mine(&c[1], c[1].time + 600, REGTEST_BITS, 0x7fd);
    assert_eq!(add_header(&cfg, &mut h, &x).unwrap().height, 3);
}

// ---------------------------------------------------------------------------------------------
// 4. Retargeting at regtest difficulty
// ---------------------------------------------------------------------------------------------

fn retarget_config() -> Config {
    let mut cfg = dev_config();
    cfg.bitcoin.no_pow_retargeting = false;
    cfg.bitcoin.allow_min_difficulty_blocks = false;
    assert_eq!(cfg.bitcoin.difficulty_adjustment_interval(), 2016);
    cfg
}

#[test]
fn retarget_at_2016_requires_the_new_bits() {
    let cfg = retarget_config();
    let mut h = host(&cfg);
    let g = cfg.checkpoint;
    let chain = mine_chain(&g, 2015, 1, 0x1_0000);
    for x in &chain {
        add_header(&cfg, &mut h, x).unwrap();
    }
    let last = chain[2014];
    assert_eq!(best(&cfg, &mut h).height, 2015);
    let timespan = u64::from(last.time - g.time);
    assert_eq!(timespan, 2015);
    let new_bits = CompactTarget::from_next_work_required(last.bits, timespan, &cfg.bitcoin);
    assert_ne!(new_bits, last.bits);
    // Blocks came 600x too fast, so the timespan is clamped to a quarter of two weeks. At the
    // regtest limit (~2^255) `target * 302400` wraps around 2^256, as Bitcoin Core's
    // arith_uint256 does too (why regtest turns retargeting off); recompute it independently.
    let old = U256::from_be_bytes(bitcoin::Target::from_compact(last.bits).to_be_bytes());
    let want = old.wrapping_mul(U256::from(302_400u64)) / U256::from(1_209_600u64);
    let want = bitcoin::Target::from_be_bytes(want.to_be_bytes::<32>()).to_compact_lossy();
    assert_eq!(new_bits, want);
    assert_eq!(new_bits.to_consensus(), 0x1e0d_9ebb);
    // Harder either way.
    assert!(bitcoin::Target::from_compact(new_bits) < bitcoin::Target::from_compact(last.bits));

    let time = last.time + 1;
    let stale = mine(&last, time, REGTEST_BITS, 0x2_0000);
    assert_eq!(
        add_header(&cfg, &mut h, &stale),
        Err(Reject::BadBits {
            expected: new_bits.to_consensus(),
            got: REGTEST_BITS
        })
    );
    // Other bits, between the old and the new target, are just as wrong.
    let between = mine(&last, time, 0x1f00_ffff, 0x2_0001);
    assert_eq!(
        add_header(&cfg, &mut h, &between),
        Err(Reject::BadBits {
            expected: new_bits.to_consensus(),
            got: 0x1f00_ffff
        })
    );
    assert_eq!(best(&cfg, &mut h).height, 2015);

    let good = mine(&last, time, new_bits.to_consensus(), 0x2_0002);
    let s = add_header(&cfg, &mut h, &good).unwrap();
    assert_eq!(s.height, 2016);
    assert_eq!(best(&cfg, &mut h), s);
    assert_eq!(
        s.chainwork,
        work(REGTEST_BITS) * U256::from(2016) + work(new_bits.to_consensus())
    );

    // Inside the new period the bits stay: the old easy bits are refused at 2017.
    let easy = mine(&good, time + 1, REGTEST_BITS, 0x2_0003);
    assert_eq!(
        add_header(&cfg, &mut h, &easy),
        Err(Reject::BadBits {
            expected: new_bits.to_consensus(),
            got: REGTEST_BITS
        })
    );
    let next = mine(&good, time + 1, new_bits.to_consensus(), 0x2_0004);
    assert_eq!(add_header(&cfg, &mut h, &next).unwrap().height, 2017);
}

#[test]
fn retarget_on_a_side_branch_uses_that_branchs_timestamps() {
    let cfg = retarget_config();
    let mut h = host(&cfg);
    let g = cfg.checkpoint;
    let main = mine_chain(&g, 2015, 1, 0x1_0000);
    for x in &main {
        add_header(&cfg, &mut h, x).unwrap();
    }
    // A side branch from height 2010 whose last 5 blocks are 100000 s apart: a longer
    // timespan and so an easier retarget than the main chain's. It ties at 2015 and is not best.
    let fork_base = main[2009];
    assert_eq!(
        get(&cfg, &mut h, &fork_base.block_hash()).unwrap().height,
        2010
    );
    let side = mine_chain(&fork_base, 5, 100_000, 0x3_0000);
    for x in &side {
        add_header(&cfg, &mut h, x).unwrap();
    }
    assert_eq!(best(&cfg, &mut h).hash(), main[2014].block_hash());
    let side_tip = side[4];
    let side_span = u64::from(side_tip.time - g.time);
    let main_span = u64::from(main[2014].time - g.time);
    let side_bits = CompactTarget::from_next_work_required(side_tip.bits, side_span, &cfg.bitcoin);
    let main_bits = CompactTarget::from_next_work_required(side_tip.bits, main_span, &cfg.bitcoin);
    assert_ne!(side_bits, main_bits);

    let wrong = mine(
        &side_tip,
        side_tip.time + 1,
        main_bits.to_consensus(),
        0x3_1000,
    );
    assert_eq!(
        add_header(&cfg, &mut h, &wrong),
        Err(Reject::BadBits {
            expected: side_bits.to_consensus(),
            got: main_bits.to_consensus()
        })
    );
    let right = mine(
        &side_tip,
        side_tip.time + 1,
        side_bits.to_consensus(),
        0x3_1001,
    );
    let s = add_header(&cfg, &mut h, &right).unwrap();
    assert_eq!(s.height, 2016);
    // It has more work than the main chain's 2015: the side branch becomes best.
    assert_eq!(best(&cfg, &mut h), s);
    assert_eq!(
        at_height(&cfg, &mut h, 2011).unwrap().hash(),
        side[0].block_hash()
    );
    assert_eq!(
        at_height(&cfg, &mut h, 2010).unwrap().hash(),
        fork_base.block_hash()
    );
    let old = get(&cfg, &mut h, &main[2014].block_hash()).unwrap();
    assert!(!is_main(&cfg, &mut h, &old));
}

#[test]
fn retarget_before_the_checkpoint_is_unverifiable() {
    // A checkpoint at height 2000: the retarget at 2016 needs the block at height 0.
    let mut cfg = retarget_config();
    cfg.checkpoint_height = 2000;
    let mut h = host(&cfg);
    let chain = mine_chain(&cfg.checkpoint, 15, 1, 0x4_0000);
    for x in &chain {
        add_header(&cfg, &mut h, x).unwrap();
    }
    assert_eq!(best(&cfg, &mut h).height, 2015);
    let last = chain[14];
    let x = mine(&last, last.time + 1, REGTEST_BITS, 0x4_1000);
    assert_eq!(add_header(&cfg, &mut h, &x), Err(Reject::Unverifiable));
}

// ---------------------------------------------------------------------------------------------
// 5. receiveHeader / receiveHeaders through execute
// ---------------------------------------------------------------------------------------------

#[test]
fn receive_header_result_codes() {
    let cfg = dev_config();
    let mut h = host(&cfg);
    let g = cfg.checkpoint;
    let c = mine_chain(&g, 3, 600, 0x800);

    assert_eq!(receive_header(&cfg, &mut h, &serialize(&c[0])), 0);
    assert_eq!(best(&cfg, &mut h).hash(), c[0].block_hash());
    assert_eq!(receive_header(&cfg, &mut h, &serialize(&c[0])), -4);
    assert_eq!(receive_header(&cfg, &mut h, &serialize(&g)), -4);
    // c[2]'s parent c[1] is unknown.
    assert_eq!(receive_header(&cfg, &mut h, &serialize(&c[2])), -3);
    let raw = serialize(&c[1]);
    assert_eq!(receive_header(&cfg, &mut h, &raw[..79]), -20);
    assert_eq!(
        receive_header(&cfg, &mut h, &[raw.clone(), vec![0]].concat()),
        -20
    );
    assert_eq!(receive_header(&cfg, &mut h, &[]), -20);
    let bad = mine_bad(&c[0], c[1].time, REGTEST_BITS, 0x8ff);
    assert_eq!(receive_header(&cfg, &mut h, &serialize(&bad)), -99);
    let above_limit = mine(&c[0], c[1].time, 0x2100_ffff, 0x8fe);
    assert_eq!(receive_header(&cfg, &mut h, &serialize(&above_limit)), -99);
    let wrong_bits = mine(&c[0], c[1].time, 0x207f_fffe, 0x8fd);
    assert_eq!(receive_header(&cfg, &mut h, &serialize(&wrong_bits)), -99);
    let too_old = mine(&c[0], g.time, REGTEST_BITS, 0x8fc);
    assert_eq!(receive_header(&cfg, &mut h, &serialize(&too_old)), -99);
    assert_eq!(best(&cfg, &mut h).hash(), c[0].block_hash());

    assert_eq!(receive_header(&cfg, &mut h, &raw), 0);
    assert_eq!(receive_header(&cfg, &mut h, &serialize(&c[2])), 0);
    assert_eq!(best(&cfg, &mut h).height, 3);

    // Anyone may call it, and the gas is the method's.
    let input = IBridge::receiveHeaderCall {
        block: serialize(&mine(&c[2], c[2].time + 600, REGTEST_BITS, 0x900)).into(),
    }
    .abi_encode();
    match call(&cfg, &mut h, Address::repeat_byte(0x42), &input) {
        Outcome::Success { gas, .. } => assert_eq!(Some(gas), method_gas(&input)),
        other => panic!("{other:?}"),
    }
    assert_eq!(best(&cfg, &mut h).height, 4);
}

#[test]
fn receive_header_refuses_deep_forks_rate_limits_and_static_calls() {
    let mut cfg = dev_config();
    let mut h = host(&cfg);
    let g = cfg.checkpoint;
    let c = mine_chain(&g, 27, 600, 0xa000);
    for x in &c {
        add_header(&cfg, &mut h, x).unwrap();
    }
    // A parent 26 below the tip (27) is too deep; 25 below is not.
    let deep = mine(&c[0], c[0].time + 601, REGTEST_BITS, 0xa100);
    assert_eq!(receive_header(&cfg, &mut h, &serialize(&deep)), -2);
    let shallow = mine(&c[1], c[1].time + 601, REGTEST_BITS, 0xa101);
    assert_eq!(receive_header(&cfg, &mut h, &serialize(&shallow)), 0);

    // At most one accepted receiveHeader per interval of block time.
    cfg.params.receive_header_interval = 600;
    h.time = 10_000;
    let tip = c[26];
    let n1 = mine(&tip, tip.time + 600, REGTEST_BITS, 0xa200);
    let n2 = mine(&n1, n1.time + 600, REGTEST_BITS, 0xa201);
    assert_eq!(receive_header(&cfg, &mut h, &serialize(&n1)), 0);
    h.time = 10_599;
    assert_eq!(receive_header(&cfg, &mut h, &serialize(&n2)), -1);
    h.time = 10_600;
    assert_eq!(receive_header(&cfg, &mut h, &serialize(&n2)), 0);
    assert_eq!(best(&cfg, &mut h).height, 29);

    // A write inside a STATICCALL reverts.
    let n3 = mine(&n2, n2.time + 600, REGTEST_BITS, 0xa202);
    let input = IBridge::receiveHeaderCall {
        block: serialize(&n3).into(),
    }
    .abi_encode();
    let o = execute(
        &cfg,
        &mut h,
        Call {
            caller: Address::ZERO,
            value: U256::ZERO,
            input: &input,
            gas_limit: 30_000_000,
            is_static: true,
        },
    )
    .unwrap();
    assert_eq!(
        revert_reason(&o),
        "Bridge: state change inside a static call"
    );
    assert_eq!(best(&cfg, &mut h).height, 29);
}

#[test]
fn receive_headers_is_for_federators_and_all_or_nothing() {
    let cfg = dev_config();
    let mut h = host(&cfg);
    let g = cfg.checkpoint;
    let federator = rsk_address(&cfg.federation.members[0].rsk);
    assert_eq!(federator, cfg.federation.members[0].address);
    let c = mine_chain(&g, 6, 600, 0xc000);
    let raws: Vec<Vec<u8>> = c.iter().map(serialize).collect();

    // Not a federator.
    for who in [Address::ZERO, Address::repeat_byte(0x55)] {
        let o = receive_headers(&cfg, &mut h, who, &raws[..3]);
        assert_eq!(
            revert_reason(&o),
            format!("Bridge: receiveHeaders is for federators only; {who} is not one")
        );
    }
    assert_eq!(best(&cfg, &mut h).height, 0);

    // A federator's batch is accepted, and its gas grows with the batch.
    let input = IBridge::receiveHeadersCall {
        blocks: raws[..3]
            .iter()
            .map(|r| Bytes::copy_from_slice(r))
            .collect(),
    }
    .abi_encode();
    match call(&cfg, &mut h, federator, &input) {
        Outcome::Success { gas, output } => {
            assert!(output.is_empty());
            assert_eq!(Some(gas), method_gas(&input));
            assert_eq!(gas, 25_000 + 2 * input.len() as u64 + 2 * 3_500);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(best(&cfg, &mut h).hash(), c[2].block_hash());
    // Every member may send; headers already known in a batch are skipped.
    for m in &cfg.federation.members[1..] {
        success(receive_headers(&cfg, &mut h, m.address, &raws[1..3]));
    }
    success(receive_headers(
        &cfg,
        &mut h,
        cfg.federation.members[2].address,
        &raws[2..4],
    ));
    assert_eq!(best(&cfg, &mut h).height, 4);

    // One bad header in the batch reverts the call, naming it.
    let bad = mine_bad(&c[5], c[5].time + 600, REGTEST_BITS, 0xc0ff);
    let batch = vec![raws[4].clone(), raws[5].clone(), serialize(&bad)];
    let o = receive_headers(&cfg, &mut h, federator, &batch);
    assert_eq!(revert_reason(&o), "Bridge: header 2: bad proof of work");
    // An unknown parent or a short header too (fresh hosts: MemHost keeps a reverted call's
    // writes, the EVM journal is what undoes them).
    let mut h2 = host(&cfg);
    let o = receive_headers(
        &cfg,
        &mut h2,
        federator,
        &[raws[0].clone(), raws[2].clone()],
    );
    assert_eq!(revert_reason(&o), "Bridge: header 1: parent header unknown");
    let mut h3 = host(&cfg);
    let o = receive_headers(&cfg, &mut h3, federator, &[raws[0][..79].to_vec()]);
    assert_eq!(
        revert_reason(&o),
        "Bridge: header 0: header is not 80 bytes"
    );

    // More than 500 headers in one call.
    let mut h4 = host(&cfg);
    let many = vec![raws[0].clone(); 501];
    let o = receive_headers(&cfg, &mut h4, federator, &many);
    assert_eq!(
        revert_reason(&o),
        "Bridge: 501 headers, at most 500 per call"
    );
    assert_eq!(best(&cfg, &mut h4).height, 0);
    // An empty batch is fine.
    success(receive_headers(&cfg, &mut h4, federator, &[]));
}

/// After a checkpoint that is not Bitcoin's genesis the 11 timestamps before it are unknown;
/// a median over fewer would refuse blocks Bitcoin Core accepts, so the rule waits for them.
#[test]
fn median_time_near_a_later_checkpoint_is_not_stricter_than_core() {
    let genesis = dev_config().checkpoint;
    let chain = mine_chain(&genesis, 11, 600, 500);
    let cp = chain[10];
    let mut p = ChainSpec::dev().params.bridge.clone();
    p.checkpoint.height = 11;
    p.checkpoint.header = Bytes::from(bitcoin::consensus::serialize(&cp));
    let cfg = Config::new(&p, "regtest").unwrap();
    let mut h = host(&cfg);
    // One second before the checkpoint's own time, above the true median of the last 11.
    let child = mine(&cp, cp.time - 1, REGTEST_BITS, 900);
    assert_eq!(
        add_header(&cfg, &mut h, &child),
        Ok(Stored {
            header: child,
            height: 12,
            chainwork: cfg.checkpoint_work + work(REGTEST_BITS),
        })
    );
}
