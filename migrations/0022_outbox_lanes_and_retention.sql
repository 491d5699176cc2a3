ALTER TABLE "outbox" ADD COLUMN "background" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "outbox_claim_idx" ON "outbox" USING btree ("background","seq") WHERE "outbox"."delivered_at" is null;--> statement-breakpoint
CREATE INDEX "outbox_subject_idx" ON "outbox" USING btree ("kind","subject","delivered_at");