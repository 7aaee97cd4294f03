import { readdirSync, readFileSync } from "node:fs";
import { loadExperiment } from "../../harness/experiment/load.ts";
import type { Journal } from "../../harness/experiment/journal.ts";
import { runExperiment } from "../../harness/experiment/runner.ts";

export async function runShipped(name: string, profile: string): Promise<Journal> {
  return runExperiment(await loadExperiment(name), { profile, seed: 1 });
}

/** Every process descending from `pid` (via /proc's ppid fields). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const visit = (parent: number): void => {
    for (const child of children.get(parent) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
