CREATE TABLE "origin_epoch" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"n" bigint NOT NULL,
	"epoch_id" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"reason" text NOT NULL,
	CONSTRAINT "origin_epoch_single_row" CHECK ("origin_epoch"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "publish_subjects" (
	"kind" text NOT NULL,
	"subject" text NOT NULL,
	"v" bigint NOT NULL,
	CONSTRAINT "publish_subjects_kind_subject_pk" PRIMARY KEY("kind","subject")
);
--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "claimed_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "claimed_by" text;