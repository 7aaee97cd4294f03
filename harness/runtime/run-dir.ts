// The working directory of a run (service logs, the process runtime's data): a fresh
// `spillway-run-*` directory under the temp root, removed when the run's topology stops. It holds
// a file naming the harness that made it (and the run id, where the runtime has one), so that
// `spillway clean` can remove the directories of harnesses killed with SIGKILL, which could not,
// after ending the process groups recorded there that still run (group-record.ts).

import { mkdirSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { harnessAlive, harnessIdentity } from "./harness-identity.ts";
import { endRecordedGroups } from "./process/group-record.ts";

export const RUN_DIR_PREFIX = "spillway-run-";
const OWNER_FILE = "harness.json";
/** A directory without its owner file is left alone this long: its harness may be writing it. */
const UNOWNED_GRACE_MS = 60_000;

interface Owner {
  harness?: string;
  run?: string;
}

/** Creates a run directory with `logs/` and its owner file under `root` (default: tmpdir). */
export async function createRunDir(options: { root?: string; runId?: string } = {}) {
  const dir = await mkdtemp(path.join(options.root ?? tmpdir(), RUN_DIR_PREFIX));
  const owner: Owner = { harness: harnessIdentity(), run: options.runId };
  await writeFile(path.join(dir, OWNER_FILE), JSON.stringify(owner) + "\n");
  mkdirSync(path.join(dir, "logs"));
  return dir;
}

async function ownerOf(dir: string): Promise<Owner | null> {
  try {
    return JSON.parse(await readFile(path.join(dir, OWNER_FILE), "utf8")) as Owner;
  } catch {
    return null;
  }
}

export interface RunDirReport {
  /** Removed (or, on a dry run, would be). */
  removed: string[];
  /** Left alone: their harness still runs. */
  live: string[];
  /** Process groups recorded in the removed directories and SIGKILLed (or, on a dry run, would be). */
  endedGroups: string[];
}

/**
 * Removes the run directories under `root` whose harness is gone (all of them with `all`; only
 * those of one run with `runId`), each after SIGKILLing the process groups recorded in it that
 * still run. A directory with no readable owner file (made by an older
 * Spillway, or one being created) counts as gone once it is a minute old.
 */
export async function cleanRunDirs(
  options: { root?: string; runId?: string; all?: boolean; dryRun?: boolean } = {},
): Promise<RunDirReport> {
  const root = options.root ?? tmpdir();
  const report: RunDirReport = { removed: [], live: [], endedGroups: [] };
  const names = (await readdir(root)).filter((name) => name.startsWith(RUN_DIR_PREFIX)).sort();
  for (const name of names) {
    const dir = path.join(root, name);
    const info = await stat(dir).catch(() => null);
    if (info === null || !info.isDirectory()) continue;
    const owner = await ownerOf(dir);
    if (options.runId !== undefined && owner?.run !== options.runId) continue;
    if (owner === null && Date.now() - info.mtimeMs < UNOWNED_GRACE_MS) continue;
    if (options.all !== true && owner !== null && harnessAlive(owner.harness)) {
      report.live.push(dir);
      continue;
    }
    for (const group of await endRecordedGroups(dir, { dryRun: options.dryRun }))
      report.endedGroups.push(`${group.name} (process group ${group.pgid}, in ${dir})`);
    if (options.dryRun !== true) await rm(dir, { recursive: true, force: true });
    report.removed.push(dir);
  }
  return report;
}
