// The steady-state hypothesis (Chaos Toolkit's gate): checked before the method (the run aborts
// when it does not hold) and after the faults heal, while the workload still runs (the run is
// `deviated` when it does not hold again). Before: every service healthy and events
// acknowledged. After: every service healthy and the pipeline accepting at least
// `acceptanceShareMin` of the load offered during a probe window.

import type { RunState } from "../run-state.ts";

/** The pause between two probes of a hypothesis that does not hold yet. */
const PROBE_PAUSE_MS = 500;

/** Probes until the hypothesis holds or its timeout passes; notes what failed last. */
export async function steadyStateHolds(
  state: RunState,
  when: "before" | "after",
  health: () => Promise<{ unhealthy: string[] }> = () => state.watching().health(),
): Promise<boolean> {
  const hypothesis = state.experiment.steadyState;
  return state.step("steady-state", `hypothesis ${when}`, async () => {
    const workload = state.producing();
    const deadline = state.clock.now() + hypothesis.timeout;
    let problems: string[];
    do {
      problems = [];
      if (hypothesis.healthy) {
        const { unhealthy } = await health();
        if (unhealthy.length > 0) problems.push(`unhealthy: ${unhealthy.join(", ")}`);
      }
      const before = workload.stats();
      await state.sleep(hypothesis.deliveringWithin);
      const after = workload.stats();
      const acked = after.acked - before.acked;
      const offered = after.produced - before.produced;
      if (when === "before" && acked === 0) {
        problems.push(`nothing acknowledged within ${hypothesis.deliveringWithin} ms`);
      }
      if (when === "after" && offered > 0 && acked / offered < hypothesis.acceptanceShareMin) {
        problems.push(
          `${acked} of ${offered} offered events acknowledged within ${hypothesis.deliveringWithin} ms (${Math.round((100 * acked) / offered)}%, below ${Math.round(100 * hypothesis.acceptanceShareMin)}%)`,
        );
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
