//! Executing a block's transactions: receipts, logs bloom, fees and state changes.

use crate::{cfg_env, tx_env, BlockParams, ExecError};
use alloy_consensus::{
    Eip658Value, Receipt, ReceiptEnvelope, ReceiptWithBloom, Transaction, TxEnvelope,
};
use alloy_primitives::{Address, Bloom, U256};
use revm::context::result::{EVMError, ExecResultAndState, InvalidTransaction};
use revm::context::{Context, ContextTr};
use revm::database::CacheDB;
use revm::database_interface::{Database, DatabaseRef};
use revm::handler::{ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};
use revm::state::{Account, EvmState};
use scion_types::{AccountChange, AccountInfo, StateChanges};

/// How strict to be with transactions that cannot run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Building a block: skip such transactions and report them.
    Build,
    /// Importing a block: any such transaction makes the block invalid.
    Import,
}

/// A transaction left out of a block being built, and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// The transaction.
    pub tx: TxEnvelope,
    /// Its sender.
    pub sender: Address,
    /// Why it was left out.
    pub reason: String,
    /// True when it may fit a later block (it did not fit the gas left); false when invalid.
    pub retry: bool,
}

/// What executing a block produced.
#[derive(Debug, Default)]
pub struct BlockOutcome {
    /// Transactions included, in order.
    pub transactions: Vec<TxEnvelope>,
    /// Their senders.
    pub senders: Vec<Address>,
    /// One receipt per included transaction.
    pub receipts: Vec<ReceiptEnvelope>,
    /// All state changes, fees to the beneficiary included.
    pub changes: StateChanges,
    /// Gas used by the block.
    pub gas_used: u64,
    /// Bloom of every log.
    pub logs_bloom: Bloom,
    /// Fees paid to the beneficiary (base fee and tips), in wei.
    pub fees: U256,
    /// Transactions left out (build mode only).
    pub rejected: Vec<Rejected>,
}

/// Executes `txs` in order on the state `db` under `params`.
pub fn execute_block<DB>(
    db: DB,
    env: &crate::ExecEnv,
    params: &BlockParams,
    txs: impl IntoIterator<Item = (TxEnvelope, Address)>,
    mode: Mode,
) -> Result<BlockOutcome, ExecError>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
{
    let mut evm = Context::mainnet()
        .with_db(CacheDB::new(db))
        .with_block(params.block_env())
        .with_cfg(cfg_env(env.chain_id))
        .build_mainnet()
        .with_precompiles(env.precompiles());
    let mut out = BlockOutcome::default();
    for (tx, sender) in txs {
        let index = out.transactions.len();
        let reject = |out: &mut BlockOutcome, reason: String, retry: bool| {
            if mode == Mode::Import {
                return Err(ExecError::InvalidTransaction { index, reason });
            }
            out.rejected.push(Rejected {
                tx: tx.clone(),
                sender,
                reason,
                retry,
            });
            Ok(())
        };
        if tx.gas_limit() > params.gas_limit.saturating_sub(out.gas_used) {
            reject(&mut out, "exceeds block gas limit".into(), true)?;
            continue;
        }
        let env = match tx_env(&tx, sender) {
            Ok(env) => env,
            Err(e) => {
                reject(&mut out, e.to_string(), false)?;
                continue;
            }
        };
        evm.precompiles.set_tx(Some(tx.clone()));
        let ExecResultAndState { result, mut state } = match evm.transact(env) {
            Ok(r) => r,
            Err(EVMError::Transaction(e)) => {
                // A fee below this block's base fee may fit a later, cheaper block.
                let retry = matches!(e, InvalidTransaction::GasPriceLessThanBasefee);
                reject(&mut out, invalid_tx_message(&e), retry)?;
                continue;
            }
            Err(e) => return Err(ExecError::Database(e.to_string())),
        };
        let gas_used = result.tx_gas_used();
        // Fees are never burned: the base fee goes to the beneficiary with the tip.
        let base_fee_part = crate::gas_cost(u128::from(params.base_fee), gas_used);
        credit(
            &mut state,
            evm.ctx.db_mut(),
            params.beneficiary,
            base_fee_part,
        )?;
        let price = tx.effective_gas_price(Some(params.base_fee));
        let overflow = |reason: &str| ExecError::InvalidTransaction {
            index,
            reason: reason.into(),
        };
        out.fees = out
            .fees
            .checked_add(crate::gas_cost(price, gas_used))
            .ok_or_else(|| overflow("the block's fees overflow a U256"))?;
        // At most the block's gas limit (checked above), so this cannot fail either.
        out.gas_used = out
            .gas_used
            .checked_add(gas_used)
            .ok_or_else(|| overflow("the block's gas used overflows a u64"))?;
        merge(&mut out.changes, &state);
        evm.commit(state);

        let receipt = Receipt {
            status: Eip658Value::Eip658(result.is_success()),
            cumulative_gas_used: out.gas_used,
            logs: result.into_logs(),
        };
        let with_bloom: ReceiptWithBloom = receipt.into();
        out.logs_bloom.accrue_bloom(&with_bloom.logs_bloom);
        out.receipts
            .push(ReceiptEnvelope::from_typed(tx.tx_type(), with_bloom));
        out.transactions.push(tx);
        out.senders.push(sender);
    }
    Ok(out)
}

/// Adds `amount` to the beneficiary in a transaction's state (loading it if untouched).
pub(crate) fn credit<DB: Database>(
    state: &mut EvmState,
    db: &mut DB,
    beneficiary: Address,
    amount: U256,
) -> Result<(), ExecError>
where
    DB::Error: std::fmt::Display,
{
    if amount.is_zero() {
        return Ok(());
    }
    if let Some(acc) = state.get_mut(&beneficiary) {
        acc.info.balance = acc.info.balance.saturating_add(amount);
        acc.mark_touch();
        return Ok(());
    }
    let info = db
        .basic(beneficiary)
        .map_err(|e| ExecError::Database(e.to_string()))?;
    let mut acc = Account::from(info.unwrap_or_default());
    acc.info.balance = acc.info.balance.saturating_add(amount);
    acc.mark_touch();
    state.insert(beneficiary, acc);
    Ok(())
}

/// Folds one transaction's state into the block's changes.
fn merge(changes: &mut StateChanges, state: &EvmState) {
    for (addr, acc) in state {
        if !acc.is_touched() {
            continue;
        }
        let entry = changes.accounts.entry(*addr).or_default();
        if acc.is_selfdestructed() || acc.is_empty() {
            // Destroyed, or touched and empty (EIP-161): gone, storage and all.
            *entry = AccountChange {
                info: None,
                wiped: true,
                storage: Default::default(),
            };
            continue;
        }
        if acc.is_created() {
            entry.wiped = true;
            entry.storage.clear();
        }
        let new_code = if acc.info.code_hash != acc.original_info().code_hash {
            acc.info.code.as_ref().map(|c| c.original_bytes())
        } else {
            entry.info.as_ref().and_then(|i| i.new_code.clone())
        };
        entry.info = Some(AccountInfo {
            nonce: acc.info.nonce,
            balance: acc.info.balance,
            code_hash: acc.info.code_hash,
            new_code,
        });
        for (slot, value) in &acc.storage {
            if value.is_changed() {
                entry.storage.insert(*slot, value.present_value);
            }
        }
    }
}

/// geth's wording for a transaction that cannot run, which wallets and libraries match on.
pub fn invalid_tx_message(e: &InvalidTransaction) -> String {
    use InvalidTransaction as I;
    match e {
        I::NonceTooLow { tx, state } => format!("nonce too low: next nonce {state}, tx nonce {tx}"),
        I::NonceTooHigh { tx, state } => {
            format!("nonce too high: next nonce {state}, tx nonce {tx}")
        }
        I::LackOfFundForMaxFee { fee, balance } => {
            format!("insufficient funds for gas * price + value: have {balance} want {fee}")
        }
        I::GasPriceLessThanBasefee => "max fee per gas less than block base fee".into(),
        I::CallerGasLimitMoreThanBlock => "exceeds block gas limit".into(),
        I::CallGasCostMoreThanGasLimit { .. } | I::GasFloorMoreThanGasLimit { .. } => {
            "intrinsic gas too low".into()
        }
        I::InvalidChainId | I::MissingChainId => "invalid chain id for signer".into(),
        I::PriorityFeeGreaterThanMaxFee => {
            "max priority fee per gas higher than max fee per gas".into()
        }
        I::RejectCallerWithCode => "sender not an eoa".into(),
        other => other.to_string(),
    }
}
