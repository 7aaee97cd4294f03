// The invariants of docs/architecture.md §5, one file each, registered here by name. Each answers
// held, violated or unknown from the observations of a run, with a one-line summary and evidence.

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

/** Checks the named invariants (all by default), once each, in the order given. */
export function checkInvariants(
  observations: Observations,
  names: readonly InvariantName[] = INVARIANT_NAMES,
): InvariantResult[] {
  return [...new Set(names)].map((name) => INVARIANTS[name](observations));
}
