import { createHash } from "node:crypto";
import { useSha256 } from "@kakunin/shared";

/**
 * Node-specific speed-ups for shared Web-API code, installed once when the origin's services are
 * built: node:crypto's SHA-256 for Merkle hashing (same results as Web Crypto, ~10× cheaper per call).
 */
useSha256((input) => createHash("sha256").update(input).digest());
