ALTER TABLE "authorities" ADD COLUMN "issued_count" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "crl_partition" integer;--> statement-breakpoint
CREATE INDEX "certificates_crl_partition_idx" ON "certificates" USING btree ("issuer_id","crl_partition");