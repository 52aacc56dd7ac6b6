//! An in-process Bitcoin regtest chain built with rust-bitcoin: real proof of work at regtest
//! difficulty, P2PKH signing, and partial merkle proofs as bitcoind's gettxoutproof makes them.

use bitcoin::blockdata::constants::genesis_block;
use bitcoin::consensus::serialize;
use bitcoin::hashes::Hash;
use bitcoin::merkle_tree::PartialMerkleTree;
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{
    absolute, block, transaction, Amount, Block, CompactTarget, Network, OutPoint, PublicKey,
    ScriptBuf, Sequence, Transaction, TxIn, TxMerkleNode, TxOut, Witness,
};

/// A Bitcoin key that spends P2PKH outputs.
#[derive(Debug, Clone)]
pub struct BtcKey {
    /// Secret key.
    pub secret: SecretKey,
    /// Compressed public key.
    pub public: PublicKey,
}

impl BtcKey {
    /// A key from 32 bytes.
    pub fn new(seed: [u8; 32]) -> Self {
        let secret = SecretKey::from_slice(&seed).expect("valid secret key");
        let public = PublicKey::new(secret.public_key(&Secp256k1::new()));
        Self { secret, public }
    }

    /// Its P2PKH output script.
    pub fn p2pkh(&self) -> ScriptBuf {
        ScriptBuf::new_p2pkh(&self.public.pubkey_hash())
    }

    /// A transaction spending `prev` (a P2PKH output of this key) to `outputs`, input signed.
    pub fn spend(&self, prev: OutPoint, outputs: Vec<TxOut>) -> Transaction {
        let mut tx = Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: prev,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            }],
            output: outputs,
        };
        let sighash = SighashCache::new(&tx)
            .legacy_signature_hash(0, &self.p2pkh(), EcdsaSighashType::All.to_u32())
            .expect("sighash");
        let sig = Secp256k1::new()
            .sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), &self.secret);
        let sig = bitcoin::ecdsa::Signature {
            signature: sig,
            sighash_type: EcdsaSighashType::All,
        };
        tx.input[0].script_sig = Builder::new()
            .push_slice(PushBytesBuf::try_from(sig.to_vec()).expect("signature push"))
            .push_key(&self.public)
            .into_script();
        tx
    }
}

/// An OP_RETURN output carrying `data`.
pub fn op_return(data: &[u8]) -> TxOut {
    TxOut {
        value: Amount::ZERO,
        script_pubkey: ScriptBuf::new_op_return(
            PushBytesBuf::try_from(data.to_vec()).expect("OP_RETURN data"),
        ),
    }
}

/// A regtest chain: blocks from genesis, mined on demand.
#[derive(Debug, Clone)]
pub struct Regtest {
    /// Blocks by height (0 is regtest's genesis).
    pub blocks: Vec<Block>,
}

impl Default for Regtest {
    fn default() -> Self {
        Self::new()
    }
}

/// Grinds `header`'s nonce until it meets its own target.
pub fn grind(header: &mut block::Header) {
    while header.validate_pow(header.target()).is_err() {
        header.nonce = header.nonce.wrapping_add(1);
    }
}

impl Regtest {
    /// Regtest's genesis block only.
    pub fn new() -> Self {
        Self {
            blocks: vec![genesis_block(Network::Regtest)],
        }
    }

    /// The tip's height.
    pub fn height(&self) -> u32 {
        (self.blocks.len() - 1) as u32
    }

    /// Mines a block on the tip with a coinbase paying 50 BTC to `payout` and then `txs`.
    pub fn mine(&mut self, txs: Vec<Transaction>, payout: &ScriptBuf) -> &Block {
        let height = self.blocks.len() as i64;
        let coinbase = Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::null(),
                script_sig: Builder::new().push_int(height).push_int(0).into_script(),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            }],
            output: vec![TxOut {
                value: Amount::from_btc(50.0).expect("amount"),
                script_pubkey: payout.clone(),
            }],
        };
        let mut all = vec![coinbase];
        all.extend(txs);
        let prev = &self.blocks[self.blocks.len() - 1];
        let mut b = Block {
            header: block::Header {
                version: block::Version::from_consensus(0x2000_0000),
                prev_blockhash: prev.block_hash(),
                merkle_root: TxMerkleNode::all_zeros(),
                time: prev.header.time + 1,
                bits: CompactTarget::from_consensus(0x207f_ffff),
                nonce: 0,
            },
            txdata: all,
        };
        b.header.merkle_root = b.compute_merkle_root().expect("merkle root");
        grind(&mut b.header);
        self.blocks.push(b);
        &self.blocks[self.blocks.len() - 1]
    }

    /// Serialized headers of heights `from..`.
    pub fn headers(&self, from: u32) -> Vec<Vec<u8>> {
        self.blocks[from as usize..]
            .iter()
            .map(|b| serialize(&b.header))
            .collect()
    }

    /// The partial merkle tree proving `tx` (by index) in the block at `height`, serialized as
    /// in bitcoind's gettxoutproof without the header.
    pub fn pmt(&self, height: u32, tx: usize) -> Vec<u8> {
        let b = &self.blocks[height as usize];
        let txids: Vec<_> = b.txdata.iter().map(|t| t.compute_txid()).collect();
        let matches: Vec<bool> = (0..txids.len()).map(|i| i == tx).collect();
        serialize(&PartialMerkleTree::from_txids(&txids, &matches))
    }
}
