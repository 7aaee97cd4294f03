// The drain: after the workload stops, wait until the pipeline has nothing left to deliver.

import type { RunState } from "../run-state.ts";

/** How long the buffer must hold the same bytes, with nothing leased, to count as stuck. */
const QUIET_MS = 3_000;
/** Readings within the quiet window needed before it counts (the observer reads every 250 ms). */
const QUIET_READINGS_MIN = 8;
const POLL_MS = 250;

/**
 * Drained: the buffer is empty, or it has held the same bytes for a while with nothing
 * leased (what is left belongs to no job and will never move; the ledger counts anything
 * expected among it as lost). A batch leased to a pusher — one that died holding it, say — is
 * still on its way: the drain waits until the lease is acked or lapses and is leased again.
 */
export async function drain(state: RunState): Promise<boolean> {
  const observer = state.watching();
  const drainStart = state.clock.now();
  const deadline = drainStart + state.experiment.drain.timeout;
  while (state.clock.now() < deadline) {
    const samples = observer.bufferSamples;
    const latest = samples[samples.length - 1];
    // Only a reading taken after the workload stopped can say the buffer drained: an older
    // one may predate the last appends (found by explore on the simulator, where a reading
    // and the workload's last batch can fall on the same millisecond).
    if (latest !== undefined && latest.at > drainStart) {
      if (latest.bytes === 0) return true;
      const window = samples.filter((sample) => sample.at >= latest.at - QUIET_MS);
      const steady =
        window.length >= QUIET_READINGS_MIN &&
        window[0]!.at <= latest.at - QUIET_MS + 500 &&
        window.every((sample) => sample.bytes === latest.bytes && (sample.leases ?? 0) === 0);
      if (steady) {
        state.note(`drained: the buffer keeps ${latest.bytes} bytes that no job drains`);
        return true;
      }
    }
    await state.clock.sleep(POLL_MS);
  }
  return false;
}
