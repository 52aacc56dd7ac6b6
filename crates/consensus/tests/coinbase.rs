//! Property tests of the compressed coinbase (PROTOCOL.md §1.3): compressing any coinbase that
//! carries `RSKBLOCK:` keeps its txid (resuming SHA-256 from the midstate gives the double
//! SHA-256 of the whole coinbase) and its commitment, cuts at the 64-byte block that holds the
//! tag, and the result passes the merged-mining check for a Bitcoin header that commits to it.

use alloy_primitives::{B256, U256};
use bitcoin::hashes::{sha256d, Hash};
use proptest::collection::vec;
use proptest::prelude::*;
use scion_consensus::merge_mining::{
    coinbase_txid, commitment_of, compress_coinbase, meets_difficulty, RSK_TAG,
};
use scion_consensus::{verify, Commitment, ConsensusError, MergeMiningProof};

fn contains_tag(b: &[u8]) -> bool {
    b.windows(RSK_TAG.len()).any(|w| w == RSK_TAG)
}

/// A single-transaction Bitcoin block's header over `txid` that meets difficulty 1.
fn mined_header(txid: [u8; 32]) -> [u8; 80] {
    let mut h = [0u8; 80];
    h[..4].copy_from_slice(&0x2000_0000u32.to_le_bytes());
    h[36..68].copy_from_slice(&txid);
    h[68..72].copy_from_slice(&1_700_000_000u32.to_le_bytes());
    h[72..76].copy_from_slice(&0x207f_ffffu32.to_le_bytes());
    for nonce in 0u32.. {
        h[76..].copy_from_slice(&nonce.to_le_bytes());
        if meets_difficulty(&h, U256::from(1)) {
            return h;
        }
    }
    unreachable!("a third of all hashes meet difficulty 1")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn compression_keeps_the_txid_and_the_commitment(
        before in vec(any::<u8>(), 0..400),
        commitment in any::<[u8; 32]>(),
        after in vec(any::<u8>(), 0..=128),
    ) {
        let mut coinbase = before.clone();
        coinbase.extend_from_slice(RSK_TAG);
        coinbase.extend_from_slice(&commitment);
        coinbase.extend_from_slice(&after);
        // One tag only (random bytes almost never hold another).
        prop_assume!(coinbase.windows(RSK_TAG.len()).filter(|w| *w == RSK_TAG).count() == 1);

        let cc = compress_coinbase(&coinbase).unwrap();
        let count = u64::from_be_bytes(cc[..8].try_into().unwrap());
        let cut = usize::try_from(count).unwrap();
        // The cut is the start of the 64-byte block holding the tag.
        prop_assert_eq!(cut, before.len() / 64 * 64);
        prop_assert_eq!(&cc[40..], &coinbase[cut..]);
        let txid = sha256d::Hash::hash(&coinbase).to_byte_array();
        prop_assert_eq!(coinbase_txid(&cc).unwrap(), txid);
        prop_assert_eq!(commitment_of(&cc).unwrap(), B256::new(commitment));

        // The whole proof: a header whose merkle root is the coinbase txid (no siblings).
        let header = mined_header(txid);
        let proof = MergeMiningProof {
            btc_header: &header,
            merkle_proof: &[],
            compressed_coinbase: &cc,
        };
        let got = verify(&proof, Commitment::Full(B256::new(commitment)), U256::from(1));
        if coinbase.len() > 64 {
            prop_assert_eq!(got, Ok(()));
        } else {
            prop_assert_eq!(got, Err(ConsensusError::CoinbaseTooShort { len: coinbase.len() as u64 }));
        }
        // Another commitment is not found.
        let mut other = commitment;
        other[0] ^= 1;
        prop_assert_eq!(
            verify(&proof, Commitment::Full(B256::new(other)), U256::from(1)),
            Err(ConsensusError::CommitmentNotFound)
        );
    }

    #[test]
    fn a_coinbase_without_the_tag_cannot_be_compressed(coinbase in vec(any::<u8>(), 0..400)) {
        prop_assume!(!contains_tag(&coinbase));
        prop_assert_eq!(compress_coinbase(&coinbase), Err(ConsensusError::CommitmentNotFound));
    }
}
