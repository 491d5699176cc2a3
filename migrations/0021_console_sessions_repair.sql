-- Repair for installations that upgraded across 0016 without applying it. 0016_console_sessions
-- was renumbered after 0015 in a merge but kept its journal "when", which is older than 0015's;
-- drizzle applies only journal entries newer than the last one a database recorded, so a database
-- migrated by a release that ended at 0015 never ran 0016 and has no console_sessions (console
-- sign-in fails). 0016 itself is not edited (installed databases ran it as shipped): this creates
-- what 0016 creates, only where it is missing, and is a no-op everywhere else.
CREATE TABLE IF NOT EXISTS "console_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"api_key_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "console_sessions_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'console_sessions_tenant_id_tenants_id_fk') THEN
    ALTER TABLE "console_sessions" ADD CONSTRAINT "console_sessions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'console_sessions_api_key_id_api_keys_id_fk') THEN
    ALTER TABLE "console_sessions" ADD CONSTRAINT "console_sessions_api_key_id_api_keys_id_fk" FOREIGN KEY ("api_key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;
  END IF;
END $$;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "console_sessions_key_idx" ON "console_sessions" USING btree ("api_key_id");
