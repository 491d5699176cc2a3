/** The node cache's own rules (audit/node-cache.ts): the memory bound, LRU order, partial chunks. */
import { describe, expect, it } from "vitest";
import { AuditNodeCache, CHUNK_COST, chunkOf } from "../src/audit/node-cache.ts";

const chunk = (fill: number) => new Uint8Array(16 * 32).fill(fill);

describe("AuditNodeCache", () => {
  it("never holds more chunks than its bound allows, across tenants, evicting the least recently used", () => {
    const c = new AuditNodeCache(4 * CHUNK_COST);
    c.put("a", 0, 0, chunk(1), 16);
    c.put("a", 0, 1, chunk(2), 16);
    c.put("b", 4, 0, chunk(3), 16);
    c.put("b", 0, 0, chunk(4), 16);
    expect(c.get("a", 0, 0, 15)?.hashes[0]).toBe(1); // a/0/0 is now a's most recently used chunk
    c.put("b", 0, 1, chunk(5), 16); // a is now the least recently used tenant: its oldest chunk (0/1) goes
    expect(c.size).toBe(4);
    expect(c.get("a", 0, 1, 0)).toBeUndefined();
    expect(c.get("b", 4, 0, 0)?.hashes[0]).toBe(3);
    expect(c.get("a", 0, 0, 0)?.hashes[0]).toBe(1);
    for (let i = 0; i < 100; i++) c.put("c", 0, i, chunk(9), 16);
    expect(c.size).toBe(4);
    expect(c.get("a", 0, 0, 0)).toBeUndefined();
  });

  it("serves a partial chunk only up to what it holds, and takes a fuller one", () => {
    const c = new AuditNodeCache(10 * CHUNK_COST);
    c.put("a", 0, 3, chunk(1), 5);
    expect(c.get("a", 0, 3, 4)).toBeDefined();
    expect(c.get("a", 0, 3, 5)).toBeUndefined();
    c.put("a", 0, 3, chunk(2), 3); // a shorter read never replaces a longer one
    expect(c.get("a", 0, 3, 4)?.hashes[0]).toBe(1);
    c.put("a", 0, 3, chunk(3), 16);
    expect(c.get("a", 0, 3, 15)?.hashes[0]).toBe(3);
    expect(c.size).toBe(1);
  });

  it("with a bound of 0 keeps nothing", () => {
    const c = new AuditNodeCache(0);
    c.put("a", 0, 0, chunk(1), 16);
    c.putRoot("a", 1, chunk(1));
    expect(c.size).toBe(0);
    expect(c.root("a", 1)).toBeUndefined();
  });

  it("maps nodes below the tile level to the leaves under them", () => {
    expect(chunkOf(0, 37)).toEqual({ level: 0, chunk: 2, last: 5 });
    expect(chunkOf(3, 5)).toEqual({ level: 0, chunk: 2, last: 15 });
    expect(chunkOf(2, 1)).toEqual({ level: 0, chunk: 0, last: 7 });
    expect(chunkOf(4, 33)).toEqual({ level: 4, chunk: 2, last: 1 });
  });
});
