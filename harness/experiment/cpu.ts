// CPU seconds a process has used, from /proc/<pid>/stat (utime + stime), for the figures a
// run prints (per-component CPU share).

import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100;

export function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
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
