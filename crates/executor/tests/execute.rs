//! Block execution on revm's in-memory database: fees, transaction types, build and import
//! modes, contract creation, calls and gas estimates.

use alloy_consensus::{
    ReceiptEnvelope, SignableTransaction, TxEip1559, TxEip2930, TxEip4844, TxEip7702, TxEnvelope,
    TxLegacy,
};
use alloy_eips::eip7702::Authorization;
use alloy_primitives::{address, Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use revm::context::TxEnv;
use revm::database::{CacheDB, EmptyDB};
use revm::state::AccountInfo;
use scion_executor::{
    call, estimate_gas, execute_block, BlockParams, CallOutcome, ExecEnv, ExecError, Mode,
};

const CHAIN_ID: u64 = 7773;
const GWEI: u128 = 1_000_000_000;
const MINER: Address = address!("00000000000000000000000000000000000000cc");

fn key(i: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::with_last_byte(i)).unwrap()
}

fn db(funded: &[Address]) -> CacheDB<EmptyDB> {
    let mut db = CacheDB::new(EmptyDB::default());
    for a in funded {
        db.insert_account_info(
            *a,
            AccountInfo {
                balance: U256::from(10u128.pow(21)),
                ..Default::default()
            },
        );
    }
    db
}

fn params() -> BlockParams {
    BlockParams {
        number: 1,
        timestamp: 1_700_000_000,
        beneficiary: MINER,
        gas_limit: 30_000_000,
        base_fee: GWEI as u64,
        prevrandao: B256::repeat_byte(7),
    }
}

fn sign<T: SignableTransaction<alloy_primitives::Signature>>(
    k: &PrivateKeySigner,
    tx: T,
) -> TxEnvelope
where
    TxEnvelope: From<alloy_consensus::Signed<T>>,
{
    let sig = k.sign_hash_sync(&tx.signature_hash()).unwrap();
    tx.into_signed(sig).into()
}

fn transfer_1559(k: &PrivateKeySigner, nonce: u64, to: Address, value: u64) -> TxEnvelope {
    sign(
        k,
        TxEip1559 {
            chain_id: CHAIN_ID,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 10 * GWEI,
            max_priority_fee_per_gas: 2 * GWEI,
            to: TxKind::Call(to),
            value: U256::from(value),
            ..Default::default()
        },
    )
}

#[test]
fn base_fee_and_tip_both_go_to_the_beneficiary() {
    let k = key(1);
    let to = Address::with_last_byte(0x42);
    let db = db(&[k.address()]);
    let tx = transfer_1559(&k, 0, to, 1_000);
    let out = execute_block(
        &db,
        &ExecEnv::dev().unwrap(),
        &params(),
        [(tx, k.address())],
        Mode::Import,
    )
    .unwrap();
    let paid = U256::from(21_000u128 * 3 * GWEI);
    assert_eq!(out.gas_used, 21_000);
    assert_eq!(out.fees, paid);
    let miner = out.changes.accounts[&MINER].info.as_ref().unwrap();
    assert_eq!(
        miner.balance, paid,
        "base fee (1 gwei) + tip (2 gwei) per gas, nothing burned"
    );
    let sender = out.changes.accounts[&k.address()].info.as_ref().unwrap();
    assert_eq!(
        sender.balance,
        U256::from(10u128.pow(21)) - paid - U256::from(1_000)
    );
    assert_eq!(sender.nonce, 1);
    assert_eq!(
        out.changes.accounts[&to].info.as_ref().unwrap().balance,
        U256::from(1_000)
    );
    assert!(out.receipts[0].status());
}

#[test]
fn every_supported_transaction_type_runs_and_blobs_do_not() {
    let k = key(2);
    let to = Address::with_last_byte(0x43);
    let db = db(&[k.address()]);
    let legacy_no_chain_id = sign(
        &k,
        TxLegacy {
            chain_id: None,
            nonce: 0,
            gas_price: 2 * GWEI,
            gas_limit: 21_000,
            to: TxKind::Call(to),
            value: U256::from(1),
            input: Bytes::new(),
        },
    );
    let legacy = sign(
        &k,
        TxLegacy {
            chain_id: Some(CHAIN_ID),
            nonce: 1,
            gas_price: 2 * GWEI,
            gas_limit: 21_000,
            to: TxKind::Call(to),
            value: U256::from(1),
            input: Bytes::new(),
        },
    );
    let access_list = sign(
        &k,
        TxEip2930 {
            chain_id: CHAIN_ID,
            nonce: 2,
            gas_price: 2 * GWEI,
            gas_limit: 30_000,
            to: TxKind::Call(to),
            value: U256::from(1),
            ..Default::default()
        },
    );
    let dynamic = transfer_1559(&k, 3, to, 1);
    // EIP-7702: the sender delegates its code to `to`.
    let auth = Authorization {
        chain_id: U256::from(CHAIN_ID),
        address: to,
        nonce: 5,
    };
    let auth_sig = k.sign_hash_sync(&auth.signature_hash()).unwrap();
    let set_code = sign(
        &k,
        TxEip7702 {
            chain_id: CHAIN_ID,
            nonce: 4,
            gas_limit: 60_000,
            max_fee_per_gas: 10 * GWEI,
            max_priority_fee_per_gas: GWEI,
            to,
            authorization_list: vec![auth.into_signed(auth_sig)],
            ..Default::default()
        },
    );
    let txs = [legacy_no_chain_id, legacy, access_list, dynamic, set_code];
    let input = txs.iter().cloned().map(|t| (t, k.address()));
    let out = execute_block(
        &db,
        &ExecEnv::dev().unwrap(),
        &params(),
        input,
        Mode::Import,
    )
    .unwrap();
    assert_eq!(out.receipts.len(), 5);
    assert!(out.receipts.iter().all(|r| r.status()));
    assert!(matches!(out.receipts[0], ReceiptEnvelope::Legacy(_)));
    assert!(matches!(out.receipts[2], ReceiptEnvelope::Eip2930(_)));
    assert!(matches!(out.receipts[3], ReceiptEnvelope::Eip1559(_)));
    assert!(matches!(out.receipts[4], ReceiptEnvelope::Eip7702(_)));
    let sender = out.changes.accounts[&k.address()].info.as_ref().unwrap();
    // The authorization bumped the nonce once more, and the sender now has delegation code.
    assert_eq!(sender.nonce, 6);
    let code = sender
        .new_code
        .as_ref()
        .expect("delegation designator stored");
    assert_eq!(&code[..3], &[0xef, 0x01, 0x00]);
    assert_eq!(&code[3..], to.as_slice());

    let blob = sign(
        &k,
        TxEip4844 {
            chain_id: CHAIN_ID,
            nonce: 5,
            gas_limit: 21_000,
            max_fee_per_gas: 10 * GWEI,
            ..Default::default()
        },
    );
    let err = execute_block(
        &db,
        &ExecEnv::dev().unwrap(),
        &params(),
        [(blob.clone(), k.address())],
        Mode::Import,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("transaction type not supported"),
        "{err}"
    );
    let out = execute_block(
        &db,
        &ExecEnv::dev().unwrap(),
        &params(),
        [(blob, k.address())],
        Mode::Build,
    )
    .unwrap();
    assert!(out.transactions.is_empty());
    assert_eq!(out.rejected[0].reason, "transaction type not supported");
}

#[test]
fn building_skips_what_importing_refuses() {
    let (a, poor) = (key(3), key(4));
    let to = Address::with_last_byte(0x44);
    let db = db(&[a.address()]);
    let txs = vec![
        (transfer_1559(&a, 0, to, 1), a.address()),
        (transfer_1559(&a, 5, to, 1), a.address()), // nonce gap
        (transfer_1559(&poor, 0, to, 1), poor.address()), // no funds
        (transfer_1559(&a, 1, to, 1), a.address()),
    ];
    let out = execute_block(
        &db,
        &ExecEnv::dev().unwrap(),
        &params(),
        txs.clone(),
        Mode::Build,
    )
    .unwrap();
    assert_eq!(out.transactions.len(), 2);
    let reasons: Vec<&str> = out.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert!(reasons[0].starts_with("nonce too high"), "{reasons:?}");
    assert!(
        reasons[1].starts_with("insufficient funds for gas * price + value"),
        "{reasons:?}"
    );
    match execute_block(&db, &ExecEnv::dev().unwrap(), &params(), txs, Mode::Import) {
        Err(ExecError::InvalidTransaction { index: 1, reason }) => {
            assert!(reason.starts_with("nonce too high"))
        }
        other => panic!("expected an invalid transaction, got {other:?}"),
    }
    // A transaction for another chain never runs.
    let mut other = TxEip1559 {
        chain_id: 1,
        gas_limit: 21_000,
        max_fee_per_gas: 10 * GWEI,
        ..Default::default()
    };
    other.to = TxKind::Call(to);
    let other = sign(&a, other);
    assert!(execute_block(
        &db,
        &ExecEnv::dev().unwrap(),
        &params(),
        [(other, a.address())],
        Mode::Import
    )
    .is_err());
}

/// Init code that stores 0x2a in slot 0 and returns runtime code `PUSH1 0 SLOAD ...`.
fn deploy_code() -> Bytes {
    // init: 602a600055 (SSTORE 0 42), 600b6011600039 (CODECOPY 11 bytes from offset 17),
    // 600b6000f3 (RETURN them); runtime: 60005460005260206000f3 (return slot 0).
    Bytes::from(
        alloy_primitives::hex::decode("602a600055600b6011600039600b6000f360005460005260206000f3")
            .unwrap(),
    )
}

#[test]
fn contract_creation_records_code_and_storage_and_calls_read_them() {
    let k = key(5);
    let mut db = db(&[k.address()]);
    let create = sign(
        &k,
        TxEip1559 {
            chain_id: CHAIN_ID,
            nonce: 0,
            gas_limit: 200_000,
            max_fee_per_gas: 10 * GWEI,
            max_priority_fee_per_gas: GWEI,
            to: TxKind::Create,
            input: deploy_code(),
            ..Default::default()
        },
    );
    let out = execute_block(
        &db,
        &ExecEnv::dev().unwrap(),
        &params(),
        [(create, k.address())],
        Mode::Import,
    )
    .unwrap();
    assert!(out.receipts[0].status());
    let contract = k.address().create(0);
    let change = &out.changes.accounts[&contract];
    assert!(change.wiped, "a new account starts with empty storage");
    assert_eq!(change.storage[&U256::ZERO], U256::from(42));
    let code = change.info.as_ref().unwrap().new_code.clone().unwrap();
    assert_eq!(
        code.as_ref(),
        alloy_primitives::hex::decode("60005460005260206000f3").unwrap()
    );

    // Put the contract in the database and call it.
    db.insert_account_info(
        contract,
        AccountInfo::from_bytecode(revm::bytecode::Bytecode::new_raw(code)),
    );
    db.insert_account_storage(contract, U256::ZERO, U256::from(42))
        .unwrap();
    let tx = TxEnv {
        caller: k.address(),
        kind: TxKind::Call(contract),
        gas_limit: 100_000,
        ..Default::default()
    };
    match call(&db, &ExecEnv::dev().unwrap(), &params(), tx.clone(), false).unwrap() {
        CallOutcome::Success { output, .. } => {
            assert_eq!(U256::from_be_slice(&output), U256::from(42))
        }
        other => panic!("{other:?}"),
    }
    let gas = estimate_gas(&db, &ExecEnv::dev().unwrap(), &params(), tx, u64::MAX)
        .unwrap()
        .unwrap();
    assert!(gas > 21_000 && gas < 30_000, "{gas}");
}

#[test]
fn estimates_are_exact_for_transfers_and_report_reverts() {
    let k = key(6);
    let db = db(&[k.address()]);
    let transfer = TxEnv {
        caller: k.address(),
        kind: TxKind::Call(Address::repeat_byte(0x42)),
        value: U256::from(5),
        ..Default::default()
    };
    assert_eq!(
        estimate_gas(&db, &ExecEnv::dev().unwrap(), &params(), transfer, u64::MAX)
            .unwrap()
            .unwrap(),
        21_000
    );
    // Init code that reverts with 4 bytes of data: PUSH4 0xdeadbeef PUSH1 0 MSTORE PUSH1 4 PUSH1 28 REVERT
    let reverting =
        Bytes::from(alloy_primitives::hex::decode("63deadbeef6000526004601cfd").unwrap());
    let tx = TxEnv {
        caller: k.address(),
        kind: TxKind::Create,
        data: reverting,
        ..Default::default()
    };
    match estimate_gas(&db, &ExecEnv::dev().unwrap(), &params(), tx, u64::MAX).unwrap() {
        Err(CallOutcome::Revert { output, .. }) => {
            assert_eq!(output.as_ref(), [0xde, 0xad, 0xbe, 0xef])
        }
        other => panic!("{other:?}"),
    }
}
