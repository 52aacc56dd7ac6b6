//! Block execution on revm's in-memory database, the ceiling the import benchmark is measured
//! against: 1,000 pre-signed EIP-1559 ETH transfers from 100 senders, and 1,000 calls to a
//! contract that updates the caller's storage slot (SLOAD + SSTORE, the shape of an ERC-20
//! transfer's balance update). Senders are recovered beforehand, as a node does on admission;
//! a second variant of each recovers them inside the measured loop, as an import must.

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use revm::database::{CacheDB, EmptyDB};
use revm::state::{AccountInfo, Bytecode};
use scion_executor::{execute_block, BlockParams, ExecEnv, Mode};

/// The node's allocator, so that the ceiling is what the node's executor could reach.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const GWEI: u128 = 1_000_000_000;

fn txs(to: Address, gas: u64, senders: &[PrivateKeySigner]) -> Vec<(TxEnvelope, Address)> {
    let mut out = Vec::new();
    for nonce in 0..10u64 {
        for k in senders {
            let tx = TxEip1559 {
                chain_id: 7773,
                nonce,
                gas_limit: gas,
                max_fee_per_gas: 10 * GWEI,
                max_priority_fee_per_gas: GWEI,
                to: TxKind::Call(to),
                value: U256::from(1),
                input: Bytes::new(),
                ..Default::default()
            };
            let sig = k.sign_hash_sync(&tx.signature_hash()).unwrap();
            out.push((tx.into_signed(sig).into(), k.address()));
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let env = ExecEnv::dev().unwrap();
    let senders: Vec<PrivateKeySigner> = (1..=100u8)
        .map(|i| PrivateKeySigner::from_bytes(&B256::with_last_byte(i)).unwrap())
        .collect();
    let mut db = CacheDB::new(EmptyDB::default());
    for k in &senders {
        db.insert_account_info(
            k.address(),
            AccountInfo {
                balance: U256::from(10u128.pow(22)),
                ..Default::default()
            },
        );
    }
    // CALLER SLOAD PUSH1 1 ADD CALLER SSTORE STOP
    let counter = Address::repeat_byte(0xc0);
    let code = Bytecode::new_raw(Bytes::from_static(&[
        0x33, 0x54, 0x60, 0x01, 0x01, 0x33, 0x55, 0x00,
    ]));
    db.insert_account_info(
        counter,
        AccountInfo {
            code_hash: code.hash_slow(),
            code: Some(code),
            ..Default::default()
        },
    );
    let params = BlockParams {
        number: 1,
        timestamp: 1_700_000_000,
        beneficiary: Address::repeat_byte(0xcc),
        gas_limit: 100_000_000,
        base_fee: GWEI as u64,
        prevrandao: B256::ZERO,
    };
    let mut g = c.benchmark_group("execute_block");
    for (name, to, gas) in [
        ("1000 ETH transfers", Address::repeat_byte(0xaa), 21_000),
        ("1000 storage-writing calls", counter, 60_000),
    ] {
        let block = txs(to, gas, &senders);
        let used = execute_block(&db, &env, &params, block.clone(), Mode::Import)
            .unwrap()
            .gas_used;
        g.throughput(Throughput::Elements(used));
        g.bench_function(format!("{name} ({used} gas)"), |b| {
            b.iter(|| execute_block(&db, &env, &params, block.clone(), Mode::Import).unwrap())
        });
        // The same block as it arrives signed: every sender recovered (libsecp256k1, one thread)
        // before execution. Import must do this work too; the ceiling above leaves it out.
        let signed: Vec<TxEnvelope> = block.iter().map(|(tx, _)| tx.clone()).collect();
        g.bench_function(format!("{name} ({used} gas), senders recovered"), |b| {
            b.iter(|| {
                let recovered: Vec<(TxEnvelope, Address)> = signed
                    .iter()
                    .map(|tx| (tx.clone(), tx.recover_signer().unwrap()))
                    .collect();
                execute_block(&db, &env, &params, recovered, Mode::Import).unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
