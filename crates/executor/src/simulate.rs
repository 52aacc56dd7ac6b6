//! eth_simulateV1's engine: blocks of calls run in order on one state that carries over from
//! block to block, with account overrides applied before each block.

use crate::block::invalid_tx_message;
use crate::{cfg_env, BlockParams, ExecError};
use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_rpc_types_eth::state::{AccountOverride, StateOverride};
use revm::bytecode::Bytecode;
use revm::context::result::{EVMError, ExecutionResult};
use revm::context::{Context, TxEnv};
use revm::database::CacheDB;
use revm::database_interface::{Database, DatabaseRef};
use revm::handler::{ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};
use scion_types::KECCAK_EMPTY;

/// One simulated block: its environment, overrides, and calls.
#[derive(Debug, Clone)]
pub struct SimBlock {
    /// Block environment.
    pub params: BlockParams,
    /// Account overrides applied first (eth_simulateV1's `stateOverrides`).
    pub overrides: StateOverride,
    /// Calls, in order.
    pub calls: Vec<TxEnv>,
}

/// A call's outcome: executed, or refused as a transaction (only without validation).
pub type SimOutcome = Result<ExecutionResult, String>;

fn apply<DB>(db: &mut CacheDB<DB>, address: Address, o: AccountOverride) -> Result<(), ExecError>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
{
    let err = |e: DB::Error| ExecError::Database(e.to_string());
    let mut info = db.basic(address).map_err(err)?.unwrap_or_default();
    if let Some(b) = o.balance {
        info.balance = b;
    }
    if let Some(n) = o.nonce {
        info.nonce = n;
    }
    if let Some(code) = o.code {
        info.code_hash = if code.is_empty() {
            KECCAK_EMPTY
        } else {
            keccak256(&code)
        };
        info.code = Some(Bytecode::new_raw(code));
    }
    db.insert_account_info(address, info);
    let word = |(k, v): (B256, B256)| (U256::from_be_bytes(k.0), U256::from_be_bytes(v.0));
    if let Some(state) = o.state {
        db.replace_account_storage(address, state.into_iter().map(word).collect())
            .map_err(err)?;
    }
    for (slot, value) in o.state_diff.into_iter().flatten().map(word) {
        db.insert_account_storage(address, slot, value)
            .map_err(err)?;
    }
    Ok(())
}

/// Runs `blocks` on `db`. With `validation`, calls must be valid transactions (nonce, fees,
/// balance) and an invalid one fails the whole simulation; without it those checks are off.
pub fn simulate<DB>(
    db: DB,
    env: &crate::ExecEnv,
    blocks: Vec<SimBlock>,
    validation: bool,
) -> Result<Vec<Vec<SimOutcome>>, ExecError>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
{
    let mut cache = CacheDB::new(db);
    let mut out = Vec::with_capacity(blocks.len());
    for b in blocks {
        for (address, o) in b.overrides {
            apply(&mut cache, address, o)?;
        }
        let mut cfg = cfg_env(env.chain_id);
        if !validation {
            cfg.disable_nonce_check = true;
            cfg.disable_base_fee = true;
            cfg.tx_chain_id_check = false;
            cfg.tx_gas_limit_cap = Some(u64::MAX);
        }
        let mut evm = Context::mainnet()
            .with_db(cache)
            .with_block(b.params.block_env())
            .with_cfg(cfg)
            .build_mainnet()
            .with_precompiles(env.precompiles());
        let mut results = Vec::with_capacity(b.calls.len());
        for (index, tx) in b.calls.into_iter().enumerate() {
            match evm.transact(tx) {
                Ok(r) => {
                    evm.commit(r.state);
                    results.push(Ok(r.result));
                }
                Err(EVMError::Transaction(e)) if !validation => {
                    results.push(Err(invalid_tx_message(&e)))
                }
                Err(EVMError::Transaction(e)) => {
                    return Err(ExecError::InvalidTransaction {
                        index,
                        reason: invalid_tx_message(&e),
                    })
                }
                Err(e) => return Err(ExecError::Database(e.to_string())),
            }
        }
        cache = evm.ctx.journaled_state.database;
        out.push(results);
    }
    Ok(out)
}
