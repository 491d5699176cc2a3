import { describe, expect, it } from "vitest";
import { causes, innermost } from "../src/causes.ts";
import { sqlState } from "../src/db/index.ts";
import { errorFields } from "../src/observability/logger.ts";

/** `levels` errors, outermost first: level i has message `level i` and, when given, a code. */
function chain(levels: number, codeAt?: number): Error {
  let e: Error | undefined;
  for (let i = levels - 1; i >= 0; i--) {
    const next: Error & { code?: string } = new Error(`level ${i}`, e ? { cause: e } : undefined);
    if (i === codeAt) next.code = "08006";
    e = next;
  }
  return e!;
}

/**
 * The walk over `error.cause` (drizzle wraps the driver's error, which may wrap a socket error)
 * was written out in the logger, the SQLSTATE lookup and the problem handler, each with its own
 * loop and bound. One helper walks it; these pin the bounds each caller keeps.
 */
describe("causes", () => {
  it("yields the error, then its causes, outermost first, at most `levels` of them", () => {
    expect([...causes(chain(3), 10)].map((e) => (e as Error).message)).toEqual(["level 0", "level 1", "level 2"]);
    expect([...causes(chain(9), 4)].map((e) => (e as Error).message)).toEqual(["level 0", "level 1", "level 2", "level 3"]);
    expect([...causes("plain", 4)]).toEqual(["plain"]);
    // A cause that is not an error ends the walk with it; a falsy cause ends it before.
    expect([...causes(new Error("outer", { cause: "socket closed" }), 4)].at(-1)).toBe("socket closed");
    expect([...causes(new Error("outer", { cause: 0 }), 4)]).toHaveLength(1);
  });

  it("innermost is the last of them", () => {
    expect((innermost(chain(3), 10) as Error).message).toBe("level 2");
    expect((innermost(chain(9), 5) as Error).message).toBe("level 4");
    expect(innermost(undefined, 5)).toBeUndefined();
  });

  it("each caller keeps its bound: sqlState looks 4 levels deep, errorFields reports the 6th", () => {
    expect(sqlState(chain(6, 3))).toBe("08006");
    expect(sqlState(chain(6, 4))).toBeUndefined();
    expect(errorFields(chain(9, 4))).toMatchObject({ error: "level 5", sqlstate: "08006" });
    expect(errorFields(chain(3))).toMatchObject({ error: "level 2", error_kind: "Error", sqlstate: undefined });
  });
});
