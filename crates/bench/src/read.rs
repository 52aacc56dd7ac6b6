//! The read workload: eth_call (an ERC-20's balanceOf, or a contract that reads a storage
//! slot) or eth_getBalance, from N keep-alive connections for a duration. The requests go over a minimal
//! HTTP/1.1 client that writes one pre-encoded request and reads one reply, so that the load
//! tool, which shares the machine with the node, spends as little CPU per request as it can.

use crate::{hex_u, load, token_init, ReadArgs, DEV_KEY0, TOKEN_SUPPLY};
use alloy_primitives::hex;
use alloy_signer_local::PrivateKeySigner;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Init code that stores 42 in slot 0 and deploys `PUSH1 0 SLOAD PUSH1 0 MSTORE PUSH1 32
/// PUSH1 0 RETURN`: every eth_call reads a storage slot, as balanceOf does.
const SLOT_READER_INIT: &str = "0x602a600055600b6011600039600b6000f360005460005260206000f3";

/// Runs the read workload and prints requests per second and latency percentiles.
pub(crate) async fn read(args: ReadArgs) -> eyre::Result<()> {
    eyre::ensure!(
        matches!(args.method.as_str(), "call" | "balance"),
        "--method must be call or balance, not {}",
        args.method
    );
    eyre::ensure!(
        args.erc20.is_none() || args.method == "call",
        "--erc20 goes with --method call"
    );
    let setup: HttpClient = HttpClientBuilder::default().build(&args.rpc)?;
    let key: PrivateKeySigner = DEV_KEY0.parse()?;
    let (method, params) = if args.method == "call" {
        let pricing = load::pricing(&setup).await?;
        // balanceOf(deployer) on the token, or the slot reader with empty calldata.
        let (init, input, expect) = match &args.erc20 {
            Some(path) => {
                let mut input = hex!("70a08231").to_vec();
                input.extend_from_slice(key.address().into_word().as_slice());
                (token_init(path)?, input, TOKEN_SUPPLY)
            }
            None => (hex::decode(SLOT_READER_INIT)?.into(), Vec::new(), 42),
        };
        let contract = load::deploy(&setup, &key, pricing, init).await?;
        let call = serde_json::json!({"to": contract, "input": hex::encode_prefixed(&input)});
        let out: Value = setup
            .request("eth_call", rpc_params![call.clone(), "latest"])
            .await?;
        eyre::ensure!(hex_u(&out)? == expect, "the call returned {out}");
        ("eth_call", serde_json::json!([call, "latest"]))
    } else {
        (
            "eth_getBalance",
            serde_json::json!([key.address(), "latest"]),
        )
    };
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        // One keep-alive connection per worker, posting the same request over and over.
        let mut conn = RawConn::connect(&args.rpc, &body.to_string()).await?;
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                conn.round_trip().await?;
                lat.push(t.elapsed());
            }
            Ok::<_, eyre::Report>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len().max(1) - 1) as f64 * p) as usize)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    println!(
        "{}: eth_{} at {} connections: {} requests in {}s, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
        args.label,
        if args.method == "call" {
            "call"
        } else {
            "getBalance"
        },
        args.concurrency,
        all.len(),
        args.seconds,
        all.len() as f64 / args.seconds as f64,
        pct(0.50),
        pct(0.99)
    );
    Ok(())
}

/// One keep-alive HTTP/1.1 connection that posts the same JSON-RPC request each round trip.
struct RawConn {
    stream: TcpStream,
    request: Vec<u8>,
    buf: Vec<u8>,
}

impl RawConn {
    /// Connects to `url` (`http://host:port[/path]`) to post `body`.
    async fn connect(url: &str, body: &str) -> eyre::Result<Self> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| eyre::eyre!("read mode needs an http:// URL, got {url}"))?;
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let stream = TcpStream::connect(host).await?;
        stream.set_nodelay(true)?;
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
        Ok(Self {
            stream,
            request,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends the request and reads the whole reply; fails on anything but a 200 carrying a
    /// JSON-RPC result.
    async fn round_trip(&mut self) -> eyre::Result<()> {
        self.stream.write_all(&self.request).await?;
        self.buf.clear();
        let mut chunk = [0u8; 4096];
        let (head_end, body_len) = loop {
            let n = self.stream.read(&mut chunk).await?;
            eyre::ensure!(n > 0, "the server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end])?;
                eyre::ensure!(
                    head.starts_with("HTTP/1.1 200"),
                    "HTTP error: {}",
                    head.lines().next().unwrap_or("")
                );
                let len = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .ok_or_else(|| eyre::eyre!("a reply without Content-Length: {head}"))?;
                break (end + 4, len);
            }
        };
        while self.buf.len() < head_end + body_len {
            let n = self.stream.read(&mut chunk).await?;
            eyre::ensure!(n > 0, "the server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
        let body = &self.buf[head_end..head_end + body_len];
        eyre::ensure!(
            find(body, b"\"result\"").is_some(),
            "no result: {}",
            String::from_utf8_lossy(body)
        );
        Ok(())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
