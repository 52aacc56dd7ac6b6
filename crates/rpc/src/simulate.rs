//! eth_simulateV1: blocks of calls on top of a block's state, with block and state overrides.
//! The simulated blocks are not stored; their state root is not computed (zero), their
//! transactions are unsigned calls and so are not listed.

use crate::convert::{rpc_block, RpcBlock};
use crate::eth::{Eth, Named};
use crate::{error, RpcContext};
use alloy_eips::BlockId;
use alloy_primitives::{Bytes, U256};
use alloy_rpc_types_eth::simulate::{
    SimCallResult, SimulateError, SimulatePayload, SimulatedBlock,
};
use alloy_rpc_types_eth::Log;
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;
use revm::context::result::ExecutionResult;
use scion_executor::{simulate, SimBlock};
use scion_types::{Block, Header};

/// Most blocks one eth_simulateV1 may simulate (geth's bound).
pub const MAX_SIM_BLOCKS: usize = 256;
/// Seconds between simulated blocks when no time is given (geth's default).
const SIM_SPACING: u64 = 12;

/// eth_simulateV1.
#[rpc(server, namespace = "eth")]
pub trait EthSimulateApi {
    /// Simulates blocks of calls on top of `block`.
    #[method(name = "simulateV1", blocking)]
    fn simulate_v1(
        &self,
        payload: Named<SimulatePayload>,
        block: Option<BlockId>,
    ) -> RpcResult<Vec<SimulatedBlock<RpcBlock>>>;
}

/// The simulate method.
pub struct EthSimulate(pub RpcContext);

impl EthSimulateApiServer for EthSimulate {
    fn simulate_v1(
        &self,
        Named(payload): Named<SimulatePayload>,
        block: Option<BlockId>,
    ) -> RpcResult<Vec<SimulatedBlock<RpcBlock>>> {
        if payload.block_state_calls.len() > MAX_SIM_BLOCKS {
            return Err(error::invalid_params(format!(
                "at most {MAX_SIM_BLOCKS} blocks may be simulated"
            )));
        }
        let eth = Eth(self.0.clone());
        let base = eth.resolve(block)?;
        let mut blocks = Vec::new();
        let mut headers = Vec::new();
        let mut prev = base.clone();
        for (i, sb) in payload.block_state_calls.iter().enumerate() {
            let o = sb.block_overrides.clone().unwrap_or_default();
            let number = o.number.map(|n| n.to::<u64>()).unwrap_or(prev.number + 1);
            if number <= prev.number {
                return Err(error::invalid_params(format!(
                    "block {i}: number {number} does not follow {}",
                    prev.number
                )));
            }
            let timestamp = o.time.unwrap_or(prev.timestamp + SIM_SPACING);
            let header = Header {
                parent_hash: prev.hash(),
                number,
                timestamp,
                gas_limit: o.gas_limit.unwrap_or(prev.gas_limit),
                beneficiary: o.coinbase.unwrap_or(prev.beneficiary),
                base_fee_per_gas: o
                    .base_fee
                    .map(|b| b.saturating_to::<u64>())
                    .unwrap_or(base.base_fee_per_gas),
                mix_hash: o.random.unwrap_or(prev.hash()),
                difficulty: prev.difficulty,
                ..Default::default()
            };
            let mut calls = Vec::with_capacity(sb.calls.len());
            for c in &sb.calls {
                calls.push(eth.call_env(c, header.gas_limit)?);
            }
            blocks.push(SimBlock {
                params: Eth::call_params(&header),
                overrides: sb.state_overrides.clone().unwrap_or_default(),
                calls,
            });
            prev = header.clone();
            headers.push(header);
        }
        let state = self
            .0
            .chain
            .store()
            .state_at(base.number)
            .map_err(error::storage)?;
        let results = simulate(state, self.0.chain.exec(), blocks, payload.validation)
            .map_err(error::exec)?;
        let mut out = Vec::with_capacity(results.len());
        for (mut header, results) in headers.into_iter().zip(results) {
            let mut calls = Vec::with_capacity(results.len());
            let mut log_index = 0u64;
            for (tx_index, r) in results.into_iter().enumerate() {
                calls.push(match r {
                    Ok(result) => {
                        let gas_used = result.tx_gas_used();
                        header.gas_used += gas_used;
                        let (return_data, error) = match &result {
                            ExecutionResult::Success { output, .. } => {
                                (output.data().clone(), None)
                            }
                            ExecutionResult::Revert { output, .. } => {
                                let e = error::revert(output);
                                (
                                    output.clone(),
                                    Some(SimulateError {
                                        code: 3,
                                        message: e.message().to_string(),
                                        data: Some(output.clone()),
                                    }),
                                )
                            }
                            ExecutionResult::Halt { reason, .. } => (
                                Bytes::new(),
                                Some(SimulateError {
                                    code: -32015,
                                    message: format!("execution halted: {reason:?}"),
                                    data: None,
                                }),
                            ),
                        };
                        let logs = result
                            .logs()
                            .iter()
                            .map(|l| {
                                log_index += 1;
                                Log {
                                    inner: l.clone(),
                                    block_number: Some(header.number),
                                    block_timestamp: Some(header.timestamp),
                                    transaction_index: Some(tx_index as u64),
                                    log_index: Some(log_index - 1),
                                    ..Default::default()
                                }
                            })
                            .collect();
                        SimCallResult {
                            return_data,
                            logs,
                            gas_used,
                            max_used_gas: None,
                            status: error.is_none(),
                            error,
                        }
                    }
                    Err(reason) => SimCallResult {
                        return_data: Bytes::new(),
                        logs: vec![],
                        gas_used: 0,
                        max_used_gas: None,
                        status: false,
                        error: Some(SimulateError {
                            code: -32000,
                            message: reason,
                            data: None,
                        }),
                    },
                });
            }
            let block = Block {
                header,
                transactions: vec![],
                uncles: vec![],
            };
            out.push(SimulatedBlock {
                inner: rpc_block(block, &[], false, U256::ZERO),
                calls,
            });
        }
        Ok(out)
    }
}
