//! The Bridge's Solidity ABI: Rootstock's signatures (checked against npm
//! `@rsksmart/rsk-precompiled-abis` in tests/tests/bridge.rs).

#![allow(missing_docs)]

alloy_sol_types::sol! {
    /// The Bridge methods Scion serves.
    interface IBridge {
        function registerBtcTransaction(bytes tx, int256 height, bytes pmt) external;
        function receiveHeaders(bytes[] blocks) external;
        function receiveHeader(bytes block) external returns (int256);
        function releaseBtc() external payable;
        function addSignature(bytes pubkey, bytes[] signatures, bytes txhash) external;
        function updateCollections() external;
        function getStateForBtcReleaseClient() external view returns (bytes);
        function getBtcBlockchainBestChainHeight() external view returns (int256);
        function getBtcBlockchainInitialBlockHeight() external view returns (int256);
        function getBtcBlockchainBlockHashAtDepth(int256 depth) external view returns (bytes);
        function getBtcBlockchainBestBlockHeader() external view returns (bytes);
        function getBtcBlockchainBlockHeaderByHash(bytes32 btcBlockHash) external view returns (bytes);
        function getBtcBlockchainBlockHeaderByHeight(uint256 btcBlockHeight) external view returns (bytes);
        function getBtcTransactionConfirmations(bytes32 txHash, bytes32 blockHash, uint256 merkleBranchPath, bytes32[] merkleBranchHashes) external view returns (int256);
        function isBtcTxHashAlreadyProcessed(string hash) external view returns (bool);
        function getBtcTxHashProcessedHeight(string hash) external view returns (int64);
        function getFederationAddress() external view returns (string);
        function getFederationSize() external view returns (int256);
        function getFederationThreshold() external view returns (int256);
        function getFederatorPublicKeyOfType(int256 index, string atype) external view returns (bytes);
        function getActivePowpegRedeemScript() external view returns (bytes);
        function getMinimumLockTxValue() external view returns (int256);
        function getFeePerKb() external view returns (int256);
        function getLockingCap() external view returns (int256);
        function getNextPegoutCreationBlockNumber() external view returns (uint256);
        function getQueuedPegoutsCount() external view returns (uint256);
        function getEstimatedFeesForNextPegOutEvent() external view returns (uint256);

        event pegin_btc(address indexed receiver, bytes32 indexed btcTxHash, int256 amount, int256 protocolVersion);
        event rejected_pegin(bytes32 indexed btcTxHash, int256 reason);
        event unrefundable_pegin(bytes32 indexed btcTxHash, int256 reason);
        event release_request_received(address indexed sender, string btcDestinationAddress, uint256 amount);
        event release_request_rejected(address indexed sender, uint256 amount, int256 reason);
        event release_requested(bytes32 indexed rskTxHash, bytes32 indexed btcTxHash, uint256 amount);
        event batch_pegout_created(bytes32 indexed btcTxHash, bytes releaseRskTxHashes);
        event pegout_confirmed(bytes32 indexed btcTxHash, uint256 pegoutCreationRskBlockNumber);
        event add_signature(bytes32 indexed releaseRskTxHash, address indexed federatorRskAddress, bytes federatorBtcPublicKey);
        event release_btc(bytes32 indexed releaseRskTxHash, bytes btcRawTransaction);
        event update_collections(address sender);
    }
}
