//! The swarm and the one tokio task that owns it: connections, the Status handshake, requests
//! served and answered, peer scores and bans, dialing, and the commands of the RPC. Gossip and
//! import outcomes are handled in `gossip.rs`.

use crate::codec::{Codec, Kind};
use crate::handle::{peer_id_of, Command, NetworkHandle};
use crate::importer::{Importer, Outcome};
use crate::peers::{Fault, PeerScores, Quotas, Verdict};
use crate::scoring;
use crate::sync::{Action, Sync};
use crate::wire::{
    self, NetworkId, Request, Response, Status, MAX_GOSSIP_BLOCK, MAX_GOSSIP_TX, STATUS_VERSION,
};
use crate::{NetInfo, P2pConfig, P2pError};
use alloy_primitives::{FixedBytes, B256};
use futures::StreamExt;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    allow_block_list, connection_limits, gossipsub, identify, kad, multiaddr::Protocol, noise,
    ping, tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm,
};
use parking_lot::RwLock;
use scion_chain::{Chain, ChainEvent};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often Status is exchanged again with every peer.
pub const STATUS_INTERVAL: Duration = Duration::from_secs(60);
/// A peer that has not completed the handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);
/// Requests not answered by then fail (and cost the peer a little).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// A peer a sync was started from is not picked again for a new sync before this.
const SYNC_RETRY: Duration = Duration::from_secs(3);

/// Every protocol the node speaks, in one behaviour; limits and the block list come first so
/// they refuse connections before anything else sees them.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    limits: connection_limits::Behaviour,
    blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    pub(crate) gossipsub: gossipsub::Behaviour,
    pub(crate) status: request_response::Behaviour<Codec>,
    pub(crate) headers: request_response::Behaviour<Codec>,
    pub(crate) bodies: request_response::Behaviour<Codec>,
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    kad: Toggle<kad::Behaviour<kad::store::MemoryStore>>,
}

/// A connected peer.
#[derive(Debug)]
pub(crate) struct Peer {
    pub(crate) status: Option<Status>,
    pub(crate) remote: Multiaddr,
    pub(crate) local: Multiaddr,
    pub(crate) inbound: bool,
    pub(crate) since: Instant,
    pub(crate) quotas: Quotas,
    pub(crate) agent: String,
}

/// Results of work done off the task.
#[derive(Debug)]
pub(crate) enum Work {
    /// A served read, ready to send.
    Respond(Kind, request_response::ResponseChannel<Response>, Response),
    /// A gossiped transaction went through the pool.
    TxChecked {
        peer: PeerId,
        id: gossipsub::MessageId,
        /// Ok, or whether the sender answers for the fault, and what it was.
        result: Result<(), (bool, String)>,
    },
}

/// Chain events the network acts on.
#[derive(Debug)]
pub(crate) enum Local {
    Sealed(B256),
    Tx(B256),
}

/// The task's state.
pub(crate) struct Service {
    pub(crate) swarm: Swarm<Behaviour>,
    pub(crate) chain: Arc<Chain>,
    pub(crate) net: NetworkId,
    pub(crate) config: P2pConfig,
    pub(crate) block_topic: gossipsub::IdentTopic,
    pub(crate) tx_topic: gossipsub::IdentTopic,
    pub(crate) peers: HashMap<PeerId, Peer>,
    pub(crate) scores: PeerScores,
    /// Peers banned now, and why.
    pub(crate) banned: HashMap<PeerId, String>,
    pub(crate) static_peers: Vec<(PeerId, Multiaddr)>,
    pub(crate) importer: Importer,
    pub(crate) sync: Sync,
    /// Whether a sync ran when the sync's actions were last carried out.
    pub(crate) was_syncing: bool,
    /// When a long sync from each peer last started.
    pub(crate) sync_backoff: HashMap<PeerId, Instant>,
    pub(crate) orphans: Vec<(scion_types::Block, PeerId)>,
    pub(crate) gossiped_txs: schnellru::LruMap<B256, ()>,
    pub(crate) work: mpsc::UnboundedSender<Work>,
    pub(crate) info: Arc<RwLock<NetInfo>>,
}

fn start_err(e: impl std::fmt::Display) -> P2pError {
    P2pError::Start(e.to_string())
}

fn protocol(net: &NetworkId, name: &str) -> Result<StreamProtocol, P2pError> {
    StreamProtocol::try_from_owned(net.protocol(name)).map_err(start_err)
}

fn build_behaviour(
    key: &libp2p::identity::Keypair,
    net: &NetworkId,
    config: &P2pConfig,
) -> Result<Behaviour, P2pError> {
    let block_topic = gossipsub::IdentTopic::new(net.block_topic());
    let tx_topic = gossipsub::IdentTopic::new(net.tx_topic());
    let gossip_config = gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .validate_messages()
        .message_id_fn(|m: &gossipsub::Message| {
            gossipsub::MessageId::new(&wire::message_id(&m.data))
        })
        .heartbeat_interval(Duration::from_millis(700))
        .history_length(12)
        .history_gossip(3)
        .duplicate_cache_time(Duration::from_secs(120))
        .max_transmit_size(MAX_GOSSIP_BLOCK.saturating_add(64 * 1024))
        .max_transmit_size_for_topic(MAX_GOSSIP_BLOCK, block_topic.hash())
        .max_transmit_size_for_topic(MAX_GOSSIP_TX, tx_topic.hash())
        .build()
        .map_err(start_err)?;
    let mut gossipsub =
        gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, gossip_config)
            .map_err(start_err)?;
    gossipsub
        .with_peer_score(
            scoring::params(block_topic.hash(), tx_topic.hash()),
            scoring::thresholds(),
        )
        .map_err(start_err)?;
    gossipsub.subscribe(&block_topic).map_err(start_err)?;
    gossipsub.subscribe(&tx_topic).map_err(start_err)?;
    let rr = |name: &str| -> Result<request_response::Behaviour<Codec>, P2pError> {
        Ok(request_response::Behaviour::new(
            [(protocol(net, name)?, ProtocolSupport::Full)],
            request_response::Config::default().with_request_timeout(REQUEST_TIMEOUT),
        ))
    };
    let peer_id = key.public().to_peer_id();
    let kad = (!config.no_discovery)
        .then(|| -> Result<_, P2pError> {
            let mut cfg = kad::Config::new(protocol(net, "kad/1")?);
            cfg.set_query_timeout(Duration::from_secs(30));
            let mut k =
                kad::Behaviour::with_config(peer_id, kad::store::MemoryStore::new(peer_id), cfg);
            k.set_mode(Some(kad::Mode::Server));
            Ok(k)
        })
        .transpose()?;
    let outbound_kept = config.max_peers / 4;
    let limits = connection_limits::ConnectionLimits::default()
        .with_max_established(Some(config.max_peers))
        .with_max_established_incoming(Some(config.max_peers.saturating_sub(outbound_kept)))
        .with_max_established_per_peer(Some(1))
        .with_max_pending_incoming(Some(config.max_peers));
    Ok(Behaviour {
        limits: connection_limits::Behaviour::new(limits),
        blocked: Default::default(),
        gossipsub,
        status: rr(Kind::Status.name())?,
        headers: rr(Kind::Headers.name())?,
        bodies: rr(Kind::Bodies.name())?,
        identify: identify::Behaviour::new(
            identify::Config::new(net.protocol("id/1"), key.public())
                .with_agent_version(format!("scion/v{}", env!("CARGO_PKG_VERSION"))),
        ),
        ping: ping::Behaviour::new(ping::Config::new()),
        kad: kad.into(),
    })
}

/// Starts the network for `chain`: loads or creates the node key, listens, dials the given
/// peers, and runs the swarm on a tokio task. Returns once the listen address is known.
pub async fn spawn(chain: Arc<Chain>, config: P2pConfig) -> Result<NetworkHandle, P2pError> {
    let key = crate::key::load_or_create(&config.key_file)?;
    let peer_id = key.public().to_peer_id();
    let genesis = chain
        .canonical_hash(0)
        .map_err(start_err)?
        .ok_or_else(|| start_err("the chain has no genesis block"))?;
    let net = NetworkId {
        chain_id: chain.chain_id(),
        genesis,
    };
    let behaviour = build_behaviour(&key, &net, &config)?;
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(start_err)?
        .with_dns()
        .map_err(start_err)?
        .with_behaviour(|_| behaviour)
        .map_err(start_err)?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(300)))
        .build();
    swarm.listen_on(config.listen.clone()).map_err(start_err)?;
    // The listen address, with the port the OS picked.
    let wait = tokio::time::sleep(Duration::from_secs(10));
    tokio::pin!(wait);
    let listen = loop {
        let event = tokio::select! {
            e = swarm.select_next_some() => Ok(e),
            _ = &mut wait => Err(()),
        };
        match event {
            Ok(SwarmEvent::NewListenAddr { address, .. }) => break address,
            Ok(SwarmEvent::ListenerError { error, .. }) => return Err(start_err(error)),
            Ok(SwarmEvent::ListenerClosed { reason, .. }) => {
                return Err(start_err(format!("listener closed: {reason:?}")))
            }
            Ok(_) => {}
            Err(_) => {
                return Err(start_err(format!(
                    "no listen address on {} within 10 s",
                    config.listen
                )))
            }
        }
    };
    let full = listen.clone().with(Protocol::P2p(peer_id));
    tracing::info!(address = %full, "p2p listening");
    let info = Arc::new(RwLock::new(NetInfo {
        peer_id: peer_id.to_string(),
        listen: vec![full],
        ..Default::default()
    }));
    let (outcome_tx, outcomes) = mpsc::unbounded_channel();
    let importer = Importer::start(chain.clone(), outcome_tx).map_err(start_err)?;
    let (local_tx, local) = mpsc::channel(16_384);
    chain.subscribe(Box::new(move |event| {
        let l = match event {
            ChainEvent::BlockSealed(h) => Local::Sealed(*h),
            ChainEvent::PendingTx(h) => Local::Tx(*h),
            _ => return,
        };
        // A full queue drops the announcement, never blocks the chain.
        let _ = local_tx.try_send(l);
    }));
    let mut static_peers = Vec::new();
    for addr in &config.static_peers {
        let id = peer_id_of(&addr.to_string()).ok_or_else(|| P2pError::BadAddress {
            addr: addr.to_string(),
            reason: "a static peer needs /p2p/<peer id>".into(),
        })?;
        static_peers.push((id, addr.clone()));
    }
    let (work, work_rx) = mpsc::unbounded_channel();
    let (commands, commands_rx) = mpsc::channel(64);
    let service = Service {
        block_topic: gossipsub::IdentTopic::new(net.block_topic()),
        tx_topic: gossipsub::IdentTopic::new(net.tx_topic()),
        swarm,
        chain,
        net,
        config,
        peers: HashMap::new(),
        scores: PeerScores::default(),
        banned: HashMap::new(),
        static_peers,
        importer,
        sync: Sync::default(),
        sync_backoff: HashMap::new(),
        was_syncing: false,
        orphans: Vec::new(),
        gossiped_txs: schnellru::LruMap::new(schnellru::ByLength::new(16_384)),
        work,
        info: info.clone(),
    };
    tokio::spawn(service.run(commands_rx, outcomes, work_rx, local));
    Ok(NetworkHandle {
        commands,
        info,
        peer_id,
    })
}

impl Service {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut outcomes: mpsc::UnboundedReceiver<Outcome>,
        mut work: mpsc::UnboundedReceiver<Work>,
        mut local: mpsc::Receiver<Local>,
    ) {
        self.dial_initial();
        let mut status_tick = tokio::time::interval(STATUS_INTERVAL);
        status_tick.tick().await;
        let mut maintenance = tokio::time::interval(Duration::from_secs(5));
        let mut ack = None;
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm(event),
                cmd = commands.recv() => match cmd {
                    None => break,
                    Some(Command::Shutdown(done)) => {
                        ack = Some(done);
                        break;
                    }
                    Some(c) => self.on_command(c),
                },
                Some(o) = outcomes.recv() => self.on_outcome(o),
                Some(w) = work.recv() => self.on_work(w),
                Some(l) = local.recv() => self.on_local(l),
                _ = status_tick.tick() => {
                    let peers: Vec<PeerId> = self.peers.keys().copied().collect();
                    for p in peers {
                        self.send_status(p);
                    }
                }
                _ = maintenance.tick() => self.maintain(),
            }
        }
        self.save_peers();
        let Service {
            swarm,
            importer,
            chain,
            ..
        } = self;
        drop(swarm);
        drop(chain);
        if tokio::task::spawn_blocking(move || importer.stop())
            .await
            .is_err()
        {
            tracing::error!("stopping the import threads failed");
        }
        tracing::info!("p2p stopped");
        if let Some(done) = ack {
            let _ = done.send(());
        }
    }

    fn dial_initial(&mut self) {
        let mut addrs: Vec<Multiaddr> = self.config.bootnodes.clone();
        addrs.extend(self.static_peers.iter().map(|(_, a)| a.clone()));
        if !self.config.no_discovery {
            for (id, known) in crate::key::load_peers(&self.config.peers_file) {
                for a in known {
                    if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                        kad.add_address(&id, a.clone());
                    }
                    addrs.push(a.with_p2p(id).unwrap_or_else(|a| a));
                }
            }
        }
        for addr in addrs {
            if let (Some(id), Some(kad)) = (
                peer_id_of(&addr.to_string()),
                self.swarm.behaviour_mut().kad.as_mut(),
            ) {
                kad.add_address(&id, addr.clone());
            }
            if let Err(e) = self.swarm.dial(addr.clone()) {
                tracing::debug!(%addr, error = %e, "dial");
            }
        }
    }

    /// Our Status now.
    pub(crate) fn our_status(&self) -> Status {
        let head = self.chain.head();
        let td = self
            .chain
            .total_difficulty(head.hash())
            .ok()
            .flatten()
            .unwrap_or_default();
        Status {
            version: STATUS_VERSION,
            chain_id: self.net.chain_id,
            genesis: self.net.genesis,
            head: head.hash(),
            number: head.number,
            total_difficulty: td,
            fork_id: FixedBytes::ZERO,
        }
    }

    /// Sends our Status, at most once per 3 s to each peer (its quota is 5 per 15 s); one held
    /// back goes out with the next maintenance round.
    fn send_status(&mut self, peer: PeerId) {
        let now = Instant::now();
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if p.quotas
            .status_sent
            .is_some_and(|t| now.saturating_duration_since(t) < Duration::from_secs(3))
        {
            p.quotas.status_due = true;
            return;
        }
        p.quotas.status_sent = Some(now);
        p.quotas.status_due = false;
        let s = self.our_status();
        self.swarm
            .behaviour_mut()
            .status
            .send_request(&peer, Request::Status(s));
    }

    fn on_swarm(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                if u32::from(num_established) > 1 {
                    return;
                }
                let (local, remote) = match &endpoint {
                    libp2p::core::ConnectedPoint::Dialer { address, .. } => {
                        (Multiaddr::empty(), address.clone())
                    }
                    libp2p::core::ConnectedPoint::Listener {
                        local_addr,
                        send_back_addr,
                    } => (local_addr.clone(), send_back_addr.clone()),
                };
                tracing::debug!(peer = %peer_id, %remote, "connected");
                self.peers.insert(
                    peer_id,
                    Peer {
                        status: None,
                        remote,
                        local,
                        inbound: endpoint.is_listener(),
                        since: Instant::now(),
                        quotas: Quotas::new(Instant::now()),
                        agent: String::new(),
                    },
                );
                self.send_status(peer_id);
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                tracing::debug!(peer = %peer_id, "disconnected");
                self.peers.remove(&peer_id);
                self.scores.forget(&peer_id, Instant::now());
                let (stopped, actions) = self.sync.drop_peer(&self.chain, &peer_id);
                self.act(actions);
                if stopped {
                    self.start_best_sync();
                }
                self.publish_info();
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                let full = address.with(Protocol::P2p(*self.swarm.local_peer_id()));
                tracing::info!(address = %full, "p2p listening");
                let mut info = self.info.write();
                if !info.listen.contains(&full) {
                    info.listen.push(full);
                }
            }
            SwarmEvent::Behaviour(b) => self.on_behaviour(b),
            _ => {}
        }
    }

    fn on_behaviour(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => self.on_gossip(propagation_source, message_id, message),
            BehaviourEvent::Status(e) => self.on_rr(Kind::Status, e),
            BehaviourEvent::Headers(e) => self.on_rr(Kind::Headers, e),
            BehaviourEvent::Bodies(e) => self.on_rr(Kind::Bodies, e),
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                if let Some(p) = self.peers.get_mut(&peer_id) {
                    p.agent = info.agent_version.clone();
                }
                if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                    for a in info.listen_addrs {
                        kad.add_address(&peer_id, a);
                    }
                }
            }
            BehaviourEvent::Kad(kad::Event::RoutingUpdated { peer, .. }) => {
                let outbound = self.peers.values().filter(|p| !p.inbound).count();
                let wanted = usize::try_from(self.config.max_peers / 4)
                    .unwrap_or(1)
                    .max(1);
                if outbound < wanted
                    && !self.peers.contains_key(&peer)
                    && !self.banned.contains_key(&peer)
                {
                    let _ = self.swarm.dial(peer);
                }
            }
            _ => {}
        }
    }

    /// A peer's Status: another network is dropped (no ban); a heavier chain starts a sync.
    pub(crate) fn on_status(&mut self, peer: PeerId, status: Status) {
        if status.genesis != self.net.genesis || status.chain_id != self.net.chain_id {
            tracing::info!(peer = %peer, chain_id = status.chain_id, genesis = %status.genesis, "peer is on another network; disconnecting");
            self.drop_other_network(peer);
            return;
        }
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let first = p.status.is_none();
        p.status = Some(status);
        if first {
            tracing::info!(peer = %peer, "peer handshaken");
            self.publish_info();
        }
        if self.sync.is_running() {
            if self
                .peers
                .get(&peer)
                .and_then(|p| p.status.as_ref())
                .map(|s| s.total_difficulty)
                > Some(self.our_status().total_difficulty)
            {
                let actions = self.sync.add_helper(&self.chain, peer);
                self.act(actions);
            }
            return;
        }
        self.start_best_sync();
    }

    pub(crate) fn drop_other_network(&mut self, peer: PeerId) {
        let _ = self.swarm.disconnect_peer_id(peer);
        let mut info = self.info.write();
        info.other_network_drops = info.other_network_drops.saturating_add(1);
    }

    /// Handshaken peers whose Status claims more work than ours: a sync asks them for chunks
    /// and bodies.
    pub(crate) fn peers_ahead(&self) -> Vec<PeerId> {
        let ours = self.our_status().total_difficulty;
        self.peers
            .iter()
            .filter(|(_, p)| p.status.as_ref().is_some_and(|s| s.total_difficulty > ours))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Starts a long sync from the peer claiming the most work, if it claims more than ours.
    pub(crate) fn start_best_sync(&mut self) {
        if self.sync.is_running() {
            return;
        }
        let ours = self.our_status().total_difficulty;
        // Every peer ahead of us fills chunks and bodies; the heaviest is the sync peer.
        let helpers = self.peers_ahead();
        let best = self
            .peers
            .iter()
            .filter_map(|(id, p)| p.status.as_ref().map(|s| (*id, s.clone())))
            .filter(|(id, s)| {
                s.total_difficulty > ours
                    && self
                        .sync_backoff
                        .get(id)
                        .is_none_or(|t| t.elapsed() > SYNC_RETRY)
            })
            .max_by_key(|(_, s)| s.total_difficulty);
        if let Some((peer, s)) = best {
            tracing::info!(peer = %peer, number = s.number, "syncing towards a heavier chain");
            self.sync_backoff.insert(peer, Instant::now());
            let target = (s.head, s.number, s.total_difficulty);
            let actions = self.sync.start_long(&self.chain, peer, target, helpers);
            self.act(actions);
        }
    }

    /// Carries out the sync's actions.
    pub(crate) fn act(&mut self, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Headers(peer, req, token) => {
                    let id = self
                        .swarm
                        .behaviour_mut()
                        .headers
                        .send_request(&peer, Request::Headers(req));
                    self.sync.sent(token, id);
                }
                Action::Bodies(peer, hashes, token) => {
                    let id = self
                        .swarm
                        .behaviour_mut()
                        .bodies
                        .send_request(&peer, Request::Bodies(hashes));
                    self.sync.sent(token, id);
                }
                Action::Import(peer, sync, blocks) => {
                    if !self.importer.submit_batch(peer, sync, blocks) {
                        tracing::warn!("import queue full; sync restarts later");
                        let _ = self.sync.drop_peer(&self.chain, &peer);
                    }
                }
                Action::Penalise(peer, fault, why) => self.penalise(peer, fault, why),
            }
        }
        // A finished sync moved our head: tell every peer, so those behind follow at once
        // instead of at the next Status round.
        let running = self.sync.is_running();
        let finished = self.was_syncing && !running;
        self.was_syncing = running;
        self.publish_sync();
        if finished {
            let peers: Vec<PeerId> = self.peers.keys().copied().collect();
            for p in peers {
                self.send_status(p);
            }
            // Orphans that arrived meanwhile, or a gap the sync did not cover.
            self.resolve_orphans();
            self.chase_orphans();
        }
    }

    /// Records a fault; a ban disconnects the peer and refuses it until the ban ends.
    pub(crate) fn penalise(&mut self, peer: PeerId, fault: Fault, why: String) {
        let verdict = self.scores.penalise(peer, fault, Instant::now());
        tracing::warn!(peer = %peer, ?fault, reason = %why, "peer penalised");
        if let Verdict::Ban(length) = verdict {
            tracing::warn!(peer = %peer, secs = length.as_secs(), "peer banned");
            self.banned.insert(peer, why);
            self.publish_bans();
            let b = self.swarm.behaviour_mut();
            b.blocked.block_peer(peer);
            b.gossipsub.blacklist_peer(&peer);
            let (stopped, actions) = self.sync.drop_peer(&self.chain, &peer);
            self.act(actions);
            if stopped {
                self.start_best_sync();
            }
        }
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::AddPeer(addr, reply) => {
                if let (Some(id), Some(kad)) = (
                    peer_id_of(&addr.to_string()),
                    self.swarm.behaviour_mut().kad.as_mut(),
                ) {
                    kad.add_address(&id, addr.clone());
                }
                let r = self.swarm.dial(addr).map_err(|e| P2pError::BadAddress {
                    addr: String::new(),
                    reason: e.to_string(),
                });
                let _ = reply.send(r);
            }
            Command::RemovePeer(id, reply) => {
                let _ = reply.send(self.swarm.disconnect_peer_id(id).is_ok());
            }
            Command::Shutdown(_) => {}
        }
    }

    fn on_work(&mut self, w: Work) {
        match w {
            Work::Respond(kind, channel, resp) => self.respond(kind, channel, resp),
            Work::TxChecked { peer, id, result } => self.on_tx_checked(peer, id, result),
        }
    }

    fn maintain(&mut self) {
        let now = Instant::now();
        // Gossip scores move with time (time in mesh, decays): keep admin_peers' current.
        self.publish_info();
        let due: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.quotas.status_due)
            .map(|(id, _)| *id)
            .collect();
        for peer in due {
            self.send_status(peer);
        }
        for peer in self.scores.expired_bans(now) {
            if self.banned.remove(&peer).is_some() {
                tracing::info!(peer = %peer, "ban ended");
                self.publish_bans();
                let b = self.swarm.behaviour_mut();
                b.blocked.unblock_peer(peer);
                b.gossipsub.remove_blacklisted_peer(&peer);
            }
        }
        let late: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| {
                p.status.is_none() && now.saturating_duration_since(p.since) > HANDSHAKE_TIMEOUT
            })
            .map(|(id, _)| *id)
            .collect();
        for peer in late {
            tracing::info!(peer = %peer, "no Status within 20 s; disconnecting");
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        let missing: Vec<Multiaddr> = self
            .static_peers
            .iter()
            .filter(|(id, _)| !self.peers.contains_key(id) && !self.banned.contains_key(id))
            .map(|(_, a)| a.clone())
            .collect();
        for addr in missing {
            let _ = self.swarm.dial(addr);
        }
        if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
            if self.peers.len() < usize::try_from(self.config.max_peers).unwrap_or(usize::MAX) {
                let _ = kad.bootstrap();
            }
        }
        self.save_peers();
        self.start_best_sync();
        self.publish_sync();
    }

    fn save_peers(&self) {
        let known: Vec<(PeerId, Vec<Multiaddr>)> = self
            .peers
            .iter()
            .filter(|(_, p)| !p.inbound && p.status.is_some())
            .map(|(id, p)| (*id, vec![p.remote.clone()]))
            .collect();
        if known.is_empty() {
            return;
        }
        if let Err(e) = crate::key::save_peers(&self.config.peers_file, &known) {
            tracing::warn!(error = %e, "saving known peers");
        }
    }
}
