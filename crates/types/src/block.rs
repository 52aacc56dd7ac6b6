//! A block: header, transactions in EIP-2718 form, and uncle headers.

use crate::Header;
use alloy_consensus::TxEnvelope;
use alloy_primitives::B256;
use alloy_rlp::{RlpDecodable, RlpEncodable};

/// A Scion block. RLP: `[header, [tx…], [uncle…]]`, transactions as in Ethereum block bodies.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// Transactions, in execution order.
    pub transactions: Vec<TxEnvelope>,
    /// Uncle headers (empty until merge-mining adds uncles).
    pub uncles: Vec<Header>,
}

impl Block {
    /// The block hash.
    pub fn hash(&self) -> B256 {
        self.header.hash()
    }

    /// The full RLP encoding.
    pub fn rlp(&self) -> Vec<u8> {
        alloy_rlp::encode(self)
    }

    /// Decodes a block from its RLP encoding, rejecting trailing bytes.
    pub fn decode_rlp(mut bytes: &[u8]) -> Result<Self, crate::TypesError> {
        let block = <Self as alloy_rlp::Decodable>::decode(&mut bytes).map_err(|source| {
            crate::TypesError::Rlp {
                what: "block",
                source,
            }
        })?;
        if !bytes.is_empty() {
            return Err(crate::TypesError::Rlp {
                what: "block",
                source: alloy_rlp::Error::UnexpectedLength,
            });
        }
        Ok(block)
    }
}
