export { createVerifier, type Verifier, type VerifierOptions } from "./verifier.ts";
export type {
  CertificateStatus,
  CheckedVerifyData,
  EdgeReason,
  EdgeReasonCode,
  EdgeVerifyData,
  FetchLike,
  RiskBand,
  VerifyChecks,
  VerifyReason,
  VerifyReasonCode,
  VerifyResult,
  WebCryptoKey,
} from "./types.ts";
export { normaliseSerial } from "./serial.ts";
export { inScope, scopeCovers } from "./scope.ts";
export { signRequest, type SignRequestOptions } from "./sign.ts";
export { cryptoKeySigner, originSigner, SigningError, type OriginSignerOptions, type Signer } from "./signers.ts";
export { AGENT_SERIAL_HEADER, ALGORITHM, REQUIRED_COMPONENTS, signatureBase, fetchRequestView, type MessageView } from "./signature-base.ts";
export { contentDigest } from "./digest.ts";
export { memoryReplayStore, type ReplayCheck, type ReplayStore } from "./replay.ts";
export { createGate, type GateOptions, type GateRequest, type GateResult, type KakuninAgent } from "./gate.ts";
export {
  GATEWAY_PROBLEMS,
  gatewayProblem,
  problemHeaders,
  problemResponse,
  PROBLEM_CONTENT_TYPE,
  type GatewayProblem,
  type GatewayProblemName,
} from "./problems.ts";
export { certificateParts } from "./der.ts";
