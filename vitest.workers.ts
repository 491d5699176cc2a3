import { availableParallelism } from "node:os";

/**
 * Test files run at once, in every project (each project's config sets it: vitest groups files by
 * their project's own `maxWorkers`, so the root config's would not reach them). vitest's default,
 * cores − 1, is one file at a time on the 2-core CI machine, yet most files spend their time
 * waiting on processes they started (origin, workerd, Ceph, PostgreSQL, openssl, java), not on the
 * CPU: the whole suite took 1,065 s one file at a time and 693 s two at a time on 2 cores, with the
 * same 1,419 tests passing and the same fault table. Every file already has its own database,
 * bucket, data directory and free ports. `--maxWorkers` on the command line still wins.
 */
export const TEST_WORKERS = Math.max(2, availableParallelism() - 1);
