CREATE TABLE "ca_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"key_ref" text NOT NULL,
	"generation" integer NOT NULL,
	"csr_pem" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"imported_at" timestamp with time zone,
	"authority_id" uuid,
	CONSTRAINT "ca_requests_key_ref_unique" UNIQUE("key_ref")
);
--> statement-breakpoint
CREATE TABLE "root_crls" (
	"crl_number" bigint PRIMARY KEY NOT NULL,
	"der" "bytea" NOT NULL,
	"this_update" timestamp with time zone NOT NULL,
	"next_update" timestamp with time zone NOT NULL,
	"uploaded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ca_requests" ADD CONSTRAINT "ca_requests_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "ca_requests_one_pending_per_tenant" ON "ca_requests" USING btree ("tenant_id") WHERE "ca_requests"."status" = 'pending';