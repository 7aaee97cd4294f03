// The observability endpoints every component serves (docs/architecture.md §2): /healthz, /metrics
// in Prometheus text (prom-client) and /drops since a cursor.

import { Registry } from "prom-client";
import type { DropLog } from "./drops.ts";
import { json, queryInteger, type Router } from "./http.ts";

export function newRegistry(component: string, instance: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component, instance });
  return registry;
}

export interface Health {
  ok: boolean;
  [detail: string]: unknown;
}

const MAX_DROPS_PER_PAGE = 1000;

export function addObservability(
  router: Router,
  options: { metrics: Registry; drops: DropLog; health: () => Health },
): void {
  router.on("GET", /^\/healthz$/, () => {
    const health = options.health();
    return json(health.ok ? 200 : 503, health);
  });
  router.on("GET", /^\/metrics$/, async () => ({
    status: 200,
    headers: { "content-type": options.metrics.contentType },
    body: await options.metrics.metrics(),
  }));
  router.on("GET", /^\/drops$/, (request) => {
    const cursor = queryInteger(request, "cursor", 0);
    const max = queryInteger(request, "max", MAX_DROPS_PER_PAGE, MAX_DROPS_PER_PAGE);
    return json(200, options.drops.since(cursor, max === 0 ? MAX_DROPS_PER_PAGE : max));
  });
}
