//! A hostile peer against a real node: a raw libp2p swarm in this test that speaks Scion's
//! protocols and breaks their rules one way at a time. For each, the victim bans the peer, its
//! head never moves, a banned peer's redial is refused, and the victim's RPC keeps answering.
//! Everything runs on 127.0.0.1 and every wait is bounded.

use alloy_primitives::{FixedBytes, B256, U256};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{gossipsub, noise, tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm};
use scion_chain::Chain;
use scion_node::{Node, NodeConfig};
use scion_p2p::codec::Codec;
use scion_p2p::wire::{Body, NetworkId, Request, Response, Status, STATUS_VERSION};
use scion_types::{Block, ChainSpec, Header};
use std::time::Duration;

/// Writes its request bytes as they are: for frames no honest codec would send.
#[derive(Debug, Clone, Default)]
struct RawCodec;

impl request_response::Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> std::io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut buf = Vec::new();
        io.take(1 << 20).read_to_end(&mut buf).await?;
        Ok(buf)
    }

    async fn read_response<T>(&mut self, p: &StreamProtocol, io: &mut T) -> std::io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        self.read_request(p, io).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> std::io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&req).await?;
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        p: &StreamProtocol,
        io: &mut T,
        r: Vec<u8>,
    ) -> std::io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        self.write_request(p, io, r).await
    }
}

#[derive(NetworkBehaviour)]
struct Hostile {
    gossipsub: gossipsub::Behaviour,
    status: request_response::Behaviour<Codec>,
    headers: request_response::Behaviour<Codec>,
    bodies: request_response::Behaviour<Codec>,
    raw: request_response::Behaviour<RawCodec>,
}

/// How the hostile peer answers the victim's sync requests.
#[derive(Clone)]
enum Serve {
    /// Claims this status; answers headers and bodies from `blocks` (genesis first), bent by
    /// the flags.
    Chain {
        status: Status,
        blocks: Vec<Block>,
        unlink: bool,
        bad_bodies: bool,
    },
}

fn net(victim: &Node) -> NetworkId {
    NetworkId {
        chain_id: victim.chain.chain_id(),
        genesis: victim
            .chain
            .canonical_hash(0)
            .expect("read")
            .expect("genesis"),
    }
}

fn hostile_swarm(net: &NetworkId) -> Swarm<Hostile> {
    let proto =
        |name: &str| StreamProtocol::try_from_owned(net.protocol(name)).expect("protocol id");
    let rr = |name: &str, support| {
        request_response::Behaviour::<Codec>::new(
            [(proto(name), support)],
            request_response::Config::default().with_request_timeout(Duration::from_secs(10)),
        )
    };
    let gossip_config = gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .max_transmit_size(16 << 20)
        .build()
        .expect("gossipsub config");
    let mut gossipsub =
        gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, gossip_config)
            .expect("gossipsub");
    gossipsub
        .subscribe(&gossipsub::IdentTopic::new(net.block_topic()))
        .expect("subscribe");
    let behaviour = Hostile {
        gossipsub,
        status: rr("status/1", ProtocolSupport::Full),
        headers: rr("headers/1", ProtocolSupport::Full),
        bodies: rr("bodies/1", ProtocolSupport::Full),
        raw: request_response::Behaviour::new(
            [(proto("headers/1"), ProtocolSupport::Outbound)],
            request_response::Config::default(),
        ),
    };
    libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .expect("tcp")
        .with_behaviour(|_| behaviour)
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build()
}

fn victim_addr(victim: &Node) -> Multiaddr {
    victim.network.as_ref().expect("net").listen_addrs()[0].clone()
}

/// Drives the hostile swarm, answering the victim as `serve` says, until `done` says stop.
async fn drive(
    swarm: &mut Swarm<Hostile>,
    serve: Option<&Serve>,
    secs: u64,
    what: &str,
    mut done: impl FnMut(&SwarmEvent<HostileEvent>) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let event = tokio::time::timeout_at(deadline, swarm.select_next_some())
            .await
            .unwrap_or_else(|_| panic!("timed out after {secs} s waiting for {what}"));
        if done(&event) {
            return;
        }
        answer_event(swarm, serve, event);
    }
}

/// The victim's view: the hostile peer is banned, for a fault whose description contains
/// `reason` (waits up to 30 s, driving the swarm meanwhile).
async fn wait_banned(
    swarm: &mut Swarm<Hostile>,
    serve: Option<&Serve>,
    victim: &Node,
    reason: &str,
) {
    let id = swarm.local_peer_id().to_string();
    let net = victim.network.clone().expect("net");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(b) = net.info().banned.into_iter().find(|b| b.id == id) {
            assert!(
                b.reason.contains(reason),
                "banned for {:?}, expected {reason:?}",
                b.reason
            );
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the victim did not ban {id} ({reason})"
        );
        if let Ok(event) =
            tokio::time::timeout(Duration::from_millis(50), swarm.select_next_some()).await
        {
            answer_event(swarm, serve, event);
        }
    }
}

fn answer_event(
    swarm: &mut Swarm<Hostile>,
    serve: Option<&Serve>,
    event: SwarmEvent<HostileEvent>,
) {
    let SwarmEvent::Behaviour(event) = event else {
        return;
    };
    let Some(Serve::Chain {
        status,
        blocks,
        unlink,
        bad_bodies,
    }) = serve
    else {
        return;
    };
    match event {
        HostileEvent::Status(request_response::Event::Message {
            message: request_response::Message::Request { channel, .. },
            ..
        }) => {
            let _ = swarm
                .behaviour_mut()
                .status
                .send_response(channel, Response::Status(status.clone()));
        }
        HostileEvent::Headers(request_response::Event::Message {
            message:
                request_response::Message::Request {
                    request, channel, ..
                },
            ..
        }) => {
            let Request::Headers(req) = request else {
                return;
            };
            let by_hash = |h: B256| blocks.iter().position(|b| b.hash() == h);
            let start = match req.start {
                alloy_eips::HashOrNumber::Hash(h) => by_hash(h),
                alloy_eips::HashOrNumber::Number(n) => {
                    usize::try_from(n).ok().filter(|n| *n < blocks.len())
                }
            };
            // As a node serves them: every `skip + 1`, either direction.
            let step = usize::try_from(req.skip).unwrap_or(0) + 1;
            let max = usize::try_from(req.max).unwrap_or(1);
            let mut out: Vec<Header> = match start {
                Some(i) => (0..max)
                    .map_while(|k| {
                        if req.reverse {
                            i.checked_sub(k * step)
                        } else {
                            Some(i + k * step)
                        }
                    })
                    .map_while(|n| blocks.get(n))
                    .map(|b| b.header.clone())
                    .collect(),
                None => vec![],
            };
            if *unlink && out.len() > 2 {
                out.swap(1, 2);
            }
            let _ = swarm
                .behaviour_mut()
                .headers
                .send_response(channel, Response::Headers(out));
        }
        HostileEvent::Bodies(request_response::Event::Message {
            message:
                request_response::Message::Request {
                    request, channel, ..
                },
            ..
        }) => {
            let Request::Bodies(hashes) = request else {
                return;
            };
            let bodies = hashes
                .iter()
                .filter_map(|h| blocks.iter().find(|b| b.hash() == *h))
                .map(|b| Body {
                    transactions: b.transactions.clone(),
                    // A body whose uncles are not the header's.
                    uncles: if *bad_bodies {
                        vec![blocks[0].header.clone()]
                    } else {
                        b.uncles.clone()
                    },
                })
                .collect();
            let _ = swarm
                .behaviour_mut()
                .bodies
                .send_response(channel, Response::Bodies(bodies));
        }
        _ => {}
    }
}

/// Connects a fresh hostile peer and waits until the victim's gossip subscription is known.
async fn connect(victim: &Node, serve: Option<&Serve>) -> Swarm<Hostile> {
    let mut swarm = hostile_swarm(&net(victim));
    swarm.dial(victim_addr(victim)).expect("dial");
    let topic = gossipsub::IdentTopic::new(net(victim).block_topic()).hash();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let event = tokio::time::timeout_at(deadline, swarm.select_next_some())
            .await
            .expect("the victim's gossip subscription within 30 s");
        if let SwarmEvent::Behaviour(HostileEvent::Gossipsub(gossipsub::Event::Subscribed {
            topic: t,
            ..
        })) = &event
        {
            if *t == topic {
                return swarm;
            }
        }
        answer_event(&mut swarm, serve, event);
    }
}

/// A chain of real blocks (genesis first) made by a node of the same network.
fn forge(dir: &std::path::Path, blocks: u64) -> (Chain, Vec<Block>) {
    let chain = Chain::open(dir, ChainSpec::dev()).expect("forge chain");
    for _ in 0..blocks {
        chain.mine_block(None).expect("mine");
    }
    let all = (0..=blocks)
        .map(|n| {
            let h = chain.canonical_hash(n).expect("read").expect("hash");
            chain.store().block(h).expect("read").expect("block")
        })
        .collect();
    (chain, all)
}

/// A block on genesis with a valid merged-mining proof over the given header.
fn sealed(mut block: Block) -> Block {
    let h = &block.header;
    let seal = scion_consensus::work::seal(
        h.hash_for_merged_mining(),
        h.difficulty,
        u32::try_from(h.timestamp).expect("timestamp"),
        h.number,
    )
    .expect("seal");
    block.header.btc_header = seal.btc_header.into();
    block.header.merkle_proof = seal.merkle_proof.into();
    block.header.compressed_coinbase = seal.compressed_coinbase.into();
    block
}

fn publish(swarm: &mut Swarm<Hostile>, victim: &Node, block: &Block) {
    let topic = gossipsub::IdentTopic::new(net(victim).block_topic());
    swarm
        .behaviour_mut()
        .gossipsub
        .publish(topic, block.rlp())
        .expect("publish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_peer_is_banned_for_every_broken_rule_and_no_head_moves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = NodeConfig::dev_networked(dir.path().join("victim"), vec![]);
    config.automine = false;
    let victim = scion_node::spawn(config).await.expect("victim");
    let genesis = victim.chain.head();
    let (forge_chain, blocks) = forge(&dir.path().join("forge"), 3);

    // 1. A block whose merged-mining proof is broken.
    let mut bad_proof = blocks[1].clone();
    let mut proof = bad_proof.header.merkle_proof.to_vec();
    proof.iter_mut().for_each(|b| *b ^= 0x5a);
    bad_proof.header.merkle_proof = proof.into();
    if bad_proof.header.merkle_proof.is_empty() {
        bad_proof.header.btc_header = vec![0u8; 80].into();
    }
    let mut swarm = connect(&victim, None).await;
    publish(&mut swarm, &victim, &bad_proof);
    wait_banned(&mut swarm, None, &victim, "merkle proof does not match").await;

    // A banned peer's redial is refused.
    swarm.dial(victim_addr(&victim)).expect("dial");
    drive(&mut swarm, None, 30, "the redial to be refused", |e| {
        matches!(
            e,
            SwarmEvent::ConnectionClosed { .. } | SwarmEvent::OutgoingConnectionError { .. }
        )
    })
    .await;
    assert_eq!(victim.network.as_ref().expect("net").peer_count(), 0);

    // 2. A valid proof over a wrong state root.
    let mut bad_root = blocks[1].clone();
    bad_root.header.state_root = B256::repeat_byte(0xee);
    let bad_root = sealed(bad_root);
    let mut swarm = connect(&victim, None).await;
    publish(&mut swarm, &victim, &bad_root);
    wait_banned(&mut swarm, None, &victim, "state root").await;

    // 3. An oversized request: a frame claiming 64 MiB on the headers protocol.
    let mut swarm = connect(&victim, None).await;
    let mut frame = Vec::new();
    frame.extend_from_slice(&leb128(64 << 20));
    frame.extend_from_slice(&[0u8; 64]);
    let vid: PeerId = victim.network.as_ref().expect("net").peer_id();
    swarm.behaviour_mut().raw.send_request(&vid, frame);
    wait_banned(&mut swarm, None, &victim, "at most").await;

    // 4. A huge claimed total difficulty whose head it will not serve.
    let withheld = Serve::Chain {
        status: Status {
            version: STATUS_VERSION,
            chain_id: 7773,
            genesis: genesis.hash(),
            head: B256::repeat_byte(0x77),
            number: 1_000_000,
            total_difficulty: U256::from(1u8) << 200,
            fork_id: FixedBytes::ZERO,
        },
        blocks: vec![],
        unlink: false,
        bad_bodies: false,
    };
    let mut swarm = connect(&victim, Some(&withheld)).await;
    wait_banned(
        &mut swarm,
        Some(&withheld),
        &victim,
        "does not serve the head",
    )
    .await;

    // 5. Headers that do not link, and 6. bodies that do not match their roots, behind a
    // real head with real work.
    let head = blocks[3].hash();
    let status = Status {
        version: STATUS_VERSION,
        chain_id: 7773,
        genesis: genesis.hash(),
        head,
        number: 3,
        total_difficulty: forge_chain.total_difficulty(head).expect("td").expect("td"),
        fork_id: FixedBytes::ZERO,
    };
    for (unlink, bad_bodies, reason) in [
        (true, false, "do not link"),
        (false, true, "does not match its roots"),
    ] {
        let serve = Serve::Chain {
            status: status.clone(),
            blocks: blocks.clone(),
            unlink,
            bad_bodies,
        };
        let mut swarm = connect(&victim, Some(&serve)).await;
        wait_banned(&mut swarm, Some(&serve), &victim, reason).await;
    }

    // 7. A flood of Status requests: throttled, then banned; the RPC keeps answering.
    let mut swarm = connect(&victim, None).await;
    let vid: PeerId = victim.network.as_ref().expect("net").peer_id();
    for _ in 0..300 {
        swarm.behaviour_mut().status.send_request(
            &vid,
            Request::Status(Status {
                version: STATUS_VERSION,
                chain_id: 7773,
                genesis: genesis.hash(),
                head: genesis.hash(),
                number: 0,
                total_difficulty: U256::ZERO,
                fork_id: FixedBytes::ZERO,
            }),
        );
    }
    let rpc_addr = victim.rpc_addr;
    let answered = tokio::task::spawn_blocking(move || {
        scion_e2e::rpc(rpc_addr, "eth_blockNumber", serde_json::json!([]))
    });
    wait_banned(&mut swarm, None, &victim, "over quota").await;
    assert_eq!(answered.await.expect("rpc task"), "0x0");

    // No honest head moved, and nothing of the hostile chain was stored.
    assert_eq!(victim.chain.head().hash(), genesis.hash());
    for b in &blocks[1..] {
        assert!(victim
            .chain
            .store()
            .header(b.hash())
            .expect("read")
            .is_none());
    }
    assert_eq!(victim.network.as_ref().expect("net").info().banned.len(), 7);
    victim.stop().await;
}

/// `n` as an unsigned LEB128 length prefix.
fn leb128(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = u8::try_from(n & 0x7f).expect("7 bits");
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// True for a headers request from the victim.
fn is_headers_request(event: &SwarmEvent<HostileEvent>) -> bool {
    matches!(
        event,
        SwarmEvent::Behaviour(HostileEvent::Headers(request_response::Event::Message {
            message: request_response::Message::Request { .. },
            ..
        }))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helper_serving_bad_chunks_is_banned_and_the_sync_finishes_from_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = NodeConfig::dev_networked(dir.path().join("victim"), vec![]);
    config.automine = false;
    let victim = scion_node::spawn(config).await.expect("victim");
    let (forge_chain, blocks) = forge(&dir.path().join("forge"), 600);
    let head = blocks[600].hash();
    let status = Status {
        version: STATUS_VERSION,
        chain_id: 7773,
        genesis: blocks[0].hash(),
        head,
        number: 600,
        total_difficulty: forge_chain.total_difficulty(head).expect("td").expect("td"),
        fork_id: FixedBytes::ZERO,
    };
    let chain_of = |unlink| Serve::Chain {
        status: status.clone(),
        blocks: blocks.clone(),
        unlink,
        bad_bodies: false,
    };
    let (honest, lying) = (chain_of(false), chain_of(true));
    let net = victim.network.clone().expect("net");

    // The sync peer connects first; its answer to the victim's first headers request (the
    // head) is held until the helper has joined, so that the helper is asked for chunks.
    let mut sync_peer = hostile_swarm(&self::net(&victim));
    sync_peer.dial(victim_addr(&victim)).expect("dial");
    let held = loop {
        let event = tokio::time::timeout(Duration::from_secs(30), sync_peer.select_next_some())
            .await
            .expect("the victim's first headers request within 30 s");
        if is_headers_request(&event) {
            break event;
        }
        answer_event(&mut sync_peer, Some(&honest), event);
    };
    let mut helper = connect(&victim, Some(&lying)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while net.peer_count() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the helper's handshake"
        );
        tokio::select! {
            e = helper.select_next_some() => answer_event(&mut helper, Some(&lying), e),
            e = sync_peer.select_next_some() => answer_event(&mut sync_peer, Some(&honest), e),
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
    answer_event(&mut sync_peer, Some(&honest), held);

    // The helper's chunks do not link: it is banned, its chunks go to the sync peer, and the
    // sync reaches the head.
    let helper_id = helper.local_peer_id().to_string();
    let sync_id = sync_peer.local_peer_id().to_string();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while victim.chain.head().hash() != head {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sync to block 600: at {}",
            victim.chain.head().number
        );
        tokio::select! {
            e = helper.select_next_some() => answer_event(&mut helper, Some(&lying), e),
            e = sync_peer.select_next_some() => answer_event(&mut sync_peer, Some(&honest), e),
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
    let banned = net.info().banned;
    let reason = banned
        .iter()
        .find(|b| b.id == helper_id)
        .map(|b| b.reason.clone());
    assert!(
        reason.as_deref().is_some_and(|r| r.contains("do not link")),
        "the helper's ban: {reason:?}"
    );
    assert!(
        banned.iter().all(|b| b.id != sync_id),
        "the sync peer is not banned"
    );
    victim.stop().await;
}
