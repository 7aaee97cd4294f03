// no-silent-loss (docs/architecture.md §5): every expected event was delivered or declared
// dropped; lost = 0. A loss seen while the pipeline had not drained, or while some drops or sink
// records could not be read, is unknown: the events may still arrive or have been declared. No
// loss among the expected is not yet a pass when many events are indeterminate (outcome unknown
// to the producer, or produced near a job change): a pipeline that answers slower than the
// producer's timeout would otherwise hold vacuously. Past a stated share of the expected, the
// answer is unknown.

import type { Counts } from "../ledger/ledger.ts";
import { count, eventId, percent, plural, share } from "./format.ts";
import type { InvariantResult, Observations } from "./types.ts";

/** Indeterminate events allowed, as a share of the expected, before a pass becomes unknown. */
export const INDETERMINATE_SHARE_MAX_DEFAULT = 0.01;

/** Tenants listed in the evidence, those with the most loss first. */
const TENANT_LIMIT = 20;

function tenantsWithLoss(tenants: Record<string, Counts>) {
  return Object.entries(tenants)
    .filter(([, counts]) => counts.lost > 0)
    .sort(([a, x], [b, y]) => y.lost - x.lost || a.localeCompare(b))
    .map(([tenant, counts]) => ({
      tenant,
      lost: counts.lost,
      expected: counts.expected,
      lostShare: share(counts.lost, counts.expected),
    }));
}

/** Why a loss might not be one yet; empty when the observations are complete. */
function doubts(observations: Observations): string[] {
  const reasons: string[] = [];
  if (!observations.drained) reasons.push("the pipeline did not drain, so they may still arrive");
  if (observations.unreadableDrops.length > 0) {
    reasons.push(
      `the declared drops of ${observations.unreadableDrops.join(", ")} could not be read, so they may have been declared`,
    );
  }
  const sinks = observations.unreadableSinks ?? [];
  if (sinks.length > 0) {
    reasons.push(
      `the records of ${sinks.join(", ")} could not be read, so they may have been delivered`,
    );
  }
  return reasons;
}

/** Whether the indeterminate events are too many for "nothing lost" to mean anything. */
function tooIndeterminate(indeterminate: number, expected: number, shareMax: number): boolean {
  return indeterminate > shareMax * expected;
}

export function checkNoSilentLoss(observations: Observations): InvariantResult {
  const { totals, lostSamples } = observations.ledger;
  const { expected, delivered, declared, lost, indeterminate } = totals;
  const indeterminateShareMax =
    observations.indeterminateShareMax ?? INDETERMINATE_SHARE_MAX_DEFAULT;
  const tenants = tenantsWithLoss(observations.ledger.tenants);
  const reasons = lost > 0 ? doubts(observations) : [];
  const evidence = {
    expected,
    delivered,
    declared,
    lost,
    lostShare: share(lost, expected),
    indeterminate,
    // Null when nothing was expected: any indeterminate event is then over any share.
    indeterminateShare: expected === 0 ? null : indeterminate / expected,
    indeterminateShareMax,
    tenantsWithLoss: tenants.length,
    tenants: tenants.slice(0, TENANT_LIMIT),
    firstLost: lostSamples,
    ...(reasons.length > 0 ? { unsureBecause: reasons } : {}),
  };
  const name = "no-silent-loss";
  if (lost === 0 && tooIndeterminate(indeterminate, expected, indeterminateShareMax)) {
    const of =
      expected === 0
        ? "while no event was expected"
        : `${percent(share(indeterminate, expected))} of the ${count(expected)} expected`;
    const summary =
      `no expected event was lost, but ${plural(indeterminate, "event is", "events are")} indeterminate (${of}; at most ${percent(indeterminateShareMax)} allowed):` +
      " their outcome is unknown to the producer, or they were produced near a job change, so they may have been lost";
    return { name, status: "unknown", summary, evidence };
  }
  if (lost === 0) {
    const summary =
      expected === 0
        ? "held vacuously: no event was expected (none acknowledged while a job covered it)"
        : `${plural(expected, "expected event")}, all delivered (${count(delivered)}) or declared dropped (${count(declared)})`;
    return { name, status: "held", summary, evidence };
  }
  if (reasons.length > 0) {
    const summary = `${plural(lost, "expected event was", "expected events were")} neither delivered nor declared, but ${reasons.join("; and ")}`;
    return { name, status: "unknown", summary, evidence };
  }
  const worst = tenants[0]!;
  const first = lostSamples[0];
  const summary =
    `${count(lost)} of ${count(expected)} expected events (${percent(share(lost, expected))}) lost silently across ${plural(tenants.length, "tenant")}` +
    ` (most: ${worst.tenant}, ${count(worst.lost)} of ${count(worst.expected)})` +
    (first === undefined ? "" : `; first lost: ${eventId(first)}`);
  return { name, status: "violated", summary, evidence };
}
