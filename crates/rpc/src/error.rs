//! Every error the RPC returns, mapped to a JSON-RPC code in one place.

use alloy_primitives::Bytes;
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned};
use scion_chain::ChainError;
use scion_executor::ExecError;
use scion_storage::StorageError;
use std::fmt::Display;

/// Invalid method parameters (-32602).
pub fn invalid_params(msg: impl Display) -> ErrorObjectOwned {
    ErrorObject::owned(-32602, msg.to_string(), None::<()>)
}

/// A server-side refusal with geth's wording (-32000).
pub fn server(msg: impl Display) -> ErrorObjectOwned {
    ErrorObject::owned(-32000, msg.to_string(), None::<()>)
}

/// An internal failure (-32603).
pub fn internal(msg: impl Display) -> ErrorObjectOwned {
    tracing::error!(error = %msg, "internal error");
    ErrorObject::owned(-32603, msg.to_string(), None::<()>)
}

/// A revert: code 3, `execution reverted[: reason]`, and the raw revert bytes as `data`.
pub fn revert(output: &Bytes) -> ErrorObjectOwned {
    let message = match revert_reason(output) {
        Some(reason) => format!("execution reverted: {reason}"),
        None => "execution reverted".to_string(),
    };
    ErrorObject::owned(3, message, Some(output.to_string()))
}

/// Decodes `Error(string)` and `Panic(uint256)` revert data.
pub fn revert_reason(output: &[u8]) -> Option<String> {
    let (selector, body) = (output.get(..4)?, output.get(4..)?);
    match selector {
        [0x08, 0xc3, 0x79, 0xa0] => {
            let len =
                usize::try_from(alloy_primitives::U256::from_be_slice(body.get(32..64)?)).ok()?;
            let bytes = body.get(64..64usize.checked_add(len)?)?;
            Some(String::from_utf8_lossy(bytes).into_owned())
        }
        [0x4e, 0x48, 0x7b, 0x71] => {
            let code = alloy_primitives::U256::from_be_slice(body.get(..32)?);
            Some(format!("panic: 0x{code:02x}"))
        }
        _ => None,
    }
}

/// A refused merged-mining submission (-33000), as Rootstock answers `mnr_` calls.
pub fn mining(msg: impl Display) -> ErrorObjectOwned {
    ErrorObject::owned(-33000, msg.to_string(), None::<()>)
}

/// True for a chain error that is the caller's (a transaction, block, solution or dev request
/// the chain refuses), false for a failure of our own.
fn refused(e: &ChainError) -> bool {
    match e {
        ChainError::Tx(_)
        | ChainError::Block(_)
        | ChainError::UnknownWork(_)
        | ChainError::TimestampNotAfterHead { .. } => true,
        ChainError::Storage(_)
        | ChainError::Exec(_)
        | ChainError::Types(_)
        | ChainError::Missing { .. }
        | ChainError::Restore { .. }
        | ChainError::Seal(_)
        | ChainError::DevImport { .. }
        | ChainError::Internal(_) => false,
    }
}

/// Chain errors: refusals keep their message (-32000, geth's words for transactions), failures
/// of our own are internal.
pub fn chain(e: ChainError) -> ErrorObjectOwned {
    match e {
        ChainError::Exec(e) => exec(e),
        e if refused(&e) => server(e),
        e => internal(e),
    }
}

/// Chain errors of an `mnr_` submission: a refused solution is -33000, failures of our own
/// are internal.
pub fn mining_chain(e: ChainError) -> ErrorObjectOwned {
    if refused(&e) {
        mining(e)
    } else {
        internal(e)
    }
}

/// Executor errors: an invalid transaction is the caller's problem, the rest is ours.
pub fn exec(e: ExecError) -> ErrorObjectOwned {
    match e {
        ExecError::InvalidTransaction { reason, .. } => server(reason),
        ExecError::Tx(e) => server(e),
        other => internal(other),
    }
}

/// Storage errors are always internal.
pub fn storage(e: StorageError) -> ErrorObjectOwned {
    internal(e)
}

/// A network error: a bad address is the caller's (invalid params), the rest our own.
pub fn p2p(e: scion_p2p::P2pError) -> ErrorObjectOwned {
    match e {
        scion_p2p::P2pError::BadAddress { .. } => invalid_params(e),
        _ => server(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revert_reasons_decode() {
        // Error("Ownable: caller is not the owner")
        let data = alloy_primitives::hex::decode(
            "08c379a0000000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000204f776e61626c653a2063616c6c6572206973206e6f7420746865206f776e6572",
        )
        .unwrap();
        assert_eq!(
            revert_reason(&data).as_deref(),
            Some("Ownable: caller is not the owner")
        );
        let e = revert(&Bytes::from(data.clone()));
        assert_eq!(e.code(), 3);
        assert_eq!(
            e.message(),
            "execution reverted: Ownable: caller is not the owner"
        );
        // A custom error keeps its raw bytes in data and a plain message.
        let custom = Bytes::from(vec![0xde, 0xad, 0xbe, 0xef, 1]);
        let e = revert(&custom);
        assert_eq!(e.message(), "execution reverted");
        assert_eq!(e.data().unwrap().get(), "\"0xdeadbeef01\"");
        // Truncated data does not panic.
        assert_eq!(revert_reason(&data[..40]), None);
    }

    #[test]
    fn refusals_keep_their_words_and_our_failures_are_internal() {
        use scion_chain::{InvalidBlock, TxRejected};
        let e = chain(TxRejected::NonceTooLow { next: 3, nonce: 1 }.into());
        assert_eq!(
            (e.code(), e.message()),
            (-32000, "nonce too low: next nonce 3, tx nonce 1")
        );
        let e = chain(ChainError::TimestampNotAfterHead {
            timestamp: 1,
            head: 5,
        });
        assert_eq!(e.code(), -32000);
        let missing = || ChainError::Missing {
            what: "sealed block",
            hash: Default::default(),
        };
        assert_eq!(chain(missing()).code(), -32603);
        let restore = ChainError::Restore {
            number: 3,
            reason: InvalidBlock::KnownInvalid,
        };
        assert_eq!(chain(restore).code(), -32603);
        // mnr_: a refused solution is -33000, our own failure still internal.
        let e = mining_chain(ChainError::UnknownWork(Default::default()));
        assert_eq!(e.code(), -33000);
        assert!(e.message().starts_with("no template for hash"));
        assert_eq!(
            mining_chain(InvalidBlock::KnownInvalid.into()).code(),
            -33000
        );
        assert_eq!(mining_chain(missing()).code(), -32603);
    }
}
