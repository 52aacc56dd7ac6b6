// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A plain OpenZeppelin ERC-20, used by the end-to-end tests and the quick start.
contract ScionToken is ERC20 {
    constructor(uint256 supply) ERC20("Scion Test Token", "SCT") {
        _mint(msg.sender, supply);
    }
}
