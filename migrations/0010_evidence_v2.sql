CREATE TABLE "audit_agent_heads" (
	"tenant_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"size" bigint NOT NULL,
	"last_leaf_hash" "bytea" NOT NULL,
	"lifecycle_size" bigint NOT NULL,
	"last_lifecycle_leaf_hash" "bytea",
	CONSTRAINT "audit_agent_heads_tenant_id_agent_id_pk" PRIMARY KEY("tenant_id","agent_id")
);
--> statement-breakpoint
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
ALTER TABLE "authorities" ADD COLUMN "issuer_authority_id" uuid;--> statement-breakpoint
ALTER TABLE "audit_agent_heads" ADD CONSTRAINT "audit_agent_heads_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_tree_head_archive" ADD CONSTRAINT "audit_tree_head_archive_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "authorities_one_tree_head_signer_per_issuer" ON "authorities" USING btree ("issuer_authority_id") WHERE "authorities"."kind" = 'tree_head_signer';