CREATE TABLE "dead_letters" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"key" text NOT NULL,
	"source" text NOT NULL,
	"kind" text NOT NULL,
	"tenant_id" uuid,
	"agent_id" uuid,
	"ref" text NOT NULL,
	"status" integer NOT NULL,
	"error" text NOT NULL,
	"attempts" integer NOT NULL,
	"payload" text NOT NULL,
	"first_failed_at" timestamp with time zone NOT NULL,
	"dead_at" timestamp with time zone DEFAULT now() NOT NULL,
	"replayed_at" timestamp with time zone,
	"replay_result" text,
	CONSTRAINT "dead_letters_key_unique" UNIQUE("key")
);
--> statement-breakpoint
CREATE INDEX "dead_letters_tenant_idx" ON "dead_letters" USING btree ("tenant_id","dead_at");