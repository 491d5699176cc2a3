ALTER TABLE "audit_batches" ADD COLUMN "claimed_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "audit_batches" ADD COLUMN "claimed_by" text;