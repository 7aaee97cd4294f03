// config-safety (docs/architecture.md §5): an invalid config is never applied. The forwarder
// records every config it considered, whether it passed the hardened check and whether it was put
// in force; a decision both invalid and applied is the violation. With no decision at all, the
// forwarder's behaviour is unknown.

import type { ConfigDecision } from "../../pipeline/forwarder/config-policy.ts";
import { count, plural, when } from "./format.ts";
import type { InvariantResult, Observations } from "./types.ts";

const DECISIONS_LIMIT = 10;

const describe = (decision: ConfigDecision) => ({
  version: decision.version,
  at: decision.at,
  reason: decision.reason,
  failOpen: decision.failOpen,
});

export function checkConfigSafety(observations: Observations): InvariantResult {
  const decisions = observations.configDecisions;
  const invalid = decisions.filter((decision) => !decision.valid);
  const applied = invalid.filter((decision) => decision.applied);
  const refused = invalid.filter((decision) => !decision.applied);
  const evidence = {
    decisions: decisions.length,
    invalid: invalid.length,
    appliedInvalid: applied.slice(0, DECISIONS_LIMIT).map(describe),
    refusedInvalid: refused.slice(0, DECISIONS_LIMIT).map(describe),
    failOpenDecisions: decisions.filter((decision) => decision.failOpen).length,
  };
  const name = "config-safety";
  if (decisions.length === 0) {
    return {
      name,
      status: "unknown",
      summary:
        "no config decision of the forwarder was recorded: whether it applied an invalid config is unknown",
      evidence,
    };
  }
  const first = applied[0];
  if (first !== undefined) {
    const version = first.version === null ? "an unversioned config" : `version ${first.version}`;
    return {
      name,
      status: "violated",
      summary:
        `${plural(applied.length, "invalid config")} applied; first: ${version} at ${when(first.at, observations.startedAt)}` +
        (first.reason === null ? "" : ` (${first.reason})`),
      evidence,
    };
  }
  return {
    name,
    status: "held",
    summary:
      invalid.length === 0
        ? `${plural(decisions.length, "config")} considered by the forwarder, all valid`
        : `${plural(invalid.length, "invalid config")} of ${count(decisions.length)} considered, every one refused`,
    evidence,
  };
}
