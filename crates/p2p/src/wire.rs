//! What travels between nodes (NETWORK.md, "Wire"): the network's protocol ids, the Status
//! handshake, headers and bodies requests and their responses, and the size and count caps.
//! Every payload is RLP.

use alloy_consensus::TxEnvelope;
use alloy_eips::HashOrNumber;
use alloy_primitives::{keccak256, FixedBytes, B256, U256};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use scion_types::Header;

/// The version of the Status message this build speaks.
pub const STATUS_VERSION: u64 = 1;
/// Largest Status message, in bytes.
pub const MAX_STATUS_SIZE: usize = 1024;
/// Most headers one request may ask for.
pub const MAX_HEADERS: u64 = 1024;
/// A headers response stops growing past this many bytes (it always holds one header).
pub const HEADERS_SOFT_LIMIT: usize = 2 * 1024 * 1024;
/// A headers response larger than this is refused unread.
pub const HEADERS_HARD_LIMIT: usize = 4 * 1024 * 1024;
/// Most bodies one request may ask for.
pub const MAX_BODIES: usize = 128;
/// A bodies response stops growing past this many bytes (it always holds one body).
pub const BODIES_SOFT_LIMIT: usize = 8 * 1024 * 1024;
/// A bodies response larger than this is refused unread.
pub const BODIES_HARD_LIMIT: usize = 10 * 1024 * 1024;
/// Largest request of any kind (a bodies request of 128 hashes is about 4 KiB).
pub const MAX_REQUEST_SIZE: usize = 16 * 1024;
/// Largest gossiped block.
pub const MAX_GOSSIP_BLOCK: usize = 10 * 1024 * 1024;
/// Largest gossiped transaction (geth's 128 KiB transaction limit, plus framing).
pub const MAX_GOSSIP_TX: usize = 129 * 1024;

/// The network a node belongs to: `{chain_id}-{first 4 bytes of the genesis hash, hex}`.
/// Every protocol id carries it, so nodes of different networks fail negotiation before any
/// payload is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkId {
    /// The chain id.
    pub chain_id: u64,
    /// The genesis block's hash.
    pub genesis: B256,
}

impl NetworkId {
    /// The `{chain_id}-{genesis prefix}` string.
    pub fn tag(&self) -> String {
        let g = self.genesis.as_slice();
        let prefix: String = g.iter().take(4).map(|b| format!("{b:02x}")).collect();
        format!("{}-{prefix}", self.chain_id)
    }

    /// A protocol id of this network: `/scion/{net}/{name}`.
    pub fn protocol(&self, name: &str) -> String {
        format!("/scion/{}/{name}", self.tag())
    }

    /// The block gossip topic.
    pub fn block_topic(&self) -> String {
        self.protocol("block/rlp")
    }

    /// The transaction gossip topic.
    pub fn tx_topic(&self) -> String {
        self.protocol("tx/rlp")
    }
}

/// The handshake: `[version, chain_id, genesis, head, number, total_difficulty, fork_id]`,
/// exchanged on connect and every 60 seconds. A claimed total difficulty is only a claim
/// until the head's header is fetched and its proof of work checked.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Status {
    /// [`STATUS_VERSION`].
    pub version: u64,
    /// The chain id.
    pub chain_id: u64,
    /// The genesis hash.
    pub genesis: B256,
    /// The sender's head block.
    pub head: B256,
    /// Its number.
    pub number: u64,
    /// Cumulative difficulty at the head, uncles included.
    pub total_difficulty: U256,
    /// Reserved for fork identification; zero.
    pub fork_id: FixedBytes<4>,
}

/// A request for consecutive (or evenly spaced) headers.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct HeadersRequest {
    /// The first header, by hash or by canonical number.
    pub start: HashOrNumber,
    /// How many at most ([`MAX_HEADERS`]).
    pub max: u64,
    /// Headers skipped between two returned ones.
    pub skip: u64,
    /// Walk towards genesis instead of towards the head.
    pub reverse: bool,
}

/// A block's body: its transactions and uncle headers.
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Body {
    /// Transactions in block order.
    pub transactions: Vec<TxEnvelope>,
    /// Uncle headers.
    pub uncles: Vec<Header>,
}

/// A request on one of the request/response protocols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `/status/1`: the sender's status.
    Status(Status),
    /// `/headers/1`.
    Headers(HeadersRequest),
    /// `/bodies/1`: block hashes, at most [`MAX_BODIES`].
    Bodies(Vec<B256>),
    /// What a peer sent that could not be read (oversized or undecodable), and why. Never
    /// sent.
    Malformed(String),
}

/// The first byte of every response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Served; the payload follows.
    Ok,
    /// The request broke the protocol's rules.
    BadRequest,
    /// The server failed on its own.
    ServerError,
    /// Too many requests from this peer.
    RateLimited,
    /// The server cannot serve this now.
    Unavailable,
}

impl Code {
    /// Its byte on the wire.
    pub fn byte(self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::BadRequest => 1,
            Self::ServerError => 2,
            Self::RateLimited => 3,
            Self::Unavailable => 4,
        }
    }

    /// The code of a response byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            0 => Self::Ok,
            1 => Self::BadRequest,
            2 => Self::ServerError,
            3 => Self::RateLimited,
            4 => Self::Unavailable,
            _ => return None,
        })
    }
}

/// A response on one of the request/response protocols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The server's status.
    Status(Status),
    /// Headers, in the order asked for; fewer than asked when the server has no more.
    Headers(Vec<Header>),
    /// Bodies of the asked hashes, in order, stopping at the first one it lacks.
    Bodies(Vec<Body>),
    /// Not served, and why.
    Refused(Code),
}

/// The gossip message id: `keccak256(payload)[..20]`. Never the block hash: the hash for
/// merged mining ignores the proof, so a copy with a broken proof must not suppress the
/// valid one.
pub fn message_id(payload: &[u8]) -> Vec<u8> {
    keccak256(payload)
        .as_slice()
        .iter()
        .take(20)
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_rlp::{Decodable, Encodable};

    #[test]
    fn protocol_ids_carry_the_chain_id_and_genesis_prefix() {
        let mut genesis = B256::ZERO;
        genesis.0[..4].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        let net = NetworkId {
            chain_id: 7773,
            genesis,
        };
        assert_eq!(net.protocol("status/1"), "/scion/7773-deadbeef/status/1");
        assert_eq!(net.block_topic(), "/scion/7773-deadbeef/block/rlp");
        let other = NetworkId {
            chain_id: 7774,
            genesis,
        };
        assert_ne!(net.protocol("status/1"), other.protocol("status/1"));
    }

    #[test]
    fn status_and_requests_round_trip_through_rlp() {
        let status = Status {
            version: STATUS_VERSION,
            chain_id: 7773,
            genesis: B256::repeat_byte(1),
            head: B256::repeat_byte(2),
            number: 42,
            total_difficulty: U256::from(1_000_000u64),
            fork_id: FixedBytes::ZERO,
        };
        let bytes = alloy_rlp::encode(&status);
        assert!(bytes.len() <= MAX_STATUS_SIZE);
        assert_eq!(Status::decode(&mut bytes.as_slice()).ok(), Some(status));
        for start in [
            HashOrNumber::Number(7),
            HashOrNumber::Hash(B256::repeat_byte(9)),
        ] {
            let req = HeadersRequest {
                start,
                max: 192,
                skip: 0,
                reverse: true,
            };
            let mut out = Vec::new();
            req.encode(&mut out);
            assert_eq!(HeadersRequest::decode(&mut out.as_slice()).ok(), Some(req));
        }
    }

    #[test]
    fn message_ids_depend_on_every_byte() {
        assert_eq!(message_id(b"block").len(), 20);
        assert_ne!(message_id(b"block a"), message_id(b"block b"));
    }
}
