import type { Services } from "../services.ts";

type Registry = Services["metrics"]["registry"];
const inFlight = new WeakMap<Registry, Promise<string>>();

/**
 * One collection for every scrape that arrives while it runs. A collection is a dozen SQL queries
 * (outbox, archive, webhook deliveries grouped by status...), and /metrics needs no credential
 * unless KAKUNIN_METRICS_TOKEN is set, so concurrent calls each running their own let anyone on
 * the network multiply the database's load. Nothing is cached once it settles: a scrape that
 * starts after a collection ended sees fresh values.
 */
export function collectShared(registry: Registry): Promise<string> {
  const running = inFlight.get(registry);
  if (running) return running;
  const started = registry.metrics().finally(() => inFlight.delete(registry));
  inFlight.set(registry, started);
  return started;
}
