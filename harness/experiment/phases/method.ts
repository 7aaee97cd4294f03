// The method: the experiment's timed faults, each injected at its offset and, when it has a
// `for`, healed after it. Faults without one stay in force until healAll. With a facilitator
// (`spillway run --step`) each fault waits for a go, and the wait pauses the method's schedule
// (docs/architecture.md §6, "Game days").

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

/** The fault a facilitator is asked about: the step, and its place in the method's order. */
export interface UpcomingFault {
  step: MethodStep;
  /** 0-based, in methodOrder. */
  index: number;
  count: number;
}

/**
 * Awaited before each fault is injected (`spillway run --step`): resolves on the facilitator's
 * go. `signal` aborts when the run is halted (interrupted, or an abort condition tripped), its
 * reason the error the wait ends with, so that the facilitator stops listening.
 */
export type BeforeFault = (upcoming: UpcomingFault, signal: AbortSignal) => Promise<void>;

/**
 * Waits for the facilitator's go before `upcoming`, or until the run is halted, and journals the
 * wait; returns how long the run's clock advanced meanwhile (nothing on the simulator, whose
 * time stands still).
 */
async function awaitFacilitator(
  state: RunState,
  beforeFault: BeforeFault,
  upcoming: UpcomingFault,
): Promise<number> {
  // No prompt for a fault that would not go in.
  state.haltIfStopped();
  const clockBefore = state.clock.now();
  const startedMs = state.since();
  // Real seconds for the journal: on the simulator the run's clock does not move.
  const wallBefore = performance.now();
  const outside = state.unlessHalted(beforeFault(upcoming, state.halted));
  /** `detail`: why the wait ended without a go (Interrupted's or AbortTripped's message). */
  const journal = (detail?: string) =>
    state.steps.push({
      // A phase of its own: the method's steps are its faults (fault-windows.ts reads them so).
      phase: "facilitator",
      name: `waited for the facilitator ${((performance.now() - wallBefore) / 1000).toFixed(1)} s`,
      startedMs,
      endedMs: state.since(),
      ok: detail === undefined,
      ...(detail === undefined ? {} : { detail }),
    });
  try {
    await (state.runtime.awaitOutside?.(outside) ?? outside);
  } catch (failure) {
    journal(failure instanceof Error ? failure.message : String(failure));
    throw failure;
  }
  journal();
  return state.clock.now() - clockBefore;
}

/**
 * Runs the method from `methodStart`: every fault at its offset, every timed heal at its time.
 * Returns how long it was paused for the facilitator: every wait moves the rest of the schedule
 * (later faults and pending heals) by its length, so faults keep their spacing and overlaps.
 */
export async function runMethod(state: RunState, methodStart: number): Promise<number> {
  const { beforeFault } = state.options;
  const ordered = methodOrder(state.experiment.method);
  const pending = ordered.map((step, index) => ({
    ...step,
    index,
    prepared: prepareFault(step.fault),
  }));
  let pausedMs = 0;
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
    if (beforeFault !== undefined) {
      const waitedMs = await awaitFacilitator(state, beforeFault, {
        step: ordered[step.index]!,
        index: step.index,
        count: ordered.length,
      });
      methodStart += waitedMs;
      pausedMs += waitedMs;
    }
    // No fault goes in after an interruption or a tripped abort condition, whatever the timing.
    state.haltIfStopped();
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
  return pausedMs;
}
