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

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{Signed, TxEip1559, TxLegacy};
    use alloy_primitives::{Bytes, Signature, TxKind, U256};

    #[test]
    fn block_rlp_round_trip_with_typed_and_legacy_transactions() {
        let legacy = TxLegacy {
            nonce: 1,
            gas_price: 7,
            gas_limit: 21_000,
            to: TxKind::Create,
            input: Bytes::from_static(b"code"),
            ..Default::default()
        };
        let dynamic = TxEip1559 {
            chain_id: 7773,
            nonce: 2,
            gas_limit: 50_000,
            max_fee_per_gas: 9,
            max_priority_fee_per_gas: 1,
            value: U256::from(5),
            ..Default::default()
        };
        let sig = Signature::test_signature();
        let block = Block {
            header: Header {
                number: 3,
                btc_header: Bytes::from(vec![1u8; crate::BTC_HEADER_LEN]),
                ..Default::default()
            },
            transactions: vec![
                TxEnvelope::Legacy(Signed::new_unhashed(legacy, sig)),
                TxEnvelope::Eip1559(Signed::new_unhashed(dynamic, sig)),
            ],
            uncles: vec![Header {
                number: 2,
                ..Default::default()
            }],
        };
        let enc = block.rlp();
        let back = Block::decode_rlp(&enc).unwrap();
        assert_eq!(back, block);
        assert_eq!(back.hash(), block.header.hash());
        assert!(Block::decode_rlp(&enc[..enc.len() - 1]).is_err());
    }
}
