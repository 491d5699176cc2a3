CREATE TABLE "audit_batches" (
	"tenant_id" uuid NOT NULL,
	"first_idx" bigint NOT NULL,
	"last_idx" bigint NOT NULL,
	"object_key" text NOT NULL,
	"sha256" text NOT NULL,
	"sealed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retain_until" timestamp with time zone NOT NULL,
	"archived_at" timestamp with time zone,
	"store" text NOT NULL,
	"version_id" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "audit_batches_tenant_id_first_idx_pk" PRIMARY KEY("tenant_id","first_idx"),
	CONSTRAINT "audit_batches_object_key_unique" UNIQUE("object_key")
);
--> statement-breakpoint
ALTER TABLE "audit_batches" ADD CONSTRAINT "audit_batches_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_batches_pending_idx" ON "audit_batches" USING btree ("sealed_at") WHERE "audit_batches"."archived_at" is null;