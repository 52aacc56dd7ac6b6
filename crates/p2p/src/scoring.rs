//! Gossipsub's own peer scoring (NETWORK.md, "Peers, limits, scores"): what the router weighs
//! when it builds meshes and decides whose gossip to hear. Invalid messages cost the most
//! (their counter is squared); steady first deliveries and time in the mesh earn a little;
//! mesh-delivery rates are not scored, since blocks arrive as miners find them and a quiet
//! network must not look like a lazy peer. Bans stay with the application's score
//! (`peers.rs`); this score only shapes the mesh.
//!
//! Many peers behind one IP draw gossipsub's colocation penalty, except loopback, where every
//! local test network and `scripts/localnet.sh` lives.

use libp2p::gossipsub::{PeerScoreParams, PeerScoreThresholds, TopicHash, TopicScoreParams};
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// Peers one IP may have before the colocation penalty applies (outside loopback).
pub const COLOCATION_THRESHOLD: f64 = 3.0;

fn topic(weight: f64, first_delivery: f64, invalid: f64) -> TopicScoreParams {
    TopicScoreParams {
        topic_weight: weight,
        time_in_mesh_weight: 0.1,
        time_in_mesh_quantum: Duration::from_secs(1),
        time_in_mesh_cap: 100.0,
        first_message_deliveries_weight: first_delivery,
        first_message_deliveries_decay: 0.9,
        first_message_deliveries_cap: 20.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: invalid,
        // About a minute's half-life at one decay per second.
        invalid_message_deliveries_decay: 0.99,
        ..TopicScoreParams::default()
    }
}

/// The scoring parameters for the block and transaction topics.
pub fn params(blocks: TopicHash, txs: TopicHash) -> PeerScoreParams {
    let topics = HashMap::from([
        (blocks, topic(1.0, 1.0, -100.0)),
        (txs, topic(0.5, 0.1, -10.0)),
    ]);
    PeerScoreParams {
        topics,
        topic_score_cap: 50.0,
        // The application's faults ban through `peers.rs`, not through this score.
        app_specific_weight: 0.0,
        ip_colocation_factor_weight: -10.0,
        ip_colocation_factor_threshold: COLOCATION_THRESHOLD,
        ip_colocation_factor_whitelist: HashSet::from([
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ]),
        behaviour_penalty_weight: -10.0,
        behaviour_penalty_threshold: 6.0,
        behaviour_penalty_decay: 0.9,
        ..PeerScoreParams::default()
    }
}

/// Below `gossip` a peer's IHAVE/IWANT gossip is ignored, below `publish` we do not publish to
/// it, below `graylist` its messages are dropped unread.
pub fn thresholds() -> PeerScoreThresholds {
    PeerScoreThresholds {
        gossip_threshold: -50.0,
        publish_threshold: -100.0,
        graylist_threshold: -200.0,
        accept_px_threshold: 10.0,
        opportunistic_graft_threshold: 5.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_accepted_by_gossipsub() {
        let p = params(TopicHash::from_raw("b"), TopicHash::from_raw("t"));
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(thresholds().validate(), Ok(()));
        assert!(p
            .ip_colocation_factor_whitelist
            .contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)));
    }
}
