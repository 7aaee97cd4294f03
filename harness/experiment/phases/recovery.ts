// Recovery watch: from the last heal, when the backlog is back down and every service healthy.

import type { RunState } from "../run-state.ts";

const POLL_MS = 250;

export interface RecoveryWatch {
  /** Stops watching and resolves with when the pipeline recovered (null: not seen). */
  stop(): Promise<number | null>;
}

export function watchRecovery(state: RunState): RecoveryWatch {
  const observer = state.watching();
  const threshold = Math.max(1024 * 1024, 4 * (observer.latestBuffer()?.bytes ?? 0));
  let stopped = false;
  let recoveredAt: number | null = null;
  const watching = (async () => {
    while (!stopped && recoveredAt === null) {
      const sample = observer.latestBuffer();
      if (
        state.lastHealAt !== null &&
        sample !== undefined &&
        sample.at >= state.lastHealAt &&
        sample.bytes <= threshold
      ) {
        const health = await observer.health();
        if (health.unhealthy.length === 0) recoveredAt = health.at;
      }
      await state.clock.sleep(POLL_MS);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await watching;
      if (recoveredAt === null && state.drained) {
        // Recovered by the end of the drain at the latest, if every service is healthy.
        const health = await observer.health();
        if (health.unhealthy.length === 0) recoveredAt = health.at;
      }
      return recoveredAt;
    },
  };
}
