// The archive seam: sealed audit batches go to a write-once store (docs/archive.md).
export type {
  ArchiveError,
  ArchiveErrorCode,
  ArchiveHead,
  ArchiveKind,
  ArchivePutOptions,
  ArchivePutResult,
  ArchiveStore,
  S3ArchiveStore,
} from "./types.ts";
export { createLocalArchive } from "./local.ts";
export { createS3Archive, type S3ArchiveOptions } from "./s3.ts";
