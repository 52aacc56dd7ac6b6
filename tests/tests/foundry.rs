//! Foundry against a real `scion node --dev`: forge deploys an OpenZeppelin ERC-20, cast sends
//! transfers as EIP-1559 and legacy transactions, and after kill -9 and a restart on the same
//! data directory, the block number, balances and the contract's code are all still there.

use scion_e2e::{root, run, tool, NodeProcess, DEV_ADDR0, DEV_ADDR1, DEV_KEY0};
use serde_json::Value;
use std::process::Command;

fn cast(args: &[&str]) -> String {
    run(Command::new(tool("cast")).args(args))
}

#[test]
fn forge_deploys_cast_transacts_and_everything_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("data");
    let node = NodeProcess::start(&datadir, &[]);
    let url = node.url();

    let contracts = root().join("contracts");
    let out = run(Command::new(tool("forge"))
        .current_dir(&contracts)
        .args([
            "create",
            "--broadcast",
            "--rpc-url",
            &url,
            "--private-key",
            DEV_KEY0,
        ])
        .args([
            "src/ScionToken.sol:ScionToken",
            "--constructor-args",
            "1000000000000000000000000",
        ]));
    println!("{out}");
    let token = out
        .lines()
        .find_map(|l| l.strip_prefix("Deployed to: "))
        .expect("forge printed the address")
        .trim()
        .to_string();

    // One transfer as EIP-1559 (cast's default), one legacy.
    for (extra, ty) in [(None, "0x2"), (Some("--legacy"), "0x0")] {
        let mut args = vec![
            "send",
            "--json",
            "--rpc-url",
            &url,
            "--private-key",
            DEV_KEY0,
        ];
        args.extend(extra);
        args.extend([
            token.as_str(),
            "transfer(address,uint256)",
            DEV_ADDR1,
            "1000",
        ]);
        let receipt: Value = serde_json::from_str(&cast(&args)).unwrap();
        assert_eq!(receipt["status"], "0x1", "{receipt}");
        assert_eq!(receipt["type"], ty, "{receipt}");
        assert_eq!(
            receipt["logs"].as_array().unwrap().len(),
            1,
            "Transfer event"
        );
    }
    let balance_of = |url: &str| {
        cast(&[
            "call",
            &token,
            "balanceOf(address)(uint256)",
            DEV_ADDR1,
            "--rpc-url",
            url,
        ])
    };
    assert_eq!(balance_of(&url), "2000");

    let block = cast(&["block-number", "--rpc-url", &url]);
    let eth = cast(&["balance", DEV_ADDR0, "--rpc-url", &url]);
    let code = cast(&["code", &token, "--rpc-url", &url]);
    assert!(code.len() > 1000, "deployed code: {code}");
    assert_eq!(block, "3", "deploy + two transfers, one block each");

    node.kill9();
    let node = NodeProcess::start(&datadir, &[]);
    let url = node.url();
    assert_eq!(cast(&["block-number", "--rpc-url", &url]), block);
    assert_eq!(cast(&["balance", DEV_ADDR0, "--rpc-url", &url]), eth);
    assert_eq!(cast(&["code", &token, "--rpc-url", &url]), code);
    assert_eq!(balance_of(&url), "2000");

    // And the chain goes on from where it was.
    let out = cast(&[
        "send",
        "--json",
        "--rpc-url",
        &url,
        "--private-key",
        DEV_KEY0,
        &token,
        "transfer(address,uint256)",
        DEV_ADDR1,
        "1",
    ]);
    let receipt: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(balance_of(&url), "2001");
}
