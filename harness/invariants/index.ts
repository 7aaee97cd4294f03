// The invariants of docs/architecture.md §5, one file each, registered here by name. Each answers
// held, violated or unknown from the observations of a run, with a one-line summary and
// evidence. A check that throws answers unknown, with the error as its evidence: one broken
// check never costs the run the other verdicts.

import { checkBoundedBuffer } from "./bounded-buffer.ts";
import { checkConfigSafety } from "./config-safety.ts";
import { checkNoSilentLoss } from "./no-silent-loss.ts";
import { checkRecovery } from "./recovery.ts";
import { checkTenantIsolation } from "./tenant-isolation.ts";
import {
  INVARIANT_NAMES,
  type InvariantCheck,
  type InvariantName,
  type InvariantResult,
  type Observations,
} from "./types.ts";

export { formatInvariant } from "./format.ts";

export const INVARIANTS: Readonly<Record<InvariantName, InvariantCheck>> = {
  "no-silent-loss": checkNoSilentLoss,
  "bounded-buffer": checkBoundedBuffer,
  "tenant-isolation": checkTenantIsolation,
  "config-safety": checkConfigSafety,
  recovery: checkRecovery,
};

/** Lines of a failed check's stack kept in its evidence. */
const STACK_LINES_MAX = 8;

/** Runs one check; a throw becomes `unknown` naming the error. */
export function checkSafely(
  name: InvariantName,
  check: InvariantCheck,
  observations: Observations,
): InvariantResult {
  try {
    return check(observations);
  } catch (failure) {
    const error = failure instanceof Error ? failure : new Error(String(failure));
    return {
      name,
      status: "unknown",
      summary: `the check itself failed, so the invariant was not judged: ${error.message}`,
      evidence: {
        error: error.message,
        stack: (error.stack ?? "").split("\n").slice(0, STACK_LINES_MAX),
      },
    };
  }
}

/** Checks the named invariants (all by default), once each, in the order given. */
export function checkInvariants(
  observations: Observations,
  names: readonly InvariantName[] = INVARIANT_NAMES,
): InvariantResult[] {
  return [...new Set(names)].map((name) => checkSafely(name, INVARIANTS[name], observations));
}
