//! The precompile set: Ethereum's at the current spec plus the Bridge.

use alloy_consensus::TxEnvelope;
use revm::context::Cfg;
use revm::context_interface::{Block, ContextTr, JournalTr, Transaction};
use revm::handler::{precompile_output_to_interpreter_result, EthPrecompiles, PrecompileProvider};
use revm::interpreter::{CallInputs, InterpreterResult};
use revm::precompile::{PrecompileHalt, PrecompileOutput};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, AddressSet, Log, LogData, B256, U256};
use scion_bridge::{BridgeError, Outcome, BRIDGE_ADDRESS};
use std::sync::Arc;

/// Ethereum's precompiles and the Bridge.
#[derive(Debug, Clone)]
pub struct ScionPrecompiles {
    eth: EthPrecompiles,
    warm: AddressSet,
    bridge: Arc<scion_bridge::Config>,
    /// The signed transaction running, if any: the Bridge reads its hash and signer.
    tx: Option<TxEnvelope>,
}

impl ScionPrecompiles {
    /// Every precompile's address (the Bridge's included).
    pub fn addresses(&self) -> &AddressSet {
        &self.warm
    }

    /// Sets the signed transaction about to run (`None` for calls, which have no signature).
    pub fn set_tx(&mut self, tx: Option<TxEnvelope>) {
        self.tx = tx;
    }

    /// The set for `spec` with the Bridge configured by `bridge`.
    pub fn new(spec: SpecId, bridge: Arc<scion_bridge::Config>) -> Self {
        let eth = EthPrecompiles::new(spec);
        let mut warm = eth.warm_addresses().clone();
        warm.insert(BRIDGE_ADDRESS);
        Self {
            eth,
            warm,
            bridge,
            tx: None,
        }
    }
}

/// The Bridge's view of the EVM: its own account's storage and balance, logs, block data.
struct RevmHost<'a, CTX> {
    ctx: &'a mut CTX,
    number: u64,
    timestamp: u64,
    origin: Address,
    tx: Option<&'a TxEnvelope>,
}

fn db_err(e: impl std::fmt::Display) -> BridgeError {
    BridgeError::Database(e.to_string())
}

impl<CTX: ContextTr> scion_bridge::Host for RevmHost<'_, CTX> {
    fn sload(&mut self, slot: U256) -> Result<U256, BridgeError> {
        Ok(self
            .ctx
            .journal_mut()
            .sload(BRIDGE_ADDRESS, slot)
            .map_err(db_err)?
            .data)
    }

    fn sstore(&mut self, slot: U256, value: U256) -> Result<(), BridgeError> {
        self.ctx
            .journal_mut()
            .sstore(BRIDGE_ADDRESS, slot, value)
            .map_err(db_err)?;
        Ok(())
    }

    fn pay(&mut self, to: Address, wei: U256) -> Result<(), BridgeError> {
        let j = self.ctx.journal_mut();
        j.load_account(to).map_err(db_err)?;
        match j.transfer(BRIDGE_ADDRESS, to, wei).map_err(db_err)? {
            None => Ok(()),
            Some(e) => Err(BridgeError::Database(format!(
                "Bridge cannot pay {wei} wei to {to}: {e:?}"
            ))),
        }
    }

    fn log(&mut self, data: LogData) {
        self.ctx.journal_mut().log(Log {
            address: BRIDGE_ADDRESS,
            data,
        });
    }

    fn block_number(&self) -> u64 {
        self.number
    }

    fn timestamp(&self) -> u64 {
        self.timestamp
    }

    fn tx_hash(&self) -> B256 {
        self.tx.map(|t| *t.tx_hash()).unwrap_or_default()
    }

    fn tx_origin(&self) -> Address {
        self.origin
    }

    fn tx_signer(&mut self) -> Option<[u8; 33]> {
        let tx = self.tx?;
        let key = tx
            .signature()
            .recover_from_prehash(&tx.signature_hash())
            .ok()?;
        key.to_encoded_point(true).as_bytes().try_into().ok()
    }
}

impl<CTX> PrecompileProvider<CTX> for ScionPrecompiles
where
    CTX: ContextTr<Cfg: Cfg<Spec = SpecId>>,
{
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: <CTX::Cfg as Cfg>::Spec) -> bool {
        let changed = <EthPrecompiles as PrecompileProvider<CTX>>::set_spec(&mut self.eth, spec);
        self.warm.clone_from(self.eth.warm_addresses());
        self.warm.insert(BRIDGE_ADDRESS);
        changed
    }

    fn run(
        &mut self,
        context: &mut CTX,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        if inputs.bytecode_address != BRIDGE_ADDRESS {
            return <EthPrecompiles as PrecompileProvider<CTX>>::run(
                &mut self.eth,
                context,
                inputs,
            );
        }
        let input = inputs.input.bytes(context);
        let out = if inputs.target_address != BRIDGE_ADDRESS {
            // DELEGATECALL / CALLCODE would run the Bridge in another account's context.
            PrecompileOutput::revert(
                0,
                alloy_sol_types_revert("Bridge: must be called directly"),
                inputs.reservoir,
            )
        } else {
            let block = context.block();
            let number = u64::try_from(block.number()).unwrap_or(u64::MAX);
            let timestamp = u64::try_from(block.timestamp()).unwrap_or(u64::MAX);
            let origin = context.tx().caller();
            let mut host = RevmHost {
                ctx: context,
                number,
                timestamp,
                origin,
                tx: self.tx.as_ref(),
            };
            let call = scion_bridge::Call {
                caller: inputs.caller,
                value: inputs.value.get(),
                input: &input,
                gas_limit: inputs.gas_limit,
                is_static: inputs.is_static,
            };
            match scion_bridge::execute(&self.bridge, &mut host, call).map_err(|e| e.to_string())? {
                Outcome::Success { gas, output } => {
                    PrecompileOutput::new(gas, output, inputs.reservoir)
                }
                Outcome::Revert { gas, output } => {
                    PrecompileOutput::revert(gas, output, inputs.reservoir)
                }
                Outcome::OutOfGas => {
                    PrecompileOutput::halt(PrecompileHalt::OutOfGas, inputs.reservoir)
                }
            }
        };
        Ok(Some(precompile_output_to_interpreter_result(
            out,
            inputs.gas_limit,
        )))
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }

    fn contains(&self, address: &Address) -> bool {
        *address == BRIDGE_ADDRESS || self.eth.contains(address)
    }
}

fn alloy_sol_types_revert(msg: &str) -> revm::primitives::Bytes {
    use alloy_sol_types::SolError;
    alloy_sol_types::Revert::from(msg).abi_encode().into()
}
