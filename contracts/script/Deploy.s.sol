// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ScionToken} from "../src/ScionToken.sol";

/// @dev The two cheatcodes a broadcast script needs (forge-std's Vm, without the library).
interface Vm {
    function startBroadcast() external;
    function stopBroadcast() external;
}

/// @notice `forge script script/Deploy.s.sol --broadcast`: deploys the token and makes a transfer.
contract Deploy {
    bool public IS_SCRIPT = true;
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    function run() external returns (ScionToken token) {
        vm.startBroadcast();
        token = new ScionToken(1_000_000e18);
        token.transfer(0x70997970C51812dc3A010C7d01b50e0d17dc79C8, 42);
        vm.stopBroadcast();
    }
}
