//! Compact stored forms of receipts, accounts and transaction locations. They keep out of the
//! database what can be recomputed: a receipt's bloom (from its logs), and the empty storage
//! root and empty code hash that most accounts carry (66 of an account's ~80 RLP bytes).

use crate::StorageError;
use alloy_consensus::{Eip658Value, Receipt, ReceiptEnvelope, TxReceipt, TxType};
use alloy_primitives::{Log, B256, U256};
use alloy_rlp::{Decodable, Header, RlpDecodable, RlpEncodable};
use scion_types::{Account, EMPTY_ROOT, KECCAK_EMPTY};

/// A receipt as stored: its transaction type and the receipt without its bloom.
#[derive(RlpEncodable, RlpDecodable)]
struct StoredReceipt {
    tx_type: u8,
    status: Eip658Value,
    cumulative_gas_used: u64,
    logs: Vec<Log>,
}

/// A block's receipts, stored without blooms.
pub(crate) fn encode_receipts(receipts: &[ReceiptEnvelope]) -> Vec<u8> {
    let stored: Vec<StoredReceipt> = receipts
        .iter()
        .map(|r| StoredReceipt {
            tx_type: r.tx_type() as u8,
            status: r.status_or_post_state(),
            cumulative_gas_used: r.cumulative_gas_used(),
            logs: r.logs().to_vec(),
        })
        .collect();
    alloy_rlp::encode(&stored)
}

/// A block's receipts back from their stored form, blooms recomputed from the logs.
pub(crate) fn decode_receipts(mut raw: &[u8]) -> Result<Vec<ReceiptEnvelope>, String> {
    let stored = Vec::<StoredReceipt>::decode(&mut raw).map_err(|e| e.to_string())?;
    stored
        .into_iter()
        .map(|s| {
            let tx_type = TxType::try_from(s.tx_type).map_err(|e| e.to_string())?;
            let receipt = Receipt {
                status: s.status,
                cumulative_gas_used: s.cumulative_gas_used,
                logs: s.logs,
            };
            Ok(ReceiptEnvelope::from_typed(tx_type, receipt.with_bloom()))
        })
        .collect()
}

/// The last 66 bytes of the RLP of an account with no storage and no code.
fn empty_tail() -> [u8; 66] {
    let mut t = [0u8; 66];
    t[0] = 0xa0;
    t[1..33].copy_from_slice(EMPTY_ROOT.as_slice());
    t[33] = 0xa0;
    t[34..].copy_from_slice(KECCAK_EMPTY.as_slice());
    t
}

/// When `rlp` is a list ending in an empty storage root and the empty code hash (an account
/// with no storage and no code), its payload without those two: nonce and balance. The
/// result never starts with a list byte (0xc0 and above), so it cannot be taken for RLP.
pub(crate) fn strip_empty_account(rlp: &[u8]) -> Option<&[u8]> {
    let mut buf = rlp;
    let header = Header::decode(&mut buf).ok()?;
    if !header.list || buf.len() != header.payload_length {
        return None;
    }
    // alloy-rlp refuses a non-canonical header, so restoring gives back exactly `rlp`.
    let short = buf.strip_suffix(empty_tail().as_slice())?;
    short.first().is_some_and(|&b| b < 0xc0).then_some(short)
}

/// Rebuilds the account RLP [`strip_empty_account`] shortened.
pub(crate) fn restore_empty_account(short: &[u8]) -> Vec<u8> {
    let tail = empty_tail();
    let mut out = Vec::with_capacity(short.len() + tail.len() + 3);
    Header {
        list: true,
        payload_length: short.len() + tail.len(),
    }
    .encode(&mut out);
    out.extend_from_slice(short);
    out.extend_from_slice(&tail);
    out
}

/// An account's RLP in the stored (history) form: shortened when it has no storage and no code.
pub(crate) fn pack_account(rlp: &[u8]) -> Vec<u8> {
    strip_empty_account(rlp).unwrap_or(rlp).to_vec()
}

/// The account in [`pack_account`]'s form; `None` for an empty value (a deleted account).
pub(crate) fn decode_account(stored: &[u8]) -> alloy_rlp::Result<Option<Account>> {
    let mut buf = stored;
    let account = match stored.first() {
        None => return Ok(None),
        Some(&b) if b < 0xc0 => Account {
            nonce: u64::decode(&mut buf)?,
            balance: U256::decode(&mut buf)?,
            ..Account::default()
        },
        Some(_) => Account::decode(&mut buf)?,
    };
    if !buf.is_empty() {
        return Err(alloy_rlp::Error::UnexpectedLength);
    }
    Ok(Some(account))
}

/// A canonical transaction's place: block number (u64 BE) ‖ index in block (u32 BE).
pub(crate) fn encode_tx_location(number: u64, index: usize) -> [u8; 12] {
    let mut out = [0u8; 12];
    out[..8].copy_from_slice(&number.to_be_bytes());
    out[8..].copy_from_slice(&(index as u32).to_be_bytes());
    out
}

/// Block number and index from [`encode_tx_location`]'s bytes.
pub(crate) fn decode_tx_location(v: &[u8], tx: B256) -> Result<(u64, u64), StorageError> {
    let (n, i) = (v.get(..8), v.get(8..12));
    match (n, i, v.len()) {
        (Some(n), Some(i), 12) => {
            let mut nb = [0u8; 8];
            nb.copy_from_slice(n);
            let mut ib = [0u8; 4];
            ib.copy_from_slice(i);
            Ok((u64::from_be_bytes(nb), u64::from(u32::from_be_bytes(ib))))
        }
        _ => Err(StorageError::Corrupt(format!("tx lookup of {tx}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::ReceiptWithBloom;
    use alloy_primitives::{address, b256, bytes, LogData};

    #[test]
    fn receipts_come_back_with_the_bloom_of_their_logs() {
        let log = Log {
            address: address!("00000000000000000000000000000000000000aa"),
            data: LogData::new_unchecked(
                vec![b256!(
                    "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
                )],
                bytes!("0102"),
            ),
        };
        let with_logs = Receipt {
            status: Eip658Value::Eip658(true),
            cumulative_gas_used: 51_000,
            logs: vec![log],
        };
        let failed = Receipt {
            status: Eip658Value::Eip658(false),
            cumulative_gas_used: 72_000,
            logs: vec![],
        };
        let post_state = Receipt {
            status: Eip658Value::PostState(B256::repeat_byte(7)),
            cumulative_gas_used: 93_000,
            logs: vec![],
        };
        let receipts = vec![
            ReceiptEnvelope::Eip1559(ReceiptWithBloom::from(with_logs.clone())),
            ReceiptEnvelope::Legacy(ReceiptWithBloom::from(failed)),
            ReceiptEnvelope::Eip2930(ReceiptWithBloom::from(post_state)),
        ];
        let raw = encode_receipts(&receipts);
        assert!(raw.len() < 256, "no bloom stored: {} bytes", raw.len());
        let back = decode_receipts(&raw).unwrap();
        assert_eq!(back, receipts);
        assert_eq!(back[0].bloom(), with_logs.bloom_slow());
        assert_ne!(with_logs.bloom_slow(), alloy_primitives::Bloom::ZERO);
        assert!(decode_receipts(&raw[..raw.len() - 1]).is_err());
    }

    #[test]
    fn accounts_without_storage_or_code_are_stored_short_and_come_back_whole() {
        let eoa = Account {
            nonce: 3,
            balance: U256::from(10u64).pow(U256::from(21u64)),
            ..Default::default()
        };
        let rlp = eoa.rlp();
        let packed = pack_account(&rlp);
        assert!(packed.len() < 16, "{} bytes", packed.len());
        assert_eq!(
            restore_empty_account(strip_empty_account(&rlp).unwrap()),
            rlp
        );
        assert_eq!(decode_account(&packed).unwrap(), Some(eoa));
        assert!(decode_account(&packed[..packed.len() - 1]).is_err());
        assert!(decode_account(&[packed.as_slice(), &[1]].concat()).is_err());

        let contract = Account {
            code_hash: B256::repeat_byte(1),
            ..eoa
        };
        let rlp = contract.rlp();
        assert_eq!(pack_account(&rlp), rlp);
        assert_eq!(decode_account(&rlp).unwrap(), Some(contract));
        let zero = Account::default();
        assert_eq!(
            decode_account(&pack_account(&zero.rlp())).unwrap(),
            Some(zero)
        );
        assert_eq!(decode_account(&[]).unwrap(), None);
    }

    #[test]
    fn tx_locations_round_trip_and_reject_other_lengths() {
        let tx = B256::repeat_byte(9);
        let v = encode_tx_location(1 << 40, 70_000);
        assert_eq!(decode_tx_location(&v, tx).unwrap(), (1 << 40, 70_000));
        assert!(decode_tx_location(&v[..11], tx).is_err());
        assert!(decode_tx_location(&[0u8; 40], tx).is_err());
    }
}
