// A container's memory as `docker stats` shows it: the cgroup's usage less its inactive page
// cache (files read or written long ago, which the kernel drops before it kills anything), on
// cgroup v1 (total_inactive_file) and v2 (inactive_file) alike.

import type Dockerode from "dockerode";

export interface MemoryStats {
  memory_stats?: { usage?: number; stats?: Record<string, number | undefined> };
}

export function memoryInUse(stats: MemoryStats): number | undefined {
  const usage = stats.memory_stats?.usage;
  if (usage === undefined) return undefined;
  const counters = stats.memory_stats?.stats ?? {};
  const inactive = counters.total_inactive_file ?? counters.inactive_file ?? 0;
  return inactive < usage ? usage - inactive : usage;
}

/** A container's memory in use now; undefined when Docker cannot tell (it is gone). */
export async function containerMemoryBytes(
  container: Dockerode.Container,
): Promise<number | undefined> {
  try {
    // one-shot: the figures now, without waiting a second for a CPU delta.
    const stats: MemoryStats = await container.stats({ stream: false, "one-shot": true });
    return memoryInUse(stats);
  } catch {
    return undefined;
  }
}
