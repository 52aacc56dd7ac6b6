//! Helpers for Scion's end-to-end tests: the `scion` binary and the external tools, nodes
//! started as real processes, and a plain HTTP/1.1 JSON-RPC client that can also send
//! malformed requests.

pub mod bitcoind;
pub mod btc;
pub mod net;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Dev account 0 of the test mnemonic (funded in the dev genesis).
pub const DEV_KEY0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// Its address.
pub const DEV_ADDR0: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
/// Dev account 1's address.
pub const DEV_ADDR1: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `scion` binary of this build: it stands beside the test executable's `deps/` folder.
/// The test command builds it before the tests run (`cargo build --bins`); `SCION_BIN`
/// overrides it. No test runs cargo itself.
pub fn scion_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("SCION_BIN") {
        return p.into();
    }
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable lies in <target>/<profile>/deps");
    let bin = profile_dir.join(format!("scion{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build --workspace --bins --locked` \
         (scripts/test.sh does)",
        bin.display()
    );
    bin
}

/// An external tool installed by scripts/install-tools.sh (forge, cast, anvil).
pub fn tool(name: &str) -> PathBuf {
    let p = root().join("tools/node_modules/.bin").join(name);
    assert!(
        p.exists(),
        "{} is missing: run scripts/install-tools.sh",
        p.display()
    );
    p
}

/// `text` without ANSI colour sequences (`ESC [ … m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The JSON-RPC address a node logged as it started (`JSON-RPC listening … url=http://…`).
pub fn logged_rpc_addr(log: &Path) -> Option<SocketAddr> {
    let text = std::fs::read_to_string(log).ok()?;
    let line = text.lines().find(|l| l.contains("JSON-RPC listening"))?;
    let at = line.find("http://")? + "http://".len();
    let addr: String = line[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
        .collect();
    addr.parse().ok()
}

/// A `scion node --dev` process.
pub struct NodeProcess {
    /// The child process.
    pub child: Child,
    /// Its JSON-RPC address.
    pub addr: SocketAddr,
    /// Its log (stdout and stderr).
    pub log: PathBuf,
}

impl NodeProcess {
    /// Starts a dev node on `datadir` on a port the node picks itself, and waits until it
    /// answers. The address comes from the node's own log line, so no other process can take
    /// the port in between.
    pub fn start(datadir: &Path, extra: &[&str]) -> Self {
        let log_path = datadir.with_extension("log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut child = Command::new(scion_bin())
            .args(["node", "--dev", "--http.port", "0", "--datadir"])
            .arg(datadir)
            .args(extra)
            // The harness reads the node's address from its info lines, whatever the caller's
            // RUST_LOG says.
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("starting scion");
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(addr) = logged_rpc_addr(&log_path) {
                if let Ok((_, body)) =
                    post(addr, r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}"#)
                {
                    if body.contains("result") {
                        return Self {
                            child,
                            addr,
                            log: log_path,
                        };
                    }
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("scion exited with {status} before serving:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "scion did not start serving within 60 s (log: {})",
            log_path.display()
        );
    }

    /// The peer-to-peer address the node logged (`/ip4/…/tcp/…/p2p/<peer id>`), once it has.
    pub fn p2p_addr(&self) -> Option<String> {
        let text = std::fs::read_to_string(&self.log).ok()?;
        let plain = strip_ansi(&text);
        let line = plain.lines().find(|l| l.contains("p2p listening"))?;
        let at = line.find("address=")? + "address=".len();
        line[at..].split_whitespace().next().map(str::to_string)
    }

    /// The HTTP URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends SIGKILL and waits for the process to be gone.
    pub fn kill9(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("wait");
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs `body` to `/` and returns the HTTP status and the response body.
pub fn post(addr: SocketAddr, body: &str) -> std::io::Result<(u16, String)> {
    post_with(addr, body, "").map(|(status, _, body)| (status, body))
}

/// POSTs `body` with extra header lines (each ending in CRLF); returns the status, the
/// response head and the body.
pub fn post_with(
    addr: SocketAddr,
    body: &str,
    headers: &str,
) -> std::io::Result<(u16, String, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n",
        body.len()
    );
    s.write_all(req.as_bytes())?;
    s.write_all(body.as_bytes())?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let text = String::from_utf8_lossy(&resp).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Ok((status, head.to_string(), body))
}

fn dechunk(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

/// Calls a method and returns the whole response object.
pub fn rpc_raw(addr: SocketAddr, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let (_, resp) = post(addr, &body).expect("HTTP request");
    serde_json::from_str(&resp).unwrap_or_else(|e| panic!("bad JSON from {method}: {e}: {resp}"))
}

/// Calls a method and returns its result, failing on an error.
pub fn rpc(addr: SocketAddr, method: &str, params: Value) -> Value {
    let v = rpc_raw(addr, method, params);
    match v.get("result") {
        Some(r) => r.clone(),
        None => panic!("{method} failed: {v}"),
    }
}

/// Parses a hex quantity.
pub fn quantity(v: &Value) -> u128 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a quantity: {v}"));
    u128::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or_else(|_| panic!("not hex: {s}"))
}

/// Runs a command, returning trimmed stdout; panics with its output on failure.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert!(out.status.success(), "{cmd:?} failed:\n{stdout}\n{stderr}");
    stdout
}

/// Polls for a transaction's receipt.
pub fn wait_receipt(addr: SocketAddr, hash: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let r = rpc(addr, "eth_getTransactionReceipt", json!([hash]));
        if !r.is_null() {
            return r;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no receipt for {hash}");
}
