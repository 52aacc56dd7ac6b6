//! eth_call's bounded fast path: a call that fits the budget gives exactly what an unbounded
//! call gives (gas left included), and one that does not fit gives up instead of answering.

use alloy_primitives::{hex, keccak256, Address, Bytes, TxKind, B256, U256};
use revm::context::TxEnv;
use revm::database::{CacheDB, EmptyDB};
use revm::state::{AccountInfo, Bytecode};
use scion_executor::{call, call_bounded, BlockParams, CallOutcome, ExecEnv};

fn params() -> BlockParams {
    BlockParams {
        number: 1,
        timestamp: 1_700_000_000,
        beneficiary: Address::repeat_byte(0xcc),
        gas_limit: 30_000_000,
        base_fee: 1_000_000_000,
        prevrandao: B256::repeat_byte(7),
    }
}

/// A loop of `n` rounds (6 instructions each), then returns gasleft().
fn looping(n: u16) -> String {
    format!("61{n:04x}5b600190038060035760005a60005260206000f3")
}

/// STATICCALLs `to` with all gas and returns the success flag.
fn calling(to: u8) -> String {
    format!("602060006000600060{to:02x}5afa60005260206000f3")
}

fn db() -> CacheDB<EmptyDB> {
    let mut db = CacheDB::new(EmptyDB::default());
    let contracts = [
        // gasleft() and slot 0.
        (0xa0, "5a60005260005460205260406000f3".to_string()),
        (0xb1, looping(100)),
        (0xb2, looping(10_000)),
        (0xc4, calling(0x04)),
        (0xc5, calling(0x05)),
        (0xd0, calling(0xb2)),
    ];
    for (a, code) in contracts {
        let code = Bytes::from(hex::decode(code).unwrap());
        db.insert_account_info(
            Address::with_last_byte(a),
            AccountInfo {
                code_hash: keccak256(&code),
                code: Some(Bytecode::new_raw(code)),
                ..Default::default()
            },
        );
    }
    db.insert_account_storage(Address::with_last_byte(0xa0), U256::ZERO, U256::from(42))
        .unwrap();
    db
}

fn tx(to: u8) -> TxEnv {
    TxEnv {
        caller: Address::repeat_byte(0x11),
        kind: TxKind::Call(Address::with_last_byte(to)),
        gas_limit: 1_000_000,
        ..Default::default()
    }
}

#[test]
fn calls_within_the_budget_answer_exactly_as_unbounded_calls() {
    let (db, env) = (db(), ExecEnv::dev().unwrap());
    for to in [0xa0, 0xb1, 0xc4] {
        let full = call(&db, &env, &params(), tx(to), false).unwrap();
        let bounded = call_bounded(&db, &env, &params(), tx(to)).unwrap();
        assert_eq!(bounded.as_ref(), Some(&full), "contract {to:#x}");
        assert!(matches!(full, CallOutcome::Success { .. }), "{full:?}");
    }
    let CallOutcome::Success { output, .. } = call(&db, &env, &params(), tx(0xa0), false).unwrap()
    else {
        unreachable!()
    };
    assert_eq!(U256::from_be_slice(&output[32..]), U256::from(42));
    assert!(U256::from_be_slice(&output[..32]) > U256::from(900_000));
}

#[test]
fn calls_beyond_the_budget_or_into_costly_precompiles_give_up_instead_of_answering() {
    let (db, env) = (db(), ExecEnv::dev().unwrap());
    // A long loop, modexp, and a caller that would see its callee run out of budget and carry
    // on: none of them may return a result shaped by the budget.
    for to in [0xb2, 0xc5, 0xd0] {
        assert_eq!(
            call_bounded(&db, &env, &params(), tx(to)).unwrap(),
            None,
            "contract {to:#x}"
        );
        let full = call(&db, &env, &params(), tx(to), false).unwrap();
        assert!(matches!(full, CallOutcome::Success { .. }), "{full:?}");
    }
    // Unbounded, the caller sees its callee succeed.
    let CallOutcome::Success { output, .. } = call(&db, &env, &params(), tx(0xd0), false).unwrap()
    else {
        unreachable!()
    };
    assert_eq!(U256::from_be_slice(&output), U256::from(1));
}
