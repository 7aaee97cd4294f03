// tenant-isolation (docs/architecture.md §5): no copy of an event reaches a destination that is not
// its own pair's (misdelivered = 0), and nothing is delivered for a tenant while no job covered it
// (deliveredWithoutJob = 0). A leak seen is conclusive; none seen while some sink's records
// could not be read is unknown, since the leak may be there.

import { eventId, plural } from "./format.ts";
import type { InvariantResult, Observations } from "./types.ts";

const TENANT_LIMIT = 20;

export function checkTenantIsolation(observations: Observations): InvariantResult {
  const { totals, tenants, misdeliveredSamples, deliveredWithoutJobSamples } = observations.ledger;
  const { misdelivered, deliveredWithoutJob } = totals;
  const affected = Object.entries(tenants)
    .filter(([, counts]) => counts.misdelivered > 0 || counts.deliveredWithoutJob > 0)
    .sort(
      ([a, x], [b, y]) =>
        y.misdelivered + y.deliveredWithoutJob - (x.misdelivered + x.deliveredWithoutJob) ||
        a.localeCompare(b),
    )
    .map(([tenant, counts]) => ({
      tenant,
      misdelivered: counts.misdelivered,
      deliveredWithoutJob: counts.deliveredWithoutJob,
    }));
  const unreadableSinks = observations.unreadableSinks ?? [];
  const evidence = {
    misdelivered,
    deliveredWithoutJob,
    tenantsAffected: affected.length,
    tenants: affected.slice(0, TENANT_LIMIT),
    firstMisdelivered: misdeliveredSamples,
    firstDeliveredWithoutJob: deliveredWithoutJobSamples,
    ...(unreadableSinks.length > 0 ? { unreadableSinks } : {}),
  };
  const name = "tenant-isolation";

  if (misdelivered > 0 || deliveredWithoutJob > 0) {
    const parts: string[] = [];
    if (misdelivered > 0) {
      const tenantsHit = affected.filter((entry) => entry.misdelivered > 0).length;
      const first = misdeliveredSamples[0];
      parts.push(
        `${plural(misdelivered, "copy", "copies")} reached another tenant's destination (${plural(tenantsHit, "tenant")}` +
          (first === undefined ? ")" : `; first: ${eventId(first)} at ${first.destination})`),
      );
    }
    if (deliveredWithoutJob > 0) {
      const tenantsHit = affected.filter((entry) => entry.deliveredWithoutJob > 0).length;
      const first = deliveredWithoutJobSamples[0];
      parts.push(
        `${plural(deliveredWithoutJob, "event was", "events were")} delivered while no job covered them (${plural(tenantsHit, "tenant")}` +
          (first === undefined ? ")" : `; first: ${eventId(first)})`),
      );
    }
    return { name, status: "violated", summary: parts.join("; "), evidence };
  }
  if (unreadableSinks.length > 0) {
    return {
      name,
      status: "unknown",
      summary: `no leak in the sinks that were read, but the records of ${unreadableSinks.join(", ")} could not be read`,
      evidence,
    };
  }
  return {
    name,
    status: "held",
    summary:
      "every delivered copy reached its own tenant's destination, and nothing was delivered without a job",
    evidence,
  };
}
