// The method: the experiment's timed faults, each injected at its offset and, when it has a
// `for`, healed after it. Faults without one stay in force until healAll.

import type { ActiveFault, FaultContext } from "../../faults/fault.ts";
import { faultKind } from "../../faults/registry.ts";
import type { FaultStep, MethodStep } from "../definition.ts";
import type { ActiveEntry, RunState } from "../run-state.ts";

export interface PreparedFault {
  name: string;
  run: (context: FaultContext) => Promise<ActiveFault>;
}

/** The fault's parameters, parsed by its kind's schema (the experiment was validated). */
export function prepareFault(fault: FaultStep): PreparedFault {
  const { kind: name, ...params } = fault;
  const kind = faultKind(name);
  const parsed = kind.params.parse(params);
  return { name, run: (context) => kind.inject(context, parsed) };
}

/** Heals one fault in force: takes it off the active list and records when the heal ended. */
export async function healFault(state: RunState, entry: ActiveEntry): Promise<void> {
  const index = state.active.indexOf(entry);
  if (index >= 0) state.active.splice(index, 1);
  try {
    await state.step("heal", entry.name, () => entry.fault.heal());
  } finally {
    state.lastHealAt = state.clock.now();
  }
}

/** The method's steps in the order they run: by offset, then as written. */
export function methodOrder(method: readonly MethodStep[]): MethodStep[] {
  return method
    .map((step, index) => ({ step, index }))
    .sort((a, b) => a.step.at - b.step.at || a.index - b.index)
    .map(({ step }) => step);
}

/** Runs the method from `methodStart`: every fault at its offset, every timed heal at its time. */
export async function runMethod(state: RunState, methodStart: number): Promise<void> {
  const pending = methodOrder(state.experiment.method).map((step) => ({
    ...step,
    prepared: prepareFault(step.fault),
  }));
  const heals: Array<{ at: number; entry: ActiveEntry }> = [];
  while (pending.length > 0 || heals.length > 0) {
    const now = state.clock.now() - methodStart;
    const nextStart = pending[0]?.at ?? Number.POSITIVE_INFINITY;
    const nextHeal = Math.min(Number.POSITIVE_INFINITY, ...heals.map((heal) => heal.at));
    const wait = Math.min(nextStart, nextHeal) - now;
    if (wait > 0) {
      await state.sleep(wait);
      continue;
    }
    if (nextHeal <= nextStart) {
      const [due] = heals.splice(
        heals.findIndex((heal) => heal.at === nextHeal),
        1,
      );
      await healFault(state, due!.entry);
      continue;
    }
    const step = pending.shift()!;
    state.firstFaultAt ??= state.clock.now();
    const fault = await state.step(
      "method",
      step.prepared.name + (step.note ? ` (${step.note})` : ""),
      () => step.prepared.run(state.faultContext()),
    );
    const entry = { name: step.prepared.name, fault };
    state.active.push(entry);
    if (step.for !== undefined) heals.push({ at: step.at + step.for, entry });
  }
}
