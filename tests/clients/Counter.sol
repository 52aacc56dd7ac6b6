// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @notice The contract the client tests deploy: storage, an event and a custom error.
contract Counter {
    uint256 public count;

    event Incremented(address indexed by, uint256 count);

    error TooBig(uint256 requested, uint256 max);

    function increment(uint256 by) external {
        if (by > 100) revert TooBig(by, 100);
        count += by;
        emit Incremented(msg.sender, count);
    }
}
