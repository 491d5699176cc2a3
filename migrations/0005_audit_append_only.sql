-- The audit trail is append-only in the database itself, not only in code: any UPDATE, DELETE or
-- TRUNCATE of an entry, a tree node or a signed tree head is refused, whoever issues it.
CREATE OR REPLACE FUNCTION kakunin_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit table % is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION kakunin_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
  FOR EACH STATEMENT EXECUTE FUNCTION kakunin_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_nodes_append_only BEFORE UPDATE OR DELETE ON audit_nodes
  FOR EACH ROW EXECUTE FUNCTION kakunin_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_nodes_no_truncate BEFORE TRUNCATE ON audit_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION kakunin_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_tree_heads_append_only BEFORE UPDATE OR DELETE ON audit_tree_heads
  FOR EACH ROW EXECUTE FUNCTION kakunin_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_tree_heads_no_truncate BEFORE TRUNCATE ON audit_tree_heads
  FOR EACH STATEMENT EXECUTE FUNCTION kakunin_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads
  FOR EACH ROW EXECUTE FUNCTION kakunin_audit_append_only();
