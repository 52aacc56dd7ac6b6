//! eth_call and eth_estimateGas: run a transaction on a state without keeping its changes.

use crate::block::invalid_tx_message;
use crate::{cfg_env, BlockParams, ExecError};
use alloy_primitives::{Address, Bytes, U256};
use revm::context::result::{EVMError, ExecutionResult};
use revm::context::{Context, TxEnv};
use revm::database::CacheDB;
use revm::database_interface::DatabaseRef;
use revm::handler::{ExecuteEvm, MainBuilder, MainContext};
use revm::inspector::{InspectEvm, Inspector};
use revm::interpreter::interpreter_types::Jumps;
use revm::interpreter::{
    CallInputs, CallOutcome as InterpCallOutcome, InstructionResult, Interpreter,
};
use revm::primitives::AddressSet;

/// Ethereum's per-transaction gas cap since Osaka (EIP-7825): what estimates may not exceed.
pub const TX_GAS_CAP: u64 = 1 << 24;

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    /// Returned normally.
    Success {
        /// Return data.
        output: Bytes,
        /// Gas used.
        gas_used: u64,
    },
    /// Reverted with data.
    Revert {
        /// Revert data.
        output: Bytes,
        /// Gas used.
        gas_used: u64,
    },
    /// Halted (out of gas, invalid opcode, …).
    Halt {
        /// Why.
        reason: String,
        /// Gas used.
        gas_used: u64,
    },
}

impl CallOutcome {
    /// Gas used in every case.
    pub fn gas_used(&self) -> u64 {
        match self {
            Self::Success { gas_used, .. }
            | Self::Revert { gas_used, .. }
            | Self::Halt { gas_used, .. } => *gas_used,
        }
    }
}

/// Runs `tx` on `db` under `params` and returns how it ended. Nonce checks are off, and with a
/// zero gas price the base-fee check is off too, as geth does for eth_call.
pub fn call<DB>(
    db: &DB,
    env: &crate::ExecEnv,
    params: &BlockParams,
    tx: TxEnv,
    for_estimate: bool,
) -> Result<CallOutcome, ExecError>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
{
    let (cfg, block) = call_env(env, params, &tx, for_estimate);
    let mut evm = Context::mainnet()
        .with_db(CacheDB::new(db))
        .with_block(block)
        .with_cfg(cfg)
        .build_mainnet()
        .with_precompiles(env.precompiles());
    outcome(evm.transact(tx).map(|r| r.result))
}

/// Work units a [`call_bounded`] may spend: one per instruction, [`STATE_ACCESS_COST`] per
/// instruction that may read the database or start a frame.
pub const CALL_BUDGET: u64 = 20_000;

/// What an instruction that may read the database (or start a frame) counts against the budget.
pub const STATE_ACCESS_COST: u64 = 50;

/// Like [`call`], but gives up (returns `None`) once the call has done [`CALL_BUDGET`] work or
/// calls a precompile other than ecrecover, sha256, ripemd160 and identity. The RPC server runs
/// calls this way on its async workers and moves only the ones that give up to the blocking
/// pool, which runs them again from the start with [`call`]: the budget never changes a result,
/// because a call either finishes within it untouched or is run again whole.
pub fn call_bounded<DB>(
    db: &DB,
    env: &crate::ExecEnv,
    params: &BlockParams,
    tx: TxEnv,
) -> Result<Option<CallOutcome>, ExecError>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
{
    let (cfg, block) = call_env(env, params, &tx, false);
    let precompiles = env.precompiles();
    let budget = Budget {
        precompiles: precompiles.addresses().clone(),
        left: CALL_BUDGET,
        exceeded: false,
    };
    let mut evm = Context::mainnet()
        .with_db(CacheDB::new(db))
        .with_block(block)
        .with_cfg(cfg)
        .build_mainnet_with_inspector(budget)
        .with_precompiles(precompiles);
    let result = evm.inspect_tx(tx).map(|r| r.result);
    if evm.inspector.exceeded {
        return Ok(None);
    }
    outcome(result).map(Some)
}

/// The configuration and block of a call: no nonce or chain id check, no base fee at price 0.
fn call_env(
    env: &crate::ExecEnv,
    params: &BlockParams,
    tx: &TxEnv,
    for_estimate: bool,
) -> (revm::context::CfgEnv, revm::context::BlockEnv) {
    let mut cfg = cfg_env(env.chain_id);
    cfg.disable_nonce_check = true;
    // A call is not a signed transaction: its chain id is not checked (as in geth).
    cfg.tx_chain_id_check = false;
    cfg.disable_base_fee = tx.gas_price == 0;
    if !for_estimate {
        // A call may use the whole block, like geth's eth_call gas cap.
        cfg.tx_gas_limit_cap = Some(u64::MAX);
    }
    let mut block = params.block_env();
    if tx.gas_price == 0 {
        block.basefee = 0;
    }
    (cfg, block)
}

fn outcome<E: std::fmt::Display>(
    result: Result<ExecutionResult, EVMError<E>>,
) -> Result<CallOutcome, ExecError> {
    let result = match result {
        Ok(r) => r,
        Err(EVMError::Transaction(e)) => {
            return Err(ExecError::InvalidTransaction {
                index: 0,
                reason: invalid_tx_message(&e),
            })
        }
        Err(e) => return Err(ExecError::Database(e.to_string())),
    };
    let gas_used = result.tx_gas_used();
    Ok(match result {
        ExecutionResult::Success { output, .. } => CallOutcome::Success {
            output: output.into_data(),
            gas_used,
        },
        ExecutionResult::Revert { output, .. } => CallOutcome::Revert { output, gas_used },
        ExecutionResult::Halt { reason, .. } => CallOutcome::Halt {
            reason: format!("{reason:?}"),
            gas_used,
        },
    })
}

/// Counts a bounded call's work; once it is spent, every frame halts at its next instruction.
struct Budget {
    precompiles: AddressSet,
    left: u64,
    exceeded: bool,
}

impl Budget {
    fn spend(&mut self, units: u64) {
        match self.left.checked_sub(units) {
            Some(left) => self.left = left,
            None => {
                self.left = 0;
                self.exceeded = true;
            }
        }
    }
}

impl<CTX> Inspector<CTX> for Budget {
    fn step(&mut self, interp: &mut Interpreter, _ctx: &mut CTX) {
        let units = match interp.bytecode.opcode() {
            // BALANCE, EXTCODESIZE, EXTCODECOPY, EXTCODEHASH, SLOAD, CREATE, CALL, CALLCODE,
            // DELEGATECALL, CREATE2, STATICCALL.
            0x31 | 0x3b | 0x3c | 0x3f | 0x54 | 0xf0 | 0xf1 | 0xf2 | 0xf4 | 0xf5 | 0xfa => {
                STATE_ACCESS_COST
            }
            _ => 1,
        };
        self.spend(units);
        if self.exceeded {
            interp.halt(InstructionResult::OutOfGas);
        }
    }

    fn call(&mut self, _ctx: &mut CTX, inputs: &mut CallInputs) -> Option<InterpCallOutcome> {
        let a = inputs.bytecode_address;
        let cheap = (1..=4).any(|n| a == Address::with_last_byte(n));
        if (self.precompiles.contains(&a) && !cheap) || self.exceeded {
            self.exceeded = true;
            return Some(InterpCallOutcome::new_oog(
                inputs.gas_limit,
                inputs.return_memory_offset.clone(),
                inputs.reservoir,
            ));
        }
        None
    }
}

/// The least gas limit with which `tx` succeeds, by binary search between the gas it used
/// and `cap`. A transaction that fails even at `cap` returns its failing outcome.
pub fn estimate_gas<DB>(
    db: &DB,
    env: &crate::ExecEnv,
    params: &BlockParams,
    mut tx: TxEnv,
    cap: u64,
) -> Result<Result<u64, CallOutcome>, ExecError>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
{
    let hi_limit = cap.min(params.gas_limit).min(TX_GAS_CAP);
    tx.gas_limit = hi_limit;
    let first = call(db, env, params, tx.clone(), true)?;
    let CallOutcome::Success { gas_used, .. } = first else {
        return Ok(Err(first));
    };
    // Refunds and the 63/64 rule mean the gas used may not be enough as a limit: search.
    let mut lo = gas_used.saturating_sub(1);
    let mut hi = hi_limit;
    // Most transactions succeed with a little headroom over the gas used; try that first.
    // Saturates: the limit is capped at `hi` anyway.
    let optimistic = gas_used.saturating_add(2_300).saturating_mul(64) / 63;
    if optimistic < hi {
        tx.gas_limit = optimistic;
        match call(db, env, params, tx.clone(), true) {
            Ok(CallOutcome::Success { .. }) => hi = optimistic,
            _ => lo = optimistic,
        }
    }
    while hi.saturating_sub(lo) > 1 {
        let mid = lo.midpoint(hi);
        tx.gas_limit = mid;
        match call(db, env, params, tx.clone(), true) {
            Ok(CallOutcome::Success { .. }) => hi = mid,
            // Too little gas shows up as a halt, a revert, or "intrinsic gas too low".
            Ok(_) | Err(ExecError::InvalidTransaction { .. }) => lo = mid,
            Err(e) => return Err(e),
        }
    }
    Ok(Ok(hi))
}

/// The balance-based ceiling geth applies to estimates: what `balance` can pay at `price`.
pub fn gas_allowance(balance: U256, value: U256, price: u128) -> u64 {
    // At price 0 there is no ceiling.
    let Some(avail) = balance.saturating_sub(value).checked_div(U256::from(price)) else {
        return u64::MAX;
    };
    u64::try_from(avail).unwrap_or(u64::MAX)
}
