import { sql } from "drizzle-orm";
import type { Db } from "../src/db/index.ts";
import { rowsOf } from "./harness.ts";

/**
 * The public schema as the catalogs describe it, in a stable order: columns (type, nullability,
 * default), indexes, constraints and triggers (their definitions). Two databases with
 * equal results have the same tables, columns, indexes and constraints, whatever path of
 * migrations led there (an upgrade from an old release vs a fresh install).
 */
export async function schemaOf(db: Db): Promise<Record<"columns" | "indexes" | "constraints" | "triggers", unknown[]>> {
  const columns = rowsOf(
    await db.execute(sql`
    select table_name, column_name, data_type, is_nullable, column_default from information_schema.columns
    where table_schema = 'public' order by table_name, column_name`),
  );
  const indexes = rowsOf(
    await db.execute(sql`
    select tablename, indexname, indexdef from pg_indexes where schemaname = 'public' order by tablename, indexname`),
  );
  const constraints = rowsOf(
    await db.execute(sql`
    select c.conrelid::regclass::text as table_name, c.conname, pg_get_constraintdef(c.oid) as def from pg_constraint c
    join pg_namespace n on n.oid = c.connamespace where n.nspname = 'public' order by 1, 2`),
  );
  const triggers = rowsOf(
    await db.execute(sql`
    select event_object_table, trigger_name, action_timing, event_manipulation, action_statement from information_schema.triggers
    where trigger_schema = 'public' order by 1, 2, 4`),
  );
  return { columns, indexes, constraints, triggers };
}
