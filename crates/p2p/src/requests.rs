//! The request/response protocols on the swarm's task: requests served (Status at once,
//! headers and bodies on `spawn_blocking`), answers handed to the sync, and failures.

use crate::codec::Kind;
use crate::peers::Fault;
use crate::service::{Service, Work};
use crate::wire::{self, Request, Response};
use libp2p::request_response::{self, OutboundFailure, OutboundRequestId};
use libp2p::PeerId;
use std::time::Instant;

impl Service {
    pub(crate) fn on_rr(&mut self, kind: Kind, event: request_response::Event<Request, Response>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => self.on_request(peer, kind, request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => self.on_response(peer, kind, request_id, response),
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                // A failed request of the sync peer stops the sync; a helper's piece goes to
                // another peer.
                self.sync_request_failed(peer, kind, request_id);
                self.on_request_failed(peer, kind, error);
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                if let request_response::InboundFailure::Io(e) = &error {
                    if e.kind() == std::io::ErrorKind::InvalidData {
                        self.penalise(
                            peer,
                            Fault::Fatal,
                            format!("undecodable {} request: {e}", kind.name()),
                        );
                    }
                }
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_request_failed(&mut self, peer: PeerId, kind: Kind, error: OutboundFailure) {
        match error {
            OutboundFailure::UnsupportedProtocols => {
                // Another network (or not a Scion node): drop, never ban.
                tracing::info!(peer = %peer, "peer speaks another network's protocols; disconnecting");
                self.drop_other_network(peer);
            }
            OutboundFailure::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                self.penalise(
                    peer,
                    Fault::Fatal,
                    format!("undecodable {} response: {e}", kind.name()),
                );
            }
            OutboundFailure::Timeout => {
                self.penalise(
                    peer,
                    Fault::Mid,
                    format!("{} request timed out", kind.name()),
                );
            }
            other => {
                tracing::debug!(peer = %peer, error = %other, "request failed");
            }
        }
    }

    fn on_request(
        &mut self,
        peer: PeerId,
        kind: Kind,
        request: Request,
        channel: request_response::ResponseChannel<Response>,
    ) {
        if let Request::Malformed(why) = request {
            self.respond(kind, channel, Response::Refused(wire::Code::BadRequest));
            self.penalise(
                peer,
                Fault::Fatal,
                format!("malformed {} request: {why}", kind.name()),
            );
            return;
        }
        let now = Instant::now();
        let allowed = self.peers.get_mut(&peer).is_some_and(|p| match kind {
            Kind::Status => p.quotas.status.take(now),
            Kind::Headers => p.quotas.headers.take(now),
            Kind::Bodies => p.quotas.bodies.take(now),
        });
        if !allowed {
            self.respond(kind, channel, Response::Refused(wire::Code::RateLimited));
            self.penalise(
                peer,
                Fault::High,
                format!("{} requests over quota", kind.name()),
            );
            return;
        }
        match request {
            Request::Status(s) => {
                let ours = self.our_status();
                self.respond(kind, channel, Response::Status(ours));
                self.on_status(peer, s);
            }
            Request::Headers(req) => {
                let chain = self.chain.clone();
                let work = self.work.clone();
                tokio::task::spawn_blocking(move || {
                    let resp = crate::serve::headers(&chain, &req);
                    let _ = work.send(Work::Respond(kind, channel, resp));
                });
            }
            Request::Malformed(_) => {}
            Request::Bodies(hashes) => {
                let chain = self.chain.clone();
                let work = self.work.clone();
                tokio::task::spawn_blocking(move || {
                    let resp = crate::serve::bodies(&chain, &hashes);
                    let _ = work.send(Work::Respond(kind, channel, resp));
                });
            }
        }
    }

    pub(crate) fn respond(
        &mut self,
        kind: Kind,
        channel: request_response::ResponseChannel<Response>,
        resp: Response,
    ) {
        let b = self.swarm.behaviour_mut();
        let rr = match kind {
            Kind::Status => &mut b.status,
            Kind::Headers => &mut b.headers,
            Kind::Bodies => &mut b.bodies,
        };
        // Fails only when the peer is gone.
        let _ = rr.send_response(channel, resp);
    }

    fn sync_request_failed(&mut self, peer: PeerId, kind: Kind, id: OutboundRequestId) {
        let bodies = kind == Kind::Bodies;
        if let Some(actions) = self.sync.on_failed(&self.chain, peer, id, bodies) {
            self.act(actions);
            if !self.sync.is_running() {
                self.start_best_sync();
            }
        }
    }

    fn on_response(&mut self, peer: PeerId, kind: Kind, id: OutboundRequestId, response: Response) {
        let actions = match response {
            Response::Status(s) => {
                self.on_status(peer, s);
                return;
            }
            Response::Headers(h) => self.sync.on_headers(&self.chain, peer, id, h),
            Response::Bodies(b) => self.sync.on_bodies(&self.chain, peer, id, b),
            Response::Refused(code) => {
                tracing::debug!(peer = %peer, ?code, "request refused");
                self.sync_request_failed(peer, kind, id);
                return;
            }
        };
        self.act(actions);
    }
}
