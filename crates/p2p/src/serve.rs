//! Serving headers and bodies from the store. These run on `spawn_blocking`, never on the
//! swarm's task; responses stop at the soft size limits (always holding at least one item).

use crate::wire::{
    Body, Code, HeadersRequest, Response, BODIES_SOFT_LIMIT, HEADERS_SOFT_LIMIT, MAX_HEADERS,
};
use alloy_eips::HashOrNumber;
use alloy_primitives::B256;
use alloy_rlp::Encodable;
use scion_chain::Chain;
use scion_types::Header;

/// Headers for a request: by hash or canonical number, every `skip + 1`, either direction.
/// Walking back one at a time follows parent links (so a side branch can be fetched); every
/// other walk follows the canonical chain.
pub fn headers(chain: &Chain, req: &HeadersRequest) -> Response {
    if req.max == 0 || req.max > MAX_HEADERS {
        return Response::Refused(Code::BadRequest);
    }
    match read_headers(chain, req) {
        Ok(h) => Response::Headers(h),
        Err(e) => {
            tracing::warn!(error = %e, "serving headers");
            Response::Refused(Code::ServerError)
        }
    }
}

fn read_headers(
    chain: &Chain,
    req: &HeadersRequest,
) -> Result<Vec<Header>, scion_chain::ChainError> {
    let store = chain.store();
    let head = chain.head().number;
    let first = match req.start {
        HashOrNumber::Hash(h) => store.header(h)?,
        HashOrNumber::Number(n) => match chain.canonical_hash(n)? {
            Some(h) => store.header(h)?,
            None => None,
        },
    };
    let Some(first) = first else {
        return Ok(vec![]);
    };
    let step = req.skip.saturating_add(1);
    let mut out = Vec::new();
    let mut size = 0usize;
    let mut current = first;
    loop {
        size = size.saturating_add(current.length());
        let number = current.number;
        out.push(current);
        if u64::try_from(out.len()).unwrap_or(u64::MAX) >= req.max || size >= HEADERS_SOFT_LIMIT {
            break;
        }
        let next = if req.reverse && step == 1 {
            // Follow the parent, so a branch off the canonical chain walks back along itself.
            match out.last() {
                Some(h) if number > 0 => store.header(h.parent_hash)?,
                _ => None,
            }
        } else {
            let n = if req.reverse {
                number.checked_sub(step)
            } else {
                number.checked_add(step).filter(|n| *n <= head)
            };
            match n {
                Some(n) => match chain.canonical_hash(n)? {
                    Some(h) => store.header(h)?,
                    None => None,
                },
                None => None,
            }
        };
        match next {
            Some(h) => current = h,
            None => break,
        }
    }
    Ok(out)
}

/// Bodies of the asked blocks, in order, stopping at the first one the store lacks.
pub fn bodies(chain: &Chain, hashes: &[B256]) -> Response {
    let mut out = Vec::new();
    let mut size = 0usize;
    for hash in hashes {
        match chain.store().block(*hash) {
            Ok(Some(b)) => {
                let body = Body {
                    transactions: b.transactions,
                    uncles: b.uncles,
                };
                size = size.saturating_add(body.length());
                out.push(body);
                if size >= BODIES_SOFT_LIMIT {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, "serving bodies");
                return Response::Refused(Code::ServerError);
            }
        }
    }
    Response::Bodies(out)
}
