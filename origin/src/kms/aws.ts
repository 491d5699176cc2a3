import { createHash, createPublicKey } from "node:crypto";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  GetPublicKeyCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
  SignCommand,
} from "@aws-sdk/client-kms";
import { err, ok, type Result } from "@kakunin/shared";
import type { CreatedKey, KeyManager, KeyManagerError, ListedKey } from "./types.ts";

export interface AwsKmsOptions {
  /** Falls back to AWS_REGION / AWS_DEFAULT_REGION, then to the shared config of AWS_PROFILE. */
  region?: string;
  /** Overrides the regional endpoint (VPC endpoint, LocalStack, the e2e test server). */
  endpoint?: string;
  /** Falls back to the SDK's default chain, but only when an env variable names a source. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** When set, every new key also gets the alias `alias/<prefix><label>/<key id>` for humans. */
  keyAliasPrefix?: string;
  /** Per-request timeout (default 3 s); raise it for a distant region or a slow test endpoint. */
  requestTimeoutMs?: number;
}

const SIGNING_ALGORITHM = "RSASSA_PKCS1_V1_5_SHA_256";
// One request may take this long before it counts as failed; KMS answers Sign in tens of ms,
// so three attempts against a dead endpoint end in seconds, not the SDK's default of minutes.
const CONNECTION_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 3_000;
const MAX_ATTEMPTS = 3;
// Shortest window KMS allows; only used to clean up a key we created but could not hand out.
const ORPHAN_DELETION_DAYS = 7;
const DESCRIPTION_PREFIX = "Kakunin agent key: ";
const INTENT_TAG = "kakunin:intent";
const KMS_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+$/;

/**
 * Keys in AWS KMS: the private half never leaves KMS, Kakunin stores only the key ARN
 * (`kms_key_arn`). Issuance costs exactly one Sign request; the digest is computed here so the
 * certificate body itself is never sent to AWS and its size is not limited by KMS's 4 KiB.
 */
export function createAwsKmsKeyManager(opts: AwsKmsOptions): KeyManager {
  const env = process.env;
  const region = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const aliasPrefix = normalizeAliasPrefix(opts.keyAliasPrefix);
  const problem = configurationProblem(opts, region, aliasPrefix);
  let client: KMSClient | undefined;
  let closed = false;

  function getClient(): Result<KMSClient, KeyManagerError> {
    if (problem) return err({ code: "not_configured", message: problem });
    if (closed) return err({ code: "failed", message: "aws-kms KeyManager is closed" });
    if (!client) {
      client = new KMSClient({
        ...(region ? { region } : {}),
        ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
        ...(opts.credentials ? { credentials: opts.credentials } : {}),
        maxAttempts: MAX_ATTEMPTS,
        requestHandler: {
          connectionTimeout: CONNECTION_TIMEOUT_MS,
          requestTimeout: opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
          // Without this the SDK only logs a warning when requestTimeout passes and keeps waiting.
          throwOnRequestTimeout: true,
        },
      });
    }
    return ok(client);
  }

  async function call<T>(what: string, run: (c: KMSClient) => Promise<T>): Promise<Result<T, KeyManagerError>> {
    const c = getClient();
    if (!c.ok) return c;
    try {
      return ok(await run(c.value));
    } catch (e) {
      return err(classifyError(what, e));
    }
  }

  async function fetchPublicKey(ref: string): Promise<Result<Uint8Array, KeyManagerError>> {
    const res = await call(`GetPublicKey ${ref}`, (c) => c.send(new GetPublicKeyCommand({ KeyId: ref })));
    if (!res.ok) return res;
    const spki = res.value.PublicKey;
    if (!spki) return err({ code: "failed", message: `KMS returned no public key for ${ref}` });
    if (!isRsa2048(spki)) return err({ code: "failed", message: `KMS key ${ref} is not an RSA-2048 key` });
    return ok(spki);
  }

  // A key we could not finish setting up would otherwise sit in the account, billed, forever.
  async function discard(arn: string): Promise<void> {
    await call(`ScheduleKeyDeletion ${arn}`, (c) =>
      c.send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: ORPHAN_DELETION_DAYS })),
    );
  }

  return {
    kind: "aws-kms",
    async createKey(label, createOpts): Promise<Result<CreatedKey, KeyManagerError>> {
      const created = await call("CreateKey", (c) =>
        c.send(
          new CreateKeyCommand({
            KeySpec: "RSA_2048",
            KeyUsage: "SIGN_VERIFY",
            Description: `${DESCRIPTION_PREFIX}${label}`.slice(0, 8192),
            Tags: [
              { TagKey: "kakunin:label", TagValue: tagValue(label) },
              // Set atomically with the key: a crash before its ARN is stored still leaves it findable.
              ...(createOpts?.intent ? [{ TagKey: INTENT_TAG, TagValue: tagValue(createOpts.intent) }] : []),
            ],
          }),
        ),
      );
      if (!created.ok) return created;
      const meta = created.value.KeyMetadata;
      if (!meta?.Arn || !meta.KeyId) return err({ code: "failed", message: "KMS CreateKey returned no key ARN" });
      const arn = meta.Arn;

      const spki = await fetchPublicKey(arn);
      if (!spki.ok) {
        await discard(arn);
        return spki;
      }
      if (aliasPrefix !== undefined) {
        const AliasName = `alias/${aliasPrefix}${aliasPart(label)}/${meta.KeyId}`.slice(0, 256);
        const aliased = await call(`CreateAlias ${AliasName}`, (c) =>
          c.send(new CreateAliasCommand({ AliasName, TargetKeyId: arn })),
        );
        // The operator asked for aliases; a missing kms:CreateAlias permission should show at once.
        if (!aliased.ok) {
          await discard(arn);
          return aliased;
        }
      }
      return ok({ ref: arn, publicKeySpki: spki.value });
    },

    async getPublicKey(ref: string): Promise<Result<Uint8Array, KeyManagerError>> {
      if (!KMS_ARN.test(ref)) return err({ code: "not_found", message: `not an AWS KMS key ARN: ${ref}` });
      return fetchPublicKey(ref);
    },

    async sign(ref: string, data: Uint8Array): Promise<Result<Uint8Array, KeyManagerError>> {
      if (!KMS_ARN.test(ref)) return err({ code: "not_found", message: `not an AWS KMS key ARN: ${ref}` });
      const digest = createHash("sha256").update(data).digest();
      const res = await call(`Sign ${ref}`, (c) =>
        c.send(
          new SignCommand({ KeyId: ref, Message: digest, MessageType: "DIGEST", SigningAlgorithm: SIGNING_ALGORITHM }),
        ),
      );
      if (!res.ok) return res;
      const sig = res.value.Signature;
      if (!sig || sig.length === 0) return err({ code: "failed", message: `KMS returned no signature for ${ref}` });
      return ok(sig);
    },

    async scheduleDeletion(ref, deletion) {
      if (!KMS_ARN.test(ref)) return err({ code: "not_found", message: `not an AWS KMS key ARN: ${ref}` });
      const days = Math.min(30, Math.max(7, Math.round(deletion.pendingWindowDays)));
      const res = await call(`ScheduleKeyDeletion ${ref}`, (c) =>
        c.send(new ScheduleKeyDeletionCommand({ KeyId: ref, PendingWindowInDays: days })),
      );
      if (res.ok) return ok({ deletionDate: res.value.DeletionDate ?? null, alreadyGone: false });
      if (res.error.code === "not_found") return ok({ deletionDate: null, alreadyGone: true });
      // Already pending deletion (a retried tidy): KMS answers KMSInvalidStateException; confirm.
      const described = await call(`DescribeKey ${ref}`, (c) => c.send(new DescribeKeyCommand({ KeyId: ref })));
      const meta = described.ok ? described.value.KeyMetadata : undefined;
      if (meta?.KeyState === "PendingDeletion" || meta?.KeyState === "PendingReplicaDeletion") {
        return ok({ deletionDate: meta.DeletionDate ?? null, alreadyGone: true });
      }
      return res;
    },

    async listKeys() {
      const out: ListedKey[] = [];
      let marker: string | undefined;
      do {
        const page = await call("ListKeys", (c) => c.send(new ListKeysCommand({ Limit: 1000, ...(marker ? { Marker: marker } : {}) })));
        if (!page.ok) return page;
        for (const k of page.value.Keys ?? []) {
          if (!k.KeyArn) continue;
          const described = await call(`DescribeKey ${k.KeyArn}`, (c) => c.send(new DescribeKeyCommand({ KeyId: k.KeyArn })));
          if (!described.ok) return described;
          const meta = described.value.KeyMetadata;
          // Only keys Kakunin made (its Description), and only ones still usable.
          if (!meta || meta.KeyState !== "Enabled" || !(meta.Description ?? "").startsWith(DESCRIPTION_PREFIX)) continue;
          const tags = await call(`ListResourceTags ${k.KeyArn}`, (c) => c.send(new ListResourceTagsCommand({ KeyId: k.KeyArn })));
          if (!tags.ok) return tags;
          const tag = (key: string) => tags.value.Tags?.find((t) => t.TagKey === key)?.TagValue;
          const intent = tag(INTENT_TAG);
          out.push({ ref: k.KeyArn, label: tag("kakunin:label") ?? "", ...(intent ? { intent } : {}) });
        }
        marker = page.value.Truncated ? page.value.NextMarker : undefined;
      } while (marker);
      return ok(out);
    },

    async close(): Promise<void> {
      closed = true;
      client?.destroy();
      client = undefined;
    },
  };
}

/** Decided from configuration alone so a missing setup never costs a network round trip. */
function configurationProblem(
  opts: AwsKmsOptions,
  region: string | undefined,
  aliasPrefix: string | undefined | null,
): string | undefined {
  const env = process.env;
  // A named profile may carry the region in ~/.aws/config; the SDK reads it there.
  if (!region && !env.AWS_PROFILE) return "aws-kms: no region (set region, AWS_REGION or AWS_PROFILE)";
  const credentialSource =
    opts.credentials !== undefined ||
    (!!env.AWS_ACCESS_KEY_ID && !!env.AWS_SECRET_ACCESS_KEY) ||
    !!env.AWS_PROFILE ||
    !!env.AWS_WEB_IDENTITY_TOKEN_FILE ||
    !!env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ||
    !!env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  // The SDK chain would otherwise end at EC2 instance metadata: a network call that hangs off EC2.
  if (!credentialSource) return "aws-kms: no credentials (set credentials, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)";
  if (aliasPrefix === null) return "aws-kms: keyAliasPrefix may only contain A-Z a-z 0-9 : / _ - and not start with aws/";
  return undefined;
}

/** undefined: no aliases; null: an unusable prefix. Accepts the prefix with or without `alias/`. */
function normalizeAliasPrefix(prefix: string | undefined): string | undefined | null {
  if (prefix === undefined) return undefined;
  const bare = prefix.startsWith("alias/") ? prefix.slice("alias/".length) : prefix;
  if (!/^[a-zA-Z0-9:/_-]*$/.test(bare) || bare.startsWith("aws/")) return null;
  return bare;
}

// KMS rejects tag values outside this character set or longer than 256 characters.
function tagValue(label: string): string {
  return label.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, "_").slice(0, 256);
}

function aliasPart(label: string): string {
  return label.replace(/[^a-zA-Z0-9:/_-]/g, "-").slice(0, 128) || "key";
}

function isRsa2048(spki: Uint8Array): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    return key.asymmetricKeyType === "rsa" && key.asymmetricKeyDetails?.modulusLength === 2048;
  } catch {
    return false;
  }
}

interface SdkErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

const NOT_FOUND = new Set(["NotFoundException", "InvalidArnException"]);
const THROTTLED = new Set(["ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** Maps what the SDK throws (after its own retries) onto the KeyManager's four outcomes. */
function classifyError(what: string, e: unknown): KeyManagerError {
  const x: SdkErrorShape = typeof e === "object" && e !== null ? e : {};
  const name = typeof x.name === "string" ? x.name : "Error";
  const detail = typeof x.message === "string" && x.message ? x.message : String(e);
  const message = `${what}: ${name}: ${detail}`;
  const status = typeof x.$metadata?.httpStatusCode === "number" ? x.$metadata.httpStatusCode : undefined;
  const code = typeof x.code === "string" ? x.code : undefined;

  if (name === "CredentialsProviderError" || detail === "Region is missing") return { code: "not_configured", message };
  if (NOT_FOUND.has(name)) return { code: "not_found", message };
  // KMSInvalidStateException (key disabled or pending deletion) stays `failed`: the key exists and
  // an operator can re-enable it or cancel the deletion, so callers must not treat it as gone.
  if (THROTTLED.has(name) || name === "TimeoutError" || (code !== undefined && NETWORK_CODES.has(code)))
    return { code: "unavailable", message };
  if (x.$fault === "server" || (status !== undefined && status >= 500)) return { code: "unavailable", message };
  return { code: "failed", message };
}
