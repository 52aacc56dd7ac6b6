//! `scion-regtest`: the in-process Bitcoin regtest stand-in of the tests, as a process that
//! answers Bitcoin Core's JSON-RPC subset the federator uses (user and password `scion`), for
//! `scripts/localnet.sh` on machines without bitcoind. It mines a block every
//! `--block-secs` seconds (default 10) and prints its URL with credentials.

use std::time::Duration;

fn main() {
    let mut block_secs = 10u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next().and_then(|v| v.parse().ok())) {
            ("--block-secs", Some(n)) if n > 0 => block_secs = n,
            _ => {
                eprintln!("usage: scion-regtest [--block-secs N]");
                std::process::exit(2);
            }
        }
    }
    let btc = scion_e2e::bitcoind::Bitcoind::start();
    let (user, pass) = btc.rpc_user_pass();
    let url = btc
        .url()
        .replacen("http://", &format!("http://{user}:{pass}@"), 1);
    println!("{url}");
    loop {
        std::thread::sleep(Duration::from_secs(block_secs));
        btc.mine(1);
    }
}
