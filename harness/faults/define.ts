// Small helpers every fault family uses: declaring a kind with its literal name kept in the
// type (so that registry.ts can type a fault step per kind), and turning an inverse into an
// ActiveFault whose heal runs once however often it is called.

import type { z } from "zod";
import type { ActiveFault, FaultKind } from "./fault.ts";

/** A fault kind whose name is known to the type checker, e.g. `"process.kill"`. */
export type NamedFaultKind<Name extends string, Schema extends z.ZodType> = FaultKind<Schema> & {
  readonly name: Name;
};

export function defineFault<const Name extends string, Schema extends z.ZodType>(
  kind: NamedFaultKind<Name, Schema>,
): NamedFaultKind<Name, Schema> {
  if (!kind.name.startsWith(`${kind.family}.`)) {
    throw new Error(`fault kind "${kind.name}" must be named "${kind.family}.<fault>"`);
  }
  return kind;
}

/**
 * The fault in force, healed by `inverse`. Heals after the first successful one do nothing;
 * calls while one is running share it; a heal that failed is tried again on the next call.
 */
export function healedBy(inverse: () => Promise<void>): ActiveFault {
  let healing: Promise<void> | undefined;
  return {
    heal() {
      healing ??= inverse().catch((error: unknown) => {
        healing = undefined;
        throw error;
      });
      return healing;
    },
  };
}

/** A fault with no inverse (a restart, a revert): healing it does nothing. */
export function nothingToHeal(): ActiveFault {
  return { heal: async () => {} };
}
