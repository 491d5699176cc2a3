/** drizzle's `sql` tag for tests outside the origin package (test/ does not depend on drizzle-orm itself). */
export { sql } from "drizzle-orm";
