//! A full disk fails a commit with an error and loses nothing committed before it.
//!
//! Durable stores write pages through MDBX's memory map, where running out of disk would
//! otherwise end the process with SIGBUS. The test fills a small tmpfs, mounted in a private
//! mount namespace (`unshare`), so the rest of the machine never sees a full disk.
#![cfg(target_os = "linux")]

mod support;

use alloy_primitives::{keccak256, Address, U256};
use scion_storage::Store;
use scion_types::{AccountChange, AccountInfo, ChainSpec, StateChanges, KECCAK_EMPTY};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;
use support::commit_on_head;

const DIR_VAR: &str = "SCION_FULL_DISK_DIR";
const TEST: &str = "a_full_disk_fails_the_commit_and_keeps_what_was_committed";

fn addr(i: u64) -> Address {
    Address::from_slice(&keccak256(i.to_be_bytes())[12..])
}

/// Block `n` of the fill: 1,000 new accounts.
fn changes(n: u64) -> StateChanges {
    let mut c = StateChanges::default();
    for i in n * 1_000..(n + 1) * 1_000 {
        let change = AccountChange {
            info: Some(AccountInfo {
                nonce: 1,
                balance: U256::from(i + 1),
                code_hash: KECCAK_EMPTY,
                new_code: None,
            }),
            wiped: false,
            storage: Default::default(),
        };
        c.accounts.insert(addr(i), change);
    }
    c
}

/// Runs inside the namespace, on the small filesystem at `dir`.
fn fill_until_full(dir: &Path) {
    let store = Store::open(dir).expect("open");
    let mut spec = ChainSpec::dev();
    spec.alloc.clear();
    store.init_genesis(&spec).expect("genesis");
    let mut committed = 0;
    let err = loop {
        assert!(committed < 5_000, "the 160 MiB filesystem never filled");
        match commit_on_head(&store, &changes(committed)) {
            Ok(_) => committed += 1,
            Err(e) => break e,
        }
    };
    println!(
        "block {} refused after {committed} blocks: {err}",
        committed + 1
    );
    assert!(committed > 0, "no block fitted at all: {err}");
    assert!(
        err.to_string().contains("disk"),
        "the error should say the disk is full: {err}"
    );
    drop(store);

    // Everything acknowledged is there after reopening; nothing of the refused block is.
    let store = Store::open(dir).expect("reopen on a full disk");
    assert_eq!(store.head().expect("head").number, committed);
    let last = (committed - 1) * 1_000 + 999;
    let account = store.latest_account(addr(last)).expect("read");
    assert_eq!(account.map(|a| a.balance), Some(U256::from(last + 1)));
    assert_eq!(
        store.latest_account(addr(committed * 1_000)).expect("read"),
        None
    );
}

#[test]
fn a_full_disk_fails_the_commit_and_keeps_what_was_committed() {
    if let Ok(dir) = std::env::var(DIR_VAR) {
        fill_until_full(Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test binary");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false);
    let mut cmd = Command::new("unshare");
    if !root {
        cmd.arg("--map-root-user");
    }
    let status = cmd
        .args(["--mount", "sh", "-c"])
        .arg(r#"mount -t tmpfs -o size=160m scion-full-disk "$1" && exec "$2" --exact "$3" --nocapture"#)
        .args(["sh".as_ref(), dir.path().as_os_str(), exe.as_os_str(), TEST.as_ref()])
        .env(DIR_VAR, dir.path())
        .status()
        .expect("run unshare (util-linux)");
    assert_eq!(
        status.signal(),
        None,
        "the store was killed by signal {:?} on a full disk",
        status.signal()
    );
    assert!(
        status.success(),
        "the full-disk run failed: {status} (it needs `unshare --mount` and a tmpfs mount: root, \
         or unprivileged user namespaces; see its output above)"
    );
}
