// The steady-state hypothesis (Chaos Toolkit's gate): checked before the method (the run aborts
// when it does not hold) and after it (the run is `deviated` when it does not hold again).

import type { RunState } from "../run-state.ts";

/** The pause between two probes of a hypothesis that does not hold yet. */
const PROBE_PAUSE_MS = 500;

/** Probes until the hypothesis holds or its timeout passes; notes what failed last. */
export async function steadyStateHolds(
  state: RunState,
  when: "before" | "after",
): Promise<boolean> {
  const hypothesis = state.experiment.steadyState;
  return state.step("steady-state", `hypothesis ${when}`, async () => {
    const { workload, observer } = state.running();
    const deadline = state.clock.now() + hypothesis.timeout;
    let problems: string[];
    do {
      problems = [];
      if (hypothesis.healthy) {
        const health = await observer.health();
        if (health.unhealthy.length > 0) problems.push(`unhealthy: ${health.unhealthy.join(", ")}`);
      }
      if (when === "before") {
        const before = workload.stats().acked;
        await state.sleep(hypothesis.deliveringWithin);
        if (workload.stats().acked === before) {
          problems.push(`nothing acknowledged within ${hypothesis.deliveringWithin} ms`);
        }
      }
      if (problems.length === 0) return true;
      await state.sleep(PROBE_PAUSE_MS);
    } while (state.clock.now() < deadline);
    state.note(
      `steady-state hypothesis ${when} not met within ${hypothesis.timeout} ms: ${problems.join("; ")}`,
    );
    return false;
  });
}
