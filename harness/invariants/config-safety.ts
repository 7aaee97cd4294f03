// config-safety (docs/architecture.md §5): an invalid config is never applied. Judged from what
// the harness saw, not from the forwarder's word: the configs the config service published
// (read by the harness from GET /config, and judged invalid by the harness: not a config,
// empty, or removing too large a share of pairs at once), and what the forwarder did with
// events while one was the newest — it applied it when it filtered (nearly) every event the
// ledger expected in that stretch, or when pairs that never had a job reached the buffer
// afterwards (fail-open). The forwarder's own decisions are a cross-check: one that admits
// applying an invalid config is believed; one that says it refused is not, where the events
// can tell. A stretch too short to hold enough events falls back to the forwarder's word, and
// the evidence says so.

import type { ConfigDecision } from "../../pipeline/forwarder/config-policy.ts";
import { count, percent, plural, share, when } from "./format.ts";
import type { InvalidConfigWindow, InvariantResult, Observations } from "./types.ts";

const DECISIONS_LIMIT = 10;
/** Fewer expected events than this in a stretch cannot tell what the forwarder did. */
export const JUDGED_EVENTS_MIN = 20;
/** The share of a stretch's expected events lost that means the forwarder filtered them all. */
export const FILTERED_SHARE_MIN = 0.9;

const describe = (decision: ConfigDecision) => ({
  version: decision.version,
  at: decision.at,
  reason: decision.reason,
  failOpen: decision.failOpen,
});

const versionOf = (version: number | null): string =>
  version === null ? "an unversioned config" : `version ${version}`;

function filtered(window: InvalidConfigWindow): boolean {
  return (
    window.expected >= JUDGED_EVENTS_MIN &&
    share(window.lost, window.expected) >= FILTERED_SHARE_MIN
  );
}

export function checkConfigSafety(observations: Observations): InvariantResult {
  const name = "config-safety";
  const seen = observations.configSeen;
  const decisions = observations.configDecisions;
  const admitted = decisions.filter((decision) => !decision.valid && decision.applied);
  const forwarderSays = {
    decisions: decisions.length,
    appliedInvalid: admitted.slice(0, DECISIONS_LIMIT).map(describe),
    refusedInvalid: decisions
      .filter((decision) => !decision.valid && !decision.applied)
      .slice(0, DECISIONS_LIMIT)
      .map(describe),
  };
  if (seen === undefined || seen.read === 0) {
    return {
      name,
      status: "unknown",
      summary:
        "the harness read no config from the config service: what was published, and so whether an invalid one was applied, is unknown",
      evidence: { forwarderSays },
    };
  }
  const startedAt = observations.startedAt;
  const windows = seen.invalid.map((window) => ({
    ...window,
    lostShare: share(window.lost, window.expected),
    judgedBy: window.expected >= JUDGED_EVENTS_MIN ? "events" : "forwarder's report",
  }));
  const failOpen =
    seen.failOpen !== null && seen.failOpen.buffers > seen.failOpen.pairsWithJob
      ? seen.failOpen
      : null;
  const evidence = {
    configsRead: seen.read,
    invalidPublished: windows,
    failOpen: seen.failOpen,
    forwarderSays,
  };

  const breaches: string[] = [];
  const firstFiltered = seen.invalid.find(filtered);
  if (firstFiltered !== undefined) {
    breaches.push(
      `while ${versionOf(firstFiltered.version)} (${firstFiltered.reason}) was the newest config, from ${when(firstFiltered.from, startedAt)} to ${when(firstFiltered.to, startedAt)}, ${count(firstFiltered.lost)} of the ${count(firstFiltered.expected)} expected events (${percent(share(firstFiltered.lost, firstFiltered.expected))}) were filtered: the forwarder applied it`,
    );
  }
  if (failOpen !== null) {
    breaches.push(
      `after an invalid config the buffer held ${count(failOpen.buffers)} buffers at ${when(failOpen.at, startedAt)}, while only ${count(failOpen.pairsWithJob)} pairs ever had a job: the forwarder forwarded pairs with no job (fail-open)`,
    );
  }
  const firstAdmitted = admitted[0];
  if (firstAdmitted !== undefined) {
    breaches.push(
      `the forwarder reports it applied ${plural(admitted.length, "invalid config")}; first: ${versionOf(firstAdmitted.version)} at ${when(firstAdmitted.at, startedAt)}` +
        (firstAdmitted.reason === null ? "" : ` (${firstAdmitted.reason})`),
    );
  }
  if (breaches.length > 0)
    return { name, status: "violated", summary: breaches.join("; "), evidence };
  if (seen.invalid.length === 0) {
    return {
      name,
      status: "held",
      summary: `no invalid config was published (${plural(seen.read, "config")} read from the config service)`,
      evidence,
    };
  }
  const byEvents = windows.filter((window) => window.judgedBy === "events").length;
  return {
    name,
    status: "held",
    summary:
      `${plural(seen.invalid.length, "invalid config")} published, none applied: ` +
      (byEvents === windows.length
        ? "the forwarder went on delivering what the ledger expected while each was the newest"
        : `${count(byEvents)} judged by the events delivered meanwhile, ${count(windows.length - byEvents)} too brief to hold ${JUDGED_EVENTS_MIN} expected events, judged by the forwarder's report that it refused them`),
    evidence,
  };
}
