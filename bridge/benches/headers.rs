//! Bitcoin header verification speed: 100 regtest headers added through the Bridge's light
//! client (parent lookup, proof of work, nBits, median-time-past, storage), and proof of work
//! alone on 1,208 real headers. Run: `cargo bench -p scion-bridge --bench headers`.

use bitcoin::block::{Header, Version};
use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::Hash;
use bitcoin::{CompactTarget, TxMerkleNode};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scion_bridge::headers::Chain;
use scion_bridge::{Config, MemHost, Store};
use scion_types::ChainSpec;

fn regtest_headers(cfg: &Config, n: usize) -> Vec<Vec<u8>> {
    let mut prev = cfg.checkpoint;
    (0..n)
        .map(|i| {
            let mut root = [0u8; 32];
            root[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let mut h = Header {
                version: Version::from_consensus(0x2000_0000),
                prev_blockhash: prev.block_hash(),
                merkle_root: TxMerkleNode::from_byte_array(root),
                time: prev.time + 600,
                bits: CompactTarget::from_consensus(0x207f_ffff),
                nonce: 0,
            };
            while h.validate_pow(h.target()).is_err() {
                h.nonce += 1;
            }
            prev = h;
            serialize(&h)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let cfg = Config::new(&ChainSpec::dev().params.bridge, "regtest").expect("dev config");
    let headers = regtest_headers(&cfg, 100);
    let mut g = c.benchmark_group("light_client");
    g.throughput(Throughput::Elements(100));
    g.bench_function("add_100_regtest_headers", |b| {
        b.iter(|| {
            let mut host = MemHost::default();
            let mut st = Store::new(&mut host);
            let mut chain = Chain::new(&mut st, &cfg);
            chain.init().expect("init");
            for h in &headers {
                chain.add(h).expect("storage").expect("valid header");
            }
        })
    });
    g.finish();

    let data: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/data/bitcoin-headers.json"
        ))
        .expect("tests/data/bitcoin-headers.json"),
    )
    .expect("JSON");
    let real: Vec<Header> = data["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|h| {
            deserialize(&hex::decode(h["header"].as_str().expect("hex")).expect("hex"))
                .expect("header")
        })
        .collect();
    let mut g = c.benchmark_group("pow");
    g.throughput(Throughput::Elements(real.len() as u64));
    g.bench_function("validate_pow_1208_real_headers", |b| {
        b.iter(|| {
            for h in &real {
                h.validate_pow(h.target()).expect("valid pow");
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
