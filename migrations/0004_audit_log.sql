CREATE TABLE "audit_entries" (
	"tenant_id" uuid NOT NULL,
	"idx" bigint NOT NULL,
	"kind" text NOT NULL,
	"agent_id" uuid,
	"canonical" text NOT NULL,
	"leaf_hash" "bytea" NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "audit_entries_tenant_id_idx_pk" PRIMARY KEY("tenant_id","idx")
);
--> statement-breakpoint
CREATE TABLE "audit_heads" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"size" bigint DEFAULT 0 NOT NULL,
	"last_leaf_hash" "bytea",
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_nodes" (
	"tenant_id" uuid NOT NULL,
	"level" integer NOT NULL,
	"idx" bigint NOT NULL,
	"hash" "bytea" NOT NULL,
	CONSTRAINT "audit_nodes_tenant_id_level_idx_pk" PRIMARY KEY("tenant_id","level","idx")
);
--> statement-breakpoint
CREATE TABLE "audit_tree_heads" (
	"tenant_id" uuid NOT NULL,
	"tree_size" bigint NOT NULL,
	"root_hash" "bytea" NOT NULL,
	"timestamp" timestamp with time zone NOT NULL,
	"signature" "bytea" NOT NULL,
	"signer_id" uuid NOT NULL,
	CONSTRAINT "audit_tree_heads_tenant_id_tree_size_pk" PRIMARY KEY("tenant_id","tree_size")
);
--> statement-breakpoint
ALTER TABLE "audit_entries" ADD CONSTRAINT "audit_entries_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_heads" ADD CONSTRAINT "audit_heads_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_nodes" ADD CONSTRAINT "audit_nodes_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_tree_heads" ADD CONSTRAINT "audit_tree_heads_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_tree_heads" ADD CONSTRAINT "audit_tree_heads_signer_id_authorities_id_fk" FOREIGN KEY ("signer_id") REFERENCES "public"."authorities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_entries_agent_idx" ON "audit_entries" USING btree ("tenant_id","agent_id","idx");--> statement-breakpoint
CREATE INDEX "audit_entries_kind_idx" ON "audit_entries" USING btree ("tenant_id","kind","idx");--> statement-breakpoint
CREATE UNIQUE INDEX "authorities_one_audit_per_tenant" ON "authorities" USING btree ("tenant_id") WHERE "authorities"."kind" = 'audit';