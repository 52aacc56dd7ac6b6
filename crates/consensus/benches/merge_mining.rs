//! Merged-mining proof verification on Rootstock's own mainnet proofs
//! (tests/data/merge-mining.json): SHA-256 of the header, the coinbase from its midstate, the
//! commitment search and the merkle branch.

use alloy_primitives::{B256, U256};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scion_consensus::merge_mining::{verify, Commitment, MergeMiningProof};
use serde_json::Value;

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap().trim_start_matches("0x")).unwrap()
}

fn bench(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/merge-mining.json"
    );
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let vectors = all["vectors"]
        .as_array()
        .or(all.as_array())
        .unwrap()
        .clone();
    // The valid ones: (header, proof, compressed coinbase, commitment, difficulty).
    let mut valid = Vec::new();
    for v in &vectors {
        let (h, p, cc) = (
            bytes(&v["btc_header"]),
            bytes(&v["merkle_proof"]),
            bytes(&v["compressed_coinbase"]),
        );
        let hfmm = B256::from_slice(&bytes(&v["hash_for_merged_mining"]));
        let expected = match v["fork_detection"].as_str().unwrap() {
            "none" => Commitment::Full(hfmm),
            _ => Commitment::Rskip110 {
                prefix: hfmm[..20].try_into().unwrap(),
                block_number: v["rsk_block_number"].as_u64().unwrap(),
            },
        };
        let difficulty: U256 = v["difficulty"].as_str().unwrap().parse().unwrap();
        let mm = MergeMiningProof {
            btc_header: &h,
            merkle_proof: &p,
            compressed_coinbase: &cc,
        };
        if verify(&mm, expected, difficulty).is_ok() {
            valid.push((h, p, cc, expected, difficulty));
        }
    }
    assert!(!valid.is_empty());
    let mut g = c.benchmark_group("merge_mining");
    g.throughput(Throughput::Elements(valid.len() as u64));
    g.bench_function(format!("verify {} mainnet proofs", valid.len()), |b| {
        b.iter(|| {
            for (h, p, cc, e, d) in &valid {
                let mm = MergeMiningProof {
                    btc_header: h,
                    merkle_proof: p,
                    compressed_coinbase: cc,
                };
                verify(&mm, *e, *d).unwrap();
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
