//! eth_sign, eth_signTransaction and eth_sendTransaction: transactions filled in as a wallet
//! would (nonce, gas, fees, chain id) and signed with the dev node's accounts, or sent from an
//! impersonated account without a signature check.

use crate::eth::{EthApiServer, Named, SUGGESTED_TIP};
use crate::{error, RpcContext};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, B256};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;

/// Signing with the dev accounts.
#[rpc(server, namespace = "eth")]
pub trait EthSignApi {
    /// EIP-191 signature by a dev account.
    #[method(name = "sign")]
    fn sign(&self, address: Address, message: Bytes) -> RpcResult<Bytes>;
    /// Fills and signs a transaction with a dev account; returns the raw transaction.
    #[method(name = "signTransaction", blocking)]
    fn sign_transaction(&self, request: Named<TransactionRequest>) -> RpcResult<Bytes>;
    /// Fills, signs with a dev account, and submits a transaction.
    #[method(name = "sendTransaction", blocking)]
    fn send_transaction(&self, request: Named<TransactionRequest>) -> RpcResult<B256>;
}

/// The signing methods over the shared context.
pub struct EthSign(pub RpcContext);

impl EthSign {
    fn eth(&self) -> crate::eth::Eth {
        crate::eth::Eth(self.0.clone())
    }

    fn impersonated(&self, address: Address) -> bool {
        self.0
            .dev
            .as_ref()
            .is_some_and(|d| d.impersonated.lock().contains(&address))
    }

    fn signer(&self, address: Address) -> RpcResult<&PrivateKeySigner> {
        self.0
            .dev_signers
            .iter()
            .find(|s| s.address() == address)
            .ok_or_else(|| {
                error::server(format!(
                    "unknown account {address}: the node holds only the dev accounts"
                ))
            })
    }

    /// Fills nonce, gas, fees and chain id as a wallet would, then signs with a dev key.
    fn fill_and_sign(&self, mut req: TransactionRequest) -> RpcResult<TxEnvelope> {
        let from = req
            .from
            .ok_or_else(|| error::invalid_params("from: missing"))?;
        // An impersonated account has no key: its transaction carries a placeholder signature
        // and the pool takes the sender as given.
        let signer = if self.impersonated(from) {
            None
        } else {
            Some(self.signer(from)?)
        };
        let chain = &self.0.chain;
        let chain_id = chain.chain_id();
        if let Some(id) = req.chain_id {
            if id != chain_id {
                return Err(error::server(format!(
                    "invalid chain id for signer: have {id} want {chain_id}"
                )));
            }
        }
        let nonce = match req.nonce {
            Some(n) => n,
            None => {
                let state = chain.state_nonce(from).map_err(error::chain)?;
                chain.pool().pending_nonce(from, state)
            }
        };
        req.nonce = Some(nonce);
        let gas = match req.gas {
            Some(g) => g,
            None => self
                .eth()
                .estimate_gas(Named(req.clone()), None)?
                .to::<u64>(),
        };
        let to = req.to.unwrap_or(TxKind::Create);
        let value = req.value.unwrap_or_default();
        let input = req.input.input().cloned().unwrap_or_default();
        let next_base = u128::from(chain.next_base_fee());
        let signed = |tx: &dyn SignableHash| -> RpcResult<alloy_primitives::Signature> {
            match signer {
                Some(k) => k.sign_hash_sync(&tx.hash()).map_err(error::internal),
                None => Ok(alloy_primitives::Signature::test_signature()),
            }
        };
        let env = match (req.gas_price, req.access_list.clone()) {
            (Some(gas_price), None) => {
                let tx = TxLegacy {
                    chain_id: Some(chain_id),
                    nonce,
                    gas_price,
                    gas_limit: gas,
                    to,
                    value,
                    input,
                };
                let sig = signed(&tx)?;
                TxEnvelope::from(tx.into_signed(sig))
            }
            (Some(gas_price), Some(access_list)) => {
                let tx = TxEip2930 {
                    chain_id,
                    nonce,
                    gas_price,
                    gas_limit: gas,
                    to,
                    value,
                    access_list,
                    input,
                };
                let sig = signed(&tx)?;
                TxEnvelope::from(tx.into_signed(sig))
            }
            (None, access_list) => {
                let tip = req
                    .max_priority_fee_per_gas
                    .unwrap_or(u128::from(SUGGESTED_TIP));
                let max_fee = req.max_fee_per_gas.unwrap_or(next_base * 2 + tip);
                let tx = TxEip1559 {
                    chain_id,
                    nonce,
                    gas_limit: gas,
                    max_fee_per_gas: max_fee,
                    max_priority_fee_per_gas: tip.min(max_fee),
                    to,
                    value,
                    access_list: access_list.unwrap_or_default(),
                    input,
                };
                let sig = signed(&tx)?;
                TxEnvelope::from(tx.into_signed(sig))
            }
        };
        Ok(env)
    }
}

/// A transaction's signing hash, whatever its type.
trait SignableHash {
    fn hash(&self) -> B256;
}

impl<T: SignableTransaction<alloy_primitives::Signature>> SignableHash for T {
    fn hash(&self) -> B256 {
        self.signature_hash()
    }
}

impl EthSignApiServer for EthSign {
    fn sign(&self, address: Address, message: Bytes) -> RpcResult<Bytes> {
        let sig = self
            .signer(address)?
            .sign_message_sync(&message)
            .map_err(error::internal)?;
        Ok(Bytes::from(sig.as_bytes().to_vec()))
    }

    fn sign_transaction(&self, Named(request): Named<TransactionRequest>) -> RpcResult<Bytes> {
        self.signer(request.from.unwrap_or_default())?;
        Ok(self.fill_and_sign(request)?.encoded_2718().into())
    }

    fn send_transaction(&self, Named(request): Named<TransactionRequest>) -> RpcResult<B256> {
        let from = request.from.unwrap_or_default();
        let tx = self.fill_and_sign(request)?;
        let hash = if self.impersonated(from) {
            self.0
                .chain
                .submit_impersonated(tx, from)
                .map_err(error::chain)?
        } else {
            self.0
                .chain
                .submit_raw(&tx.encoded_2718())
                .map_err(error::chain)?
        };
        Ok(hash)
    }
}
