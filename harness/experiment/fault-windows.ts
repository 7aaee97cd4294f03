// When each fault of a run was in force, from the journal's steps (docs/architecture.md §6): a
// method step until the heal of the same name that follows it, or until the end when none does.

import type { JournalStep } from "./journal.ts";

export interface FaultWindow {
  /** The method step's name: the fault's kind, and its note in parentheses. */
  name: string;
  /** In ms since the run started. */
  from: number;
  to: number;
  /** False when no heal followed: `to` is then the end of the run. */
  healed: boolean;
}

/** Each method step, in the order run (failed ones too), with the heal of its fault if any. */
export function methodStepsWithHeals(
  steps: readonly JournalStep[],
): Array<{ step: JournalStep; heal: JournalStep | undefined }> {
  const heals = steps.filter((step) => step.phase === "heal");
  const used = new Set<number>();
  return steps
    .filter((step) => step.phase === "method")
    .map((step) => {
      if (!step.ok) return { step, heal: undefined };
      const name = step.name.replace(/ \(.*\)$/, "");
      const healIndex = heals.findIndex(
        (heal, index) => !used.has(index) && heal.name === name && heal.startedMs >= step.startedMs,
      );
      if (healIndex >= 0) used.add(healIndex);
      return { step, heal: heals[healIndex] };
    });
}

/** Fault windows from the journal's steps: each method step that succeeded until its heal. */
export function faultWindows(steps: readonly JournalStep[], endMs: number): FaultWindow[] {
  return methodStepsWithHeals(steps)
    .filter(({ step }) => step.ok)
    .map(({ step, heal }) => ({
      name: step.name,
      from: step.startedMs,
      to: heal?.endedMs ?? endMs,
      healed: heal !== undefined,
    }));
}
