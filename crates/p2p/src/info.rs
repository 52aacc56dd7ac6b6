//! Keeping the state the RPC reads (`NetInfo`) current: peers, bans, sync progress.

use crate::service::Service;
use crate::{PeerInfo, PeerNetwork, SyncProgress};
use libp2p::PeerId;
use std::collections::HashSet;

impl Service {
    /// Refreshes the peer list the RPC reads.
    pub(crate) fn publish_info(&self) {
        let statics: HashSet<PeerId> = self.static_peers.iter().map(|(id, _)| *id).collect();
        let gossip = &self.swarm.behaviour().gossipsub;
        let peers = self
            .peers
            .iter()
            .filter_map(|(id, p)| {
                let s = p.status.as_ref()?;
                Some(PeerInfo {
                    id: id.to_string(),
                    name: p.agent.clone(),
                    network: PeerNetwork {
                        local_address: p.local.to_string(),
                        remote_address: p.remote.to_string(),
                        inbound: p.inbound,
                        is_static: statics.contains(id),
                    },
                    protocols: serde_json::json!({
                        "scion": {
                            "version": s.version,
                            "head": s.head,
                            "number": s.number,
                            "totalDifficulty": s.total_difficulty,
                            "gossipScore": gossip.peer_score(id),
                        }
                    }),
                })
            })
            .collect();
        self.info.write().peers = peers;
    }

    pub(crate) fn publish_bans(&self) {
        self.info.write().banned = self
            .banned
            .iter()
            .map(|(id, reason)| crate::Banned {
                id: id.to_string(),
                reason: reason.clone(),
            })
            .collect();
    }

    pub(crate) fn publish_sync(&self) {
        let progress = self.sync.range().map(|(start, highest)| SyncProgress {
            starting_block: start,
            current_block: self.chain.head().number,
            highest_block: highest,
        });
        self.info.write().syncing = progress;
    }
}
