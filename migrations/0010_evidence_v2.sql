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
ALTER TABLE "authorities" ADD COLUMN "issuer_authority_id" uuid;--> statement-breakpoint
ALTER TABLE "audit_agent_heads" ADD CONSTRAINT "audit_agent_heads_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "authorities_one_tree_head_signer_per_issuer" ON "authorities" USING btree ("issuer_authority_id") WHERE "authorities"."kind" = 'tree_head_signer';