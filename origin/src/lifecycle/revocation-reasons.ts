export { CRL_REASONS, type CrlReason } from "@kakunin/shared";
