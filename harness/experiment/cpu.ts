// CPU seconds a process has used, from /proc/<pid>/stat (utime + stime), for the figures a
// run prints (per-component CPU share).

import { PROC_TICKS_PER_SECOND, readStat } from "../runtime/process/proc.ts";

export function cpuSecondsOf(pid: number | undefined): number | undefined {
  const stat = pid === undefined ? undefined : readStat(pid);
  return stat === undefined ? undefined : stat.cpuTicks / PROC_TICKS_PER_SECOND;
}

/** CPU seconds per service, plus the harness itself under the name `harness`. */
export function cpuSnapshot(
  services: ReadonlyArray<{ name: string; pid(): number | undefined }>,
): Record<string, number> {
  const snapshot: Record<string, number> = {};
  for (const service of services) snapshot[service.name] = cpuSecondsOf(service.pid()) ?? 0;
  const usage = process.cpuUsage();
  snapshot.harness = (usage.user + usage.system) / 1e6;
  return snapshot;
}
