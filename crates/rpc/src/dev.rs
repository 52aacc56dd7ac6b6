//! Dev control methods, served only by a `--dev` node (elsewhere they are -32601): mining on
//! demand, snapshots, time, automine, direct account changes and impersonation, with the
//! hardhat_* aliases that Hardhat and viem's test client use.

use crate::eth::Quantity;
use crate::{error, DevState, RpcContext};
use alloy_primitives::{Address, Bytes, B256, U256, U64};
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;
use scion_chain::DevPatch;
use serde::Deserialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// evm_mine's parameter, as Hardhat and anvil take it: a timestamp, or `{timestamp, blocks}`
/// (either may be absent; other fields are ignored).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum MineOptions {
    /// The first block's timestamp and how many blocks to seal.
    Options {
        /// The first block's timestamp.
        timestamp: Option<Quantity>,
        /// How many blocks (1 when absent).
        blocks: Option<Quantity>,
    },
    /// The block's timestamp.
    Timestamp(Quantity),
}

/// evm_*, anvil_* and hardhat_* methods.
#[rpc(server)]
pub trait DevApi {
    /// Seals a block now (optionally at a timestamp).
    #[method(name = "evm_mine", blocking)]
    fn evm_mine(&self, options: Option<MineOptions>) -> RpcResult<String>;
    /// Seals `count` blocks `interval` seconds apart.
    #[method(name = "anvil_mine", aliases = ["hardhat_mine"], blocking)]
    fn anvil_mine(&self, count: Option<Quantity>, interval: Option<Quantity>) -> RpcResult<bool>;
    /// Saves the current head; returns an id for evm_revert.
    #[method(name = "evm_snapshot", aliases = ["anvil_snapshot"])]
    fn evm_snapshot(&self) -> RpcResult<U64>;
    /// Goes back to a snapshot (which is then used up, as are later ones).
    #[method(name = "evm_revert", aliases = ["anvil_revert"], blocking)]
    fn evm_revert(&self, id: Quantity) -> RpcResult<bool>;
    /// Moves the block clock forward; returns the total offset in seconds.
    #[method(name = "evm_increaseTime", aliases = ["anvil_increaseTime"])]
    fn evm_increase_time(&self, seconds: Quantity) -> RpcResult<i64>;
    /// Fixes the next block's timestamp.
    #[method(name = "evm_setNextBlockTimestamp", aliases = ["anvil_setNextBlockTimestamp"])]
    fn evm_set_next_block_timestamp(&self, timestamp: Quantity) -> RpcResult<()>;
    /// Turns sealing on new transactions on or off.
    #[method(name = "evm_setAutomine", aliases = ["anvil_setAutomine"])]
    fn evm_set_automine(&self, on: bool) -> RpcResult<()>;
    /// Sets an account's balance.
    #[method(name = "anvil_setBalance", aliases = ["hardhat_setBalance"], blocking)]
    fn set_balance(&self, address: Address, balance: U256) -> RpcResult<bool>;
    /// Sets an account's code.
    #[method(name = "anvil_setCode", aliases = ["hardhat_setCode"], blocking)]
    fn set_code(&self, address: Address, code: Bytes) -> RpcResult<bool>;
    /// Sets an account's nonce.
    #[method(name = "anvil_setNonce", aliases = ["hardhat_setNonce"], blocking)]
    fn set_nonce(&self, address: Address, nonce: Quantity) -> RpcResult<bool>;
    /// Sets a storage slot.
    #[method(name = "anvil_setStorageAt", aliases = ["hardhat_setStorageAt"], blocking)]
    fn set_storage_at(&self, address: Address, slot: U256, value: B256) -> RpcResult<bool>;
    /// Lets eth_sendTransaction send from an account without its key.
    #[method(name = "anvil_impersonateAccount", aliases = ["hardhat_impersonateAccount"])]
    fn impersonate(&self, address: Address) -> RpcResult<()>;
    /// Ends an impersonation.
    #[method(name = "anvil_stopImpersonatingAccount", aliases = ["hardhat_stopImpersonatingAccount"])]
    fn stop_impersonating(&self, address: Address) -> RpcResult<()>;
}

/// The dev namespace.
pub struct Dev(pub RpcContext);

impl Dev {
    fn state(&self) -> RpcResult<&Arc<DevState>> {
        self.0
            .dev
            .as_ref()
            .ok_or_else(|| error::server("dev methods need a --dev node"))
    }

    fn mine(&self, timestamp: Option<u64>) -> RpcResult<()> {
        self.0.chain.mine_block(timestamp).map_err(error::chain)?;
        Ok(())
    }

    /// Queues a change and seals it into a block at once, so reads see it right away.
    fn patch(&self, patch: DevPatch) -> RpcResult<bool> {
        self.0.chain.patch(patch);
        self.mine(None)?;
        Ok(true)
    }
}

impl DevApiServer for Dev {
    fn evm_mine(&self, options: Option<MineOptions>) -> RpcResult<String> {
        let (timestamp, blocks) = match options {
            None => (None, 1),
            Some(MineOptions::Timestamp(ts)) => (Some(ts.0), 1),
            Some(MineOptions::Options { timestamp, blocks }) => {
                (timestamp.map(|q| q.0), blocks.map_or(1, |q| q.0))
            }
        };
        for i in 0..blocks {
            self.mine(if i == 0 { timestamp } else { None })?;
        }
        Ok("0x0".into())
    }

    fn anvil_mine(&self, count: Option<Quantity>, interval: Option<Quantity>) -> RpcResult<bool> {
        let count = count.map(|c| c.0).unwrap_or(1);
        if count > 10_000 {
            return Err(error::invalid_params("count: at most 10000 blocks at once"));
        }
        for _ in 0..count {
            let ts = interval.map(|i| self.0.chain.head().timestamp + i.0.max(1));
            self.mine(ts)?;
        }
        Ok(true)
    }

    fn evm_snapshot(&self) -> RpcResult<U64> {
        let dev = self.state()?;
        let mut snaps = dev.snapshots.lock();
        let id = snaps.keys().next_back().map(|k| k + 1).unwrap_or(1);
        snaps.insert(id, self.0.chain.head().number);
        Ok(U64::from(id))
    }

    fn evm_revert(&self, id: Quantity) -> RpcResult<bool> {
        let dev = self.state()?;
        let number = {
            let mut snaps = dev.snapshots.lock();
            let Some(n) = snaps.get(&id.0).copied() else {
                return Ok(false);
            };
            // The snapshot and every later one are used up.
            snaps.retain(|k, _| *k < id.0);
            n
        };
        self.0.chain.rewind_to(number).map_err(error::chain)?;
        Ok(true)
    }

    fn evm_increase_time(&self, seconds: Quantity) -> RpcResult<i64> {
        let s =
            i64::try_from(seconds.0).map_err(|_| error::invalid_params("seconds: too large"))?;
        Ok(self.0.chain.increase_time(s))
    }

    fn evm_set_next_block_timestamp(&self, timestamp: Quantity) -> RpcResult<()> {
        self.0
            .chain
            .set_next_timestamp(timestamp.0)
            .map_err(error::chain)
    }

    fn evm_set_automine(&self, on: bool) -> RpcResult<()> {
        self.state()?.automine.store(on, Ordering::Relaxed);
        if on {
            self.0.new_tx.notify_one();
        }
        Ok(())
    }

    fn set_balance(&self, address: Address, balance: U256) -> RpcResult<bool> {
        self.patch(DevPatch {
            address,
            balance: Some(balance),
            ..Default::default()
        })
    }

    fn set_code(&self, address: Address, code: Bytes) -> RpcResult<bool> {
        self.patch(DevPatch {
            address,
            code: Some(code),
            ..Default::default()
        })
    }

    fn set_nonce(&self, address: Address, nonce: Quantity) -> RpcResult<bool> {
        self.patch(DevPatch {
            address,
            nonce: Some(nonce.0),
            ..Default::default()
        })
    }

    fn set_storage_at(&self, address: Address, slot: U256, value: B256) -> RpcResult<bool> {
        let storage = vec![(slot, U256::from_be_bytes(value.0))];
        self.patch(DevPatch {
            address,
            storage,
            ..Default::default()
        })
    }

    fn impersonate(&self, address: Address) -> RpcResult<()> {
        self.state()?.impersonated.lock().insert(address);
        Ok(())
    }

    fn stop_impersonating(&self, address: Address) -> RpcResult<()> {
        self.state()?.impersonated.lock().remove(&address);
        Ok(())
    }
}
