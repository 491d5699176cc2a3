import { join } from "node:path";
import type { Config } from "../config.ts";
import { createLocalArchive } from "./local.ts";
import { createS3Archive } from "./s3.ts";
import { ok, type Result } from "@kakunin/shared";
import type { ArchiveError, ArchiveStore } from "./types.ts";

export interface ConfiguredArchive {
  store: ArchiveStore;
  /** Startup check: S3 creates/verifies its Object Lock bucket; a directory needs nothing. */
  prepare(): Promise<Result<unknown, ArchiveError>>;
}

/** The archive named by KAKUNIN_ARCHIVE; S3 without its settings is a startup error, not a silent fallback. */
export function archiveFromConfig(config: Config): ConfiguredArchive {
  if (config.KAKUNIN_ARCHIVE === "local") {
    return { store: createLocalArchive(config.KAKUNIN_ARCHIVE_DIR ?? join(config.KAKUNIN_DATA_DIR, "archive")), prepare: async () => ok(null) };
  }
  const endpoint = config.KAKUNIN_S3_ENDPOINT ?? `https://s3.${config.KAKUNIN_S3_REGION}.amazonaws.com`;
  const accessKeyId = config.KAKUNIN_S3_ACCESS_KEY_ID ?? config.AWS_ACCESS_KEY_ID;
  const secretAccessKey = config.KAKUNIN_S3_SECRET_ACCESS_KEY ?? config.AWS_SECRET_ACCESS_KEY;
  if (!config.KAKUNIN_S3_BUCKET || !accessKeyId || !secretAccessKey) {
    throw new Error("KAKUNIN_ARCHIVE=s3 needs KAKUNIN_S3_BUCKET and credentials (KAKUNIN_S3_ACCESS_KEY_ID/KAKUNIN_S3_SECRET_ACCESS_KEY or AWS_*)");
  }
  const s3 = createS3Archive({ endpoint, region: config.KAKUNIN_S3_REGION, bucket: config.KAKUNIN_S3_BUCKET, accessKeyId, secretAccessKey });
  return { store: s3, prepare: () => s3.ensureBucket() };
}
