//! Re-running a transaction with an inspector attached, for tracing: the block's earlier
//! transactions first, exactly as the block ran them (fees included), then the traced one.

use crate::block::{credit, invalid_tx_message};
use crate::{cfg_env, tx_env, BlockParams, ExecError};
use alloy_consensus::TxEnvelope;
use alloy_primitives::Address;
use revm::context::result::{EVMError, ResultAndState};
use revm::context::{Context, ContextTr, TxEnv};
use revm::database::CacheDB;
use revm::database_interface::DatabaseRef;
use revm::handler::{ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext, MainnetContext};
use revm::inspector::{InspectEvm, Inspector};

/// The traced transaction's result, the inspector that watched it, and the state before it.
pub struct Traced<DB: DatabaseRef, I> {
    /// Result and state changes of the traced transaction (not committed).
    pub result: ResultAndState,
    /// The inspector, holding what it recorded.
    pub inspector: I,
    /// The state just before the traced transaction.
    pub db: CacheDB<DB>,
}

fn map_err<E: std::fmt::Display>(e: EVMError<E>) -> ExecError {
    match e {
        EVMError::Transaction(t) => ExecError::InvalidTransaction {
            index: 0,
            reason: invalid_tx_message(&t),
        },
        other => ExecError::Database(other.to_string()),
    }
}

/// Runs `prior` on `db` under `params`, then `target` (with the signed transaction it came from,
/// if any) with `inspector` attached. With `call`, `target` is a call (eth_call rules: no nonce
/// or chain id check, no base fee at price 0).
pub fn trace<DB, I>(
    db: DB,
    env: &crate::ExecEnv,
    params: &BlockParams,
    prior: impl IntoIterator<Item = (TxEnvelope, Address)>,
    target: (TxEnv, Option<TxEnvelope>),
    call: bool,
    inspector: I,
) -> Result<Traced<DB, I>, ExecError>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
    I: Inspector<MainnetContext<CacheDB<DB>>>,
{
    let mut cfg = cfg_env(env.chain_id);
    let mut block = params.block_env();
    if call {
        cfg.disable_nonce_check = true;
        cfg.tx_chain_id_check = false;
        cfg.tx_gas_limit_cap = Some(u64::MAX);
        if target.0.gas_price == 0 {
            cfg.disable_base_fee = true;
            block.basefee = 0;
        }
    }
    let mut evm = Context::mainnet()
        .with_db(CacheDB::new(db))
        .with_block(block)
        .with_cfg(cfg)
        .build_mainnet_with_inspector(inspector)
        .with_precompiles(env.precompiles());
    for (tx, sender) in prior {
        let env = tx_env(&tx, sender)?;
        evm.precompiles.set_tx(Some(tx));
        let mut r = evm.transact(env).map_err(map_err)?;
        let fee = crate::gas_cost(u128::from(params.base_fee), r.result.tx_gas_used());
        credit(&mut r.state, evm.ctx.db_mut(), params.beneficiary, fee)?;
        evm.commit(r.state);
    }
    let (target, signed) = target;
    evm.precompiles.set_tx(signed);
    let result = evm.inspect_tx(target).map_err(map_err)?;
    let revm::context::Evm { ctx, inspector, .. } = evm;
    Ok(Traced {
        result,
        inspector,
        db: ctx.journaled_state.database,
    })
}
