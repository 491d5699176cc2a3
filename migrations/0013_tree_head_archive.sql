CREATE TABLE "audit_tree_head_archive" (
	"tenant_id" uuid NOT NULL,
	"tree_size" bigint NOT NULL,
	"object_key" text NOT NULL,
	"sha256" text NOT NULL,
	"version_id" text,
	"archived_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_tree_head_archive_tenant_id_tree_size_pk" PRIMARY KEY("tenant_id","tree_size")
);
--> statement-breakpoint
ALTER TABLE "audit_tree_head_archive" ADD CONSTRAINT "audit_tree_head_archive_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;