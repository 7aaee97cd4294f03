// Load faults (docs/architecture.md §4) on the workload generator: a surge of all traffic, one
// tenant's flood, and every tenant's flood, configured or not (what the fail-open forwarder let
// through on 14 November 2024). A surge heals back to normal traffic and a tenant flood clears that
// tenant's flood; the all-tenants flood puts back each tenant's multiplier as it was before,
// so that a one-tenant flood still in force outlives it.

import { defineFault, healedBy } from "./define.ts";
import { eventName, faultParams, multiplier } from "./params.ts";

export const loadSurge = defineFault({
  name: "load.surge",
  family: "load",
  summary: "multiplies all traffic by multiplier; heal restores normal traffic",
  params: faultParams({ multiplier: multiplier() }),
  targets: () => ({}),
  async inject(context, params) {
    const { workload } = context;
    workload.setSurge(params.multiplier);
    context.note(`traffic ×${params.multiplier}: ${workload.targetEventsPerSecond()} events/s`);
    return healedBy(async () => {
      workload.clearSurge();
      context.note(`surge over: ${workload.targetEventsPerSecond()} events/s`);
    });
  },
});

export const loadTenantFlood = defineFault({
  name: "load.tenant-flood",
  family: "load",
  summary: "multiplies one tenant's traffic by multiplier; heal clears that tenant's flood",
  params: faultParams({ tenant: eventName("tenant"), multiplier: multiplier() }),
  targets: () => ({}),
  async inject(context, { tenant, multiplier: times }) {
    const { workload } = context;
    workload.setTenantFlood(tenant, times);
    context.note(`${tenant} floods ×${times}: ${workload.targetEventsPerSecond()} events/s`);
    return healedBy(async () => {
      workload.clearTenantFlood(tenant);
      context.note(`${tenant} flood over`);
    });
  },
});

export const loadAllTenantsFlood = defineFault({
  name: "load.all-tenants-flood",
  family: "load",
  summary:
    "multiplies every tenant's traffic, with or without a job, by multiplier; heal restores each tenant's previous multiplier",
  params: faultParams({ multiplier: multiplier() }),
  targets: () => ({}),
  async inject(context, params) {
    const { workload } = context;
    const before = workload.stats().floods;
    for (const tenant of workload.tenants) workload.setTenantFlood(tenant, params.multiplier);
    context.note(
      `all ${workload.tenants.length} tenants flood ×${params.multiplier}: ${workload.targetEventsPerSecond()} events/s`,
    );
    return healedBy(async () => {
      for (const tenant of workload.tenants) workload.setTenantFlood(tenant, before[tenant] ?? 1);
      context.note(`all-tenants flood over: ${workload.targetEventsPerSecond()} events/s`);
    });
  },
});

export const LOAD_FAULTS = [loadSurge, loadTenantFlood, loadAllTenantsFlood] as const;
