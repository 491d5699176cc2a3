import type { Config } from "../config.ts";
import type { Db } from "../db/index.ts";
import { createAwsKmsKeyManager } from "./aws.ts";
import { withDeadline } from "./deadline.ts";
import { createLocalKeyManager } from "./local.ts";
import { loadMasterKey } from "./master-key.ts";
import { createPkcs11KeyManager } from "./pkcs11.ts";
import type { KeyManager } from "./types.ts";

/** The backend named by KAKUNIN_KEY_MANAGER. Construction never contacts the backend. */
export function createKeyManager(config: Config, db: Db): KeyManager {
  switch (config.KAKUNIN_KEY_MANAGER) {
    case "local":
      return createLocalKeyManager({
        db, masterKey: loadMasterKey(config.KAKUNIN_MASTER_KEY, config.KAKUNIN_DATA_DIR), poolSize: config.KAKUNIN_LOCAL_KEY_POOL,
        threads: config.KAKUNIN_LOCAL_KEYGEN_THREADS,
      });
    case "aws-kms":
      return withDeadline(createAwsKmsKeyManager({
        region: config.AWS_REGION,
        endpoint: config.KAKUNIN_KMS_ENDPOINT,
        requestTimeoutMs: config.KAKUNIN_KMS_REQUEST_TIMEOUT_MS,
        credentials: config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
          ? { accessKeyId: config.AWS_ACCESS_KEY_ID, secretAccessKey: config.AWS_SECRET_ACCESS_KEY, sessionToken: config.AWS_SESSION_TOKEN }
          : undefined,
      }), config.KAKUNIN_KMS_TIMEOUT_MS);
    case "pkcs11":
      return withDeadline(createPkcs11KeyManager({
        modulePath: config.KAKUNIN_PKCS11_MODULE,
        tokenLabel: config.KAKUNIN_PKCS11_TOKEN_LABEL,
        pin: config.KAKUNIN_PKCS11_PIN ?? "",
      }), config.KAKUNIN_KMS_TIMEOUT_MS);
  }
}
