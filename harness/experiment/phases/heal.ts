// After the method, always (also on failure and interruption): every fault still in force is
// healed, newest first, then the experiment's rollbacks run. A heal or rollback that fails is
// journaled and does not stop the others.

import type { RunState } from "../run-state.ts";
import { healFault, prepareFault } from "./method.ts";

export async function healAll(state: RunState): Promise<void> {
  while (state.active.length > 0) {
    await healFault(state, state.active[state.active.length - 1]!).catch(() => undefined);
  }
}

export async function runRollbacks(state: RunState): Promise<void> {
  for (const rollback of state.experiment.rollbacks) {
    await state
      .step("rollback", rollback.kind, async () => {
        await prepareFault(rollback).run(state.faultContext());
      })
      .catch(() => undefined);
    state.lastHealAt = state.clock.now();
  }
}
