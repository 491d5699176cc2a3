CREATE TABLE "ingest_token_minters" (
	"api_key_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "ingest_token_minters_api_key_id_agent_id_pk" PRIMARY KEY("api_key_id","agent_id")
);
--> statement-breakpoint
ALTER TABLE "ingest_token_minters" ADD CONSTRAINT "ingest_token_minters_api_key_id_api_keys_id_fk" FOREIGN KEY ("api_key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ingest_token_minters" ADD CONSTRAINT "ingest_token_minters_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ingest_token_minters_agent_idx" ON "ingest_token_minters" USING btree ("agent_id");