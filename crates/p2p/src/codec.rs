//! Framing of the request/response protocols: an unsigned LEB128 length, then the RLP payload;
//! responses put a [`Code`] byte before their payload. Lengths are checked against each
//! protocol's cap before anything is allocated.

use crate::wire::{
    Body, Code, HeadersRequest, Request, Response, Status, BODIES_HARD_LIMIT, HEADERS_HARD_LIMIT,
    MAX_BODIES, MAX_REQUEST_SIZE, MAX_STATUS_SIZE,
};
use alloy_primitives::B256;
use alloy_rlp::{Decodable, Encodable};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use scion_types::Header;
use std::io;

/// Which of the three request/response protocols a stream speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/status/1`.
    Status,
    /// `/headers/1`.
    Headers,
    /// `/bodies/1`.
    Bodies,
}

impl Kind {
    /// The last part of its protocol id.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Status => "status/1",
            Kind::Headers => "headers/1",
            Kind::Bodies => "bodies/1",
        }
    }

    fn of(protocol: &StreamProtocol) -> io::Result<Self> {
        let p = protocol.as_ref();
        [Kind::Status, Kind::Headers, Kind::Bodies]
            .into_iter()
            .find(|k| p.ends_with(k.name()))
            .ok_or_else(|| invalid(format!("unknown protocol {p}")))
    }

    fn response_cap(self) -> usize {
        match self {
            Kind::Status => MAX_STATUS_SIZE,
            Kind::Headers => HEADERS_HARD_LIMIT,
            Kind::Bodies => BODIES_HARD_LIMIT,
        }
    }
}

/// The codec of all three protocols; the negotiated protocol says which messages it carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct Codec;

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Reads one length-prefixed frame of at most `cap` bytes.
async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, cap: usize) -> io::Result<Vec<u8>> {
    let len = unsigned_varint::aio::read_usize(&mut *io)
        .await
        .map_err(|e| match e {
            // A stream closed before any answer is a peer that did not answer, not one that
            // sent something undecodable.
            unsigned_varint::io::ReadError::Io(e) => e,
            e => invalid(format!("frame length: {e}")),
        })?;
    if len > cap {
        return Err(invalid(format!("frame of {len} bytes, at most {cap}")));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    Ok(buf)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, payload: &[u8]) -> io::Result<()> {
    let mut len = unsigned_varint::encode::usize_buffer();
    io.write_all(unsigned_varint::encode::usize(payload.len(), &mut len))
        .await?;
    io.write_all(payload).await?;
    io.close().await
}

/// Decodes exactly one RLP item, refusing trailing bytes.
pub(crate) fn decode_exact<D: Decodable>(mut bytes: &[u8], what: &str) -> io::Result<D> {
    let value = D::decode(&mut bytes).map_err(|e| invalid(format!("{what}: {e}")))?;
    if !bytes.is_empty() {
        return Err(invalid(format!("{what}: {} trailing bytes", bytes.len())));
    }
    Ok(value)
}

/// The request's payload bytes.
pub fn encode_request(req: &Request) -> Vec<u8> {
    let mut out = Vec::new();
    match req {
        Request::Status(s) => s.encode(&mut out),
        Request::Headers(h) => h.encode(&mut out),
        Request::Bodies(hashes) => hashes.encode(&mut out),
        // Never sent: it stands for what a peer sent that could not be read.
        Request::Malformed(_) => {}
    }
    out
}

/// Decodes a request payload of the given protocol.
pub fn decode_request(kind: Kind, bytes: &[u8]) -> io::Result<Request> {
    Ok(match kind {
        Kind::Status => Request::Status(decode_exact::<Status>(bytes, "status")?),
        Kind::Headers => {
            Request::Headers(decode_exact::<HeadersRequest>(bytes, "headers request")?)
        }
        Kind::Bodies => {
            let hashes = decode_exact::<Vec<B256>>(bytes, "bodies request")?;
            if hashes.len() > MAX_BODIES {
                return Err(invalid(format!(
                    "{} bodies asked, at most {MAX_BODIES}",
                    hashes.len()
                )));
            }
            Request::Bodies(hashes)
        }
    })
}

/// The response's payload bytes (code byte first).
pub fn encode_response(resp: &Response) -> Vec<u8> {
    let mut out = Vec::new();
    match resp {
        Response::Refused(code) => out.push(code.byte()),
        Response::Status(s) => {
            out.push(Code::Ok.byte());
            s.encode(&mut out);
        }
        Response::Headers(h) => {
            out.push(Code::Ok.byte());
            h.encode(&mut out);
        }
        Response::Bodies(b) => {
            out.push(Code::Ok.byte());
            b.encode(&mut out);
        }
    }
    out
}

/// Decodes a response payload of the given protocol.
pub fn decode_response(kind: Kind, bytes: &[u8]) -> io::Result<Response> {
    let (&code, rest) = bytes
        .split_first()
        .ok_or_else(|| invalid("empty response".into()))?;
    let code = Code::from_byte(code).ok_or_else(|| invalid(format!("response code {code}")))?;
    if code != Code::Ok {
        return Ok(Response::Refused(code));
    }
    Ok(match kind {
        Kind::Status => Response::Status(decode_exact::<Status>(rest, "status")?),
        Kind::Headers => Response::Headers(decode_exact::<Vec<Header>>(rest, "headers")?),
        Kind::Bodies => Response::Bodies(decode_exact::<Vec<Body>>(rest, "bodies")?),
    })
}

impl libp2p::request_response::Codec for Codec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Response;

    async fn read_request<T>(
        &mut self,
        protocol: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        let kind = Kind::of(protocol)?;
        let cap = if kind == Kind::Status {
            MAX_STATUS_SIZE
        } else {
            MAX_REQUEST_SIZE
        };
        // libp2p drops a request whose read fails without telling the behaviour, so bad
        // data comes through as `Malformed`, for the node to answer and to penalise.
        let read = match read_frame(io, cap).await {
            Ok(frame) => decode_request(kind, &frame),
            Err(e) => Err(e),
        };
        match read {
            Ok(r) => Ok(r),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                Ok(Request::Malformed(e.to_string()))
            }
            Err(e) => Err(e),
        }
    }

    async fn read_response<T>(
        &mut self,
        protocol: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        let kind = Kind::of(protocol)?;
        let frame = read_frame(io, kind.response_cap().saturating_add(1)).await?;
        decode_response(kind, &frame)
    }

    async fn write_request<T>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
        req: Request,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &encode_request(&req)).await
    }

    async fn write_response<T>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
        resp: Response,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &encode_response(&resp)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::STATUS_VERSION;
    use alloy_primitives::{FixedBytes, U256};
    use futures::executor::block_on;

    fn status() -> Status {
        Status {
            version: STATUS_VERSION,
            chain_id: 7773,
            genesis: B256::repeat_byte(1),
            head: B256::repeat_byte(2),
            number: 5,
            total_difficulty: U256::from(99u64),
            fork_id: FixedBytes::ZERO,
        }
    }

    #[test]
    fn frames_round_trip() {
        let proto = StreamProtocol::new("/scion/7773-00000000/status/1");
        let mut codec = Codec;
        let mut buf = Vec::new();
        block_on(libp2p::request_response::Codec::write_response(
            &mut codec,
            &proto,
            &mut futures::io::Cursor::new(&mut buf),
            Response::Status(status()),
        ))
        .expect("write");
        let read = block_on(libp2p::request_response::Codec::read_response(
            &mut codec,
            &proto,
            &mut futures::io::Cursor::new(&buf),
        ))
        .expect("read");
        assert_eq!(read, Response::Status(status()));
    }

    #[test]
    fn an_oversized_length_is_refused_before_reading_the_payload() {
        let proto = StreamProtocol::new("/scion/7773-00000000/status/1");
        let mut frame = Vec::new();
        let mut len = unsigned_varint::encode::usize_buffer();
        frame.extend_from_slice(unsigned_varint::encode::usize(1 << 30, &mut len));
        let err = block_on(libp2p::request_response::Codec::read_request(
            &mut Codec,
            &proto,
            &mut futures::io::Cursor::new(&frame),
        ))
        .expect("read as malformed");
        match err {
            Request::Malformed(why) => assert!(why.contains("at most 1024"), "{why}"),
            other => panic!("a 1 GiB status must be refused, got {other:?}"),
        }
    }

    #[test]
    fn a_bodies_request_over_the_count_cap_is_refused() {
        let hashes = vec![B256::ZERO; MAX_BODIES + 1];
        let bytes = encode_request(&Request::Bodies(hashes));
        let err = decode_request(Kind::Bodies, &bytes).expect_err("129 hashes");
        assert!(err.to_string().contains("at most 128"), "{err}");
        let ok = encode_request(&Request::Bodies(vec![B256::ZERO; MAX_BODIES]));
        assert!(decode_request(Kind::Bodies, &ok).is_ok());
    }

    #[test]
    fn a_closed_stream_is_no_answer_not_bad_data() {
        let proto = StreamProtocol::new("/scion/7773-00000000/status/1");
        let err = block_on(libp2p::request_response::Codec::read_response(
            &mut Codec,
            &proto,
            &mut futures::io::Cursor::new(Vec::<u8>::new()),
        ))
        .expect_err("nothing to read");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        // A length that never ends is bad data.
        let err = block_on(libp2p::request_response::Codec::read_response(
            &mut Codec,
            &proto,
            &mut futures::io::Cursor::new(vec![0xffu8; 11]),
        ))
        .expect_err("an 11-byte varint");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn refusals_and_trailing_bytes() {
        let bytes = encode_response(&Response::Refused(Code::RateLimited));
        assert_eq!(
            decode_response(Kind::Headers, &bytes).ok(),
            Some(Response::Refused(Code::RateLimited))
        );
        let mut bytes = encode_response(&Response::Status(status()));
        bytes.push(0);
        let err = decode_response(Kind::Status, &bytes).expect_err("trailing byte");
        assert!(err.to_string().contains("trailing"), "{err}");
        assert!(decode_response(Kind::Status, &[9]).is_err());
    }
}
