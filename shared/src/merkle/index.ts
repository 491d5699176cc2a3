export { bytesEqual, emptyRootHash, HASH_SIZE, leafHash, nodeHash, useSha256, type Sha256 } from "./hash.ts";
export { completedNodes, MemoryNodeStore, type NodeReader, type TreeNode } from "./store.ts";
export { consistencyProof, inclusionProof, rootHash, subtreeHash } from "./proofs.ts";
export { gapNodes, gapSpans, MultiproofVerifier, type HashCodec, type Span, type SyncNodeHash } from "./multiproof.ts";
export { verifyConsistency, verifyInclusion } from "./verify.ts";
