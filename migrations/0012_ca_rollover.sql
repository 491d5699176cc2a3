DROP INDEX "authorities_one_issuing_per_tenant";--> statement-breakpoint
ALTER TABLE "authorities" ADD COLUMN "status" text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE "authorities" ADD COLUMN "retired_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "authorities_one_issuing_per_tenant" ON "authorities" USING btree ("tenant_id") WHERE "authorities"."kind" = 'issuing' and "authorities"."status" = 'active';