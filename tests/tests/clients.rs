//! The clients people use, against a real `scion node --dev` process: ethers v6, viem 2,
//! web3.py, a Hardhat project, and forge script with EIP-1559 defaults. Each client script
//! (tests/clients/) exits non-zero on the first thing that does not work as it would on anvil.

use scion_e2e::{root, run, tool, NodeProcess, DEV_ADDR1, DEV_KEY0};
use std::path::{Path, PathBuf};
use std::process::Command;

fn clients() -> PathBuf {
    root().join("tests/clients")
}

/// Compiles tests/clients/Counter.sol into `dir`; returns the artifact's path.
fn artifact(dir: &Path) -> PathBuf {
    let out = dir.join("Counter.json");
    run(Command::new("node")
        .arg(clients().join("compile.cjs"))
        .arg(&out));
    out
}

fn node_script(script: &str) {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(&dir.path().join("data"), &[]);
    let art = artifact(dir.path());
    let out = run(Command::new("node")
        .arg(clients().join(script))
        .arg(node.url())
        .arg(&art));
    println!("{out}");
    assert!(
        out.lines().last().unwrap_or_default().ends_with(" ok"),
        "{out}"
    );
}

#[test]
fn ethers_v6_deploys_batches_filters_and_decodes_custom_errors() {
    node_script("ethers.mjs");
}

#[test]
fn viem_public_wallet_and_test_clients() {
    node_script("viem.mjs");
}

#[test]
fn web3_py_deploys_transacts_reads_logs_and_fee_history() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(&dir.path().join("data"), &[]);
    let art = artifact(dir.path());
    let python = root().join("tools/.venv/bin/python");
    assert!(
        python.exists(),
        "run scripts/install-tools.sh (tools/.venv)"
    );
    let out = run(Command::new(python)
        .arg(clients().join("web3_client.py"))
        .arg(node.url())
        .arg(&art));
    assert_eq!(out, "web3.py ok");
}

#[test]
fn a_hardhat_project_deploys_and_calls_a_contract() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(&dir.path().join("data"), &[]);
    let project = clients().join("hardhat");
    std::fs::create_dir_all(project.join("contracts")).unwrap();
    std::fs::copy(
        clients().join("Counter.sol"),
        project.join("contracts/Counter.sol"),
    )
    .unwrap();
    let cli = project.join("node_modules/hardhat/internal/cli/cli.js");
    assert!(
        cli.exists(),
        "run scripts/install-tools.sh (links tests/clients/hardhat/node_modules)"
    );
    let out = run(Command::new("node")
        .current_dir(&project)
        .env("SCION_RPC", node.url())
        .arg(cli)
        .args(["run", "scripts/deploy.cjs", "--network", "scion"]));
    assert!(out.contains("hardhat ok"), "{out}");
}

#[test]
fn forge_script_broadcasts_with_eip1559_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(&dir.path().join("data"), &[]);
    let url = node.url();
    let out = run(Command::new(tool("forge"))
        .current_dir(root().join("contracts"))
        .args([
            "script",
            "script/Deploy.s.sol",
            "--broadcast",
            "--rpc-url",
            &url,
            "--private-key",
            DEV_KEY0,
        ]));
    assert!(
        out.contains("ONCHAIN EXECUTION COMPLETE & SUCCESSFUL"),
        "{out}"
    );
    // The script's two transactions: a deploy and a transfer of 42, both EIP-1559.
    let block1: serde_json::Value = serde_json::from_str(&run(Command::new(tool("cast")).args([
        "block",
        "1",
        "--json",
        "--rpc-url",
        &url,
    ])))
    .unwrap();
    let tx = block1["transactions"][0].as_str().unwrap().to_string();
    let receipt: serde_json::Value = serde_json::from_str(&run(Command::new(tool("cast")).args([
        "receipt",
        &tx,
        "--json",
        "--rpc-url",
        &url,
    ])))
    .unwrap();
    assert_eq!(receipt["type"], "0x2");
    let token = receipt["contractAddress"].as_str().unwrap().to_string();
    let bal = run(Command::new(tool("cast")).args([
        "call",
        &token,
        "balanceOf(address)(uint256)",
        DEV_ADDR1,
        "--rpc-url",
        &url,
    ]));
    assert_eq!(bal, "42");
}
