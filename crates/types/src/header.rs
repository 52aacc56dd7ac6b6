//! The Scion block header: Ethereum's London-style fields plus Rootstock's three merged-mining
//! fields, and the two hashes PROTOCOL.md §1.1 defines over them.

use alloy_primitives::{keccak256, Address, Bloom, Bytes, B256, U256};
use alloy_rlp::{Decodable, Encodable};

/// Length of a Bitcoin block header.
pub const BTC_HEADER_LEN: usize = 80;

/// A Scion block header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    /// Hash of the parent block.
    pub parent_hash: B256,
    /// Hash of the RLP list of uncle headers.
    pub ommers_hash: B256,
    /// Receives the block's fees (base fee and tips; nothing is burned).
    pub beneficiary: Address,
    /// Ethereum Merkle-Patricia root of the state after the block.
    pub state_root: B256,
    /// Root of the trie of the block's transactions.
    pub transactions_root: B256,
    /// Root of the trie of the block's receipts.
    pub receipts_root: B256,
    /// Bloom filter of the block's logs.
    pub logs_bloom: Bloom,
    /// Merge-mining difficulty of this block.
    pub difficulty: U256,
    /// Height.
    pub number: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// Gas used by the block's transactions.
    pub gas_used: u64,
    /// Unix time in seconds.
    pub timestamp: u64,
    /// Up to 32 bytes of producer data.
    pub extra_data: Bytes,
    /// The value the EVM sees as PREVRANDAO.
    pub mix_hash: B256,
    /// EIP-1559 base fee per gas, in wei.
    pub base_fee_per_gas: u64,
    /// The 80-byte Bitcoin header whose proof of work seals this block.
    pub btc_header: Bytes,
    /// RSKIP92 coinbase inclusion proof: sibling hashes bottom to top, display order.
    pub merkle_proof: Bytes,
    /// The Bitcoin coinbase as SHA-256 midstate ‖ tail (PROTOCOL.md §1.3).
    pub compressed_coinbase: Bytes,
}

/// Which merged-mining fields an encoding carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MmFields {
    /// None: the hash for merged mining.
    None,
    /// The Bitcoin header only: the block hash.
    BtcHeader,
    /// All three: the stored and transmitted form.
    All,
}

impl Header {
    fn fields_len(&self, mm: MmFields) -> usize {
        let mut n = self.parent_hash.length()
            + self.ommers_hash.length()
            + self.beneficiary.length()
            + self.state_root.length()
            + self.transactions_root.length()
            + self.receipts_root.length()
            + self.logs_bloom.length()
            + self.difficulty.length()
            + self.number.length()
            + self.gas_limit.length()
            + self.gas_used.length()
            + self.timestamp.length()
            + self.extra_data.length()
            + self.mix_hash.length()
            + self.base_fee_per_gas.length();
        if mm != MmFields::None {
            n += self.btc_header.length();
        }
        if mm == MmFields::All {
            n += self.merkle_proof.length() + self.compressed_coinbase.length();
        }
        n
    }

    fn encode_with(&self, mm: MmFields, out: &mut dyn alloy_rlp::BufMut) {
        alloy_rlp::Header {
            list: true,
            payload_length: self.fields_len(mm),
        }
        .encode(out);
        self.parent_hash.encode(out);
        self.ommers_hash.encode(out);
        self.beneficiary.encode(out);
        self.state_root.encode(out);
        self.transactions_root.encode(out);
        self.receipts_root.encode(out);
        self.logs_bloom.encode(out);
        self.difficulty.encode(out);
        self.number.encode(out);
        self.gas_limit.encode(out);
        self.gas_used.encode(out);
        self.timestamp.encode(out);
        self.extra_data.encode(out);
        self.mix_hash.encode(out);
        self.base_fee_per_gas.encode(out);
        if mm != MmFields::None {
            self.btc_header.encode(out);
        }
        if mm == MmFields::All {
            self.merkle_proof.encode(out);
            self.compressed_coinbase.encode(out);
        }
    }

    fn rlp_with(&self, mm: MmFields) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.fields_len(mm) + 4);
        self.encode_with(mm, &mut out);
        out
    }

    /// Block hash: keccak256 of the RLP of every field except the merkle proof and the
    /// compressed coinbase (RSKIP92).
    pub fn hash(&self) -> B256 {
        keccak256(self.rlp_with(MmFields::BtcHeader))
    }

    /// Hash for merged mining: keccak256 of the RLP without the three merged-mining fields.
    pub fn hash_for_merged_mining(&self) -> B256 {
        keccak256(self.rlp_with(MmFields::None))
    }

    /// The full RLP encoding, merged-mining fields included.
    pub fn rlp(&self) -> Vec<u8> {
        self.rlp_with(MmFields::All)
    }

    /// Decodes the full RLP encoding.
    pub fn decode_rlp(mut bytes: &[u8]) -> Result<Self, crate::TypesError> {
        let h = Self::decode(&mut bytes).map_err(|source| crate::TypesError::Rlp {
            what: "header",
            source,
        })?;
        if !bytes.is_empty() {
            return Err(crate::TypesError::Rlp {
                what: "header",
                source: alloy_rlp::Error::UnexpectedLength,
            });
        }
        Ok(h)
    }
}

impl Encodable for Header {
    fn encode(&self, out: &mut dyn alloy_rlp::BufMut) {
        self.encode_with(MmFields::All, out)
    }

    fn length(&self) -> usize {
        let payload_length = self.fields_len(MmFields::All);
        payload_length + alloy_rlp::length_of_length(payload_length)
    }
}

impl Decodable for Header {
    fn decode(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        let rlp_head = alloy_rlp::Header::decode(buf)?;
        if !rlp_head.list {
            return Err(alloy_rlp::Error::UnexpectedString);
        }
        if buf.len() < rlp_head.payload_length {
            return Err(alloy_rlp::Error::InputTooShort);
        }
        let (mut payload, rest) = buf.split_at(rlp_head.payload_length);
        let b = &mut payload;
        let header = Header {
            parent_hash: Decodable::decode(b)?,
            ommers_hash: Decodable::decode(b)?,
            beneficiary: Decodable::decode(b)?,
            state_root: Decodable::decode(b)?,
            transactions_root: Decodable::decode(b)?,
            receipts_root: Decodable::decode(b)?,
            logs_bloom: Decodable::decode(b)?,
            difficulty: Decodable::decode(b)?,
            number: Decodable::decode(b)?,
            gas_limit: Decodable::decode(b)?,
            gas_used: Decodable::decode(b)?,
            timestamp: Decodable::decode(b)?,
            extra_data: Decodable::decode(b)?,
            mix_hash: Decodable::decode(b)?,
            base_fee_per_gas: Decodable::decode(b)?,
            btc_header: Decodable::decode(b)?,
            merkle_proof: Decodable::decode(b)?,
            compressed_coinbase: Decodable::decode(b)?,
        };
        if !payload.is_empty() {
            return Err(alloy_rlp::Error::ListLengthMismatch {
                expected: rlp_head.payload_length,
                got: rlp_head.payload_length - payload.len(),
            });
        }
        *buf = rest;
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            parent_hash: B256::repeat_byte(1),
            beneficiary: Address::repeat_byte(2),
            difficulty: U256::from(1000u64),
            number: 42,
            gas_limit: 30_000_000,
            gas_used: 21_000,
            timestamp: 1_700_000_000,
            extra_data: Bytes::from_static(b"scion"),
            base_fee_per_gas: 875_000_000,
            btc_header: Bytes::from(vec![7u8; BTC_HEADER_LEN]),
            merkle_proof: Bytes::from(vec![9u8; 64]),
            compressed_coinbase: Bytes::from(vec![3u8; 100]),
            ..Default::default()
        }
    }

    #[test]
    fn rlp_round_trip() {
        let h = sample();
        let enc = h.rlp();
        assert_eq!(enc.len(), h.length());
        assert_eq!(Header::decode_rlp(&enc).unwrap(), h);
    }

    #[test]
    fn trailing_or_truncated_bytes_are_rejected() {
        let mut enc = sample().rlp();
        enc.push(0);
        assert!(Header::decode_rlp(&enc).is_err());
        enc.truncate(enc.len() - 2);
        assert!(Header::decode_rlp(&enc).is_err());
        assert!(Header::decode_rlp(&[0xc0]).is_err());
    }

    #[test]
    fn hashes_commit_to_the_right_fields() {
        let h = sample();
        // Proof and coinbase do not change either hash (RSKIP92) ...
        let mut other = h.clone();
        other.merkle_proof = Bytes::new();
        other.compressed_coinbase = Bytes::from_static(b"x");
        assert_eq!(other.hash(), h.hash());
        assert_eq!(other.hash_for_merged_mining(), h.hash_for_merged_mining());
        // ... the Bitcoin header changes the block hash but not the hash for merged mining ...
        other.btc_header = Bytes::from(vec![8u8; BTC_HEADER_LEN]);
        assert_ne!(other.hash(), h.hash());
        assert_eq!(other.hash_for_merged_mining(), h.hash_for_merged_mining());
        // ... and any Ethereum field changes both.
        other.gas_used += 1;
        assert_ne!(other.hash_for_merged_mining(), h.hash_for_merged_mining());
        assert_ne!(h.hash(), h.hash_for_merged_mining());
    }
}
