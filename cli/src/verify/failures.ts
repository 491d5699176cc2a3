import { fmt } from "./fmt.ts";
import type { Failure } from "./types.ts";

/**
 * Failures of one check, kept up to a bound: a bundle whose root is broken fails every one of
 * its million entries, and a streaming verifier must not hold a million reasons. The count stays exact.
 */
export class FailureList {
  readonly list: Failure[] = [];
  total = 0;
  constructor(private readonly max = 1000) {}

  add(f: Failure): void {
    this.total++;
    if (this.list.length < this.max) this.list.push(f);
  }

  notes(): string[] {
    return this.total > this.list.length ? [`${fmt(this.total - this.list.length)} more failures not listed (the first ${fmt(this.list.length)} are)`] : [];
  }
}
