CREATE TABLE "managed_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid,
	"purpose" text NOT NULL,
	"backend" text NOT NULL,
	"label" text NOT NULL,
	"key_ref" text,
	"state" text DEFAULT 'creating' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delete_reason" text,
	"deletion_requested_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"deletion_date" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "managed_keys_key_ref_unique" UNIQUE("key_ref"),
	CONSTRAINT "managed_keys_state_chk" CHECK ("managed_keys"."state" in ('creating','created','deleting','deleted','abandoned'))
);
--> statement-breakpoint
ALTER TABLE "certificates" DROP CONSTRAINT "certificates_status_chk";--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "superseded_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "certificates" ADD COLUMN "superseded_by" text;--> statement-breakpoint
ALTER TABLE "managed_keys" ADD CONSTRAINT "managed_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "managed_keys_open_idx" ON "managed_keys" USING btree ("state","created_at") WHERE "managed_keys"."state" in ('creating','created','deleting');--> statement-breakpoint
CREATE UNIQUE INDEX "certificates_one_renewed_per_agent" ON "certificates" USING btree ("agent_id") WHERE "certificates"."status" = 'renewed';--> statement-breakpoint
CREATE INDEX "certificates_expiry_idx" ON "certificates" USING btree ("tenant_id","expires_at") WHERE "certificates"."status" = 'active';--> statement-breakpoint
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_superseded_chk" CHECK ("certificates"."status" not in ('renewed','superseded') or ("certificates"."superseded_at" is not null and "certificates"."superseded_by" is not null));--> statement-breakpoint
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_status_chk" CHECK ("certificates"."status" in ('active','renewed','superseded','revoked','expired'));