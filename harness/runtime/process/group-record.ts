// The process groups a run started, written down in its run directory as each starts, so that
// `spillway clean` can end those a SIGKILLed harness left running: third-party software does
// not watch its parent the way the pipeline's components do (docs/architecture.md §3).

import { appendFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { groupStillOurs, signalGroup } from "./process-group.ts";

const GROUPS_FILE = "process-groups.ndjson";

export interface GroupRecord {
  /** The service that ran as this group. */
  name: string;
  /** The group's id: its leader's pid. */
  pgid: number;
  /** The leader's start time (ProcStat.startTime): tells it from a later process of that pid. */
  startTime: string;
}

/**
 * Appends `group` to the run directory's record (one JSON line each, so that services starting
 * together do not overwrite each other). Synchronous: the record must exist before the harness
 * can be killed with the group unrecorded.
 */
export function recordGroup(runDir: string, group: GroupRecord): void {
  appendFileSync(path.join(runDir, GROUPS_FILE), `${JSON.stringify(group)}\n`);
}

function isGroupRecord(value: unknown): value is GroupRecord {
  const record = value as Partial<GroupRecord> | null;
  return (
    typeof record?.name === "string" &&
    Number.isInteger(record.pgid) &&
    (record.pgid ?? 0) > 1 &&
    typeof record.startTime === "string"
  );
}

/** The groups recorded in `runDir`, skipping lines that are not records (a torn last write). */
export async function recordedGroups(runDir: string): Promise<GroupRecord[]> {
  const text = await readFile(path.join(runDir, GROUPS_FILE), "utf8").catch(() => "");
  return text.split("\n").flatMap((line) => {
    try {
      const value: unknown = JSON.parse(line);
      return isGroupRecord(value) ? [value] : [];
    } catch {
      return [];
    }
  });
}

/**
 * SIGKILLs every group recorded in `runDir` that is still the one recorded (its leader the same
 * process, or gone with members left); returns those groups. With `dryRun`, only lists them.
 */
export async function endRecordedGroups(
  runDir: string,
  options: { dryRun?: boolean } = {},
): Promise<GroupRecord[]> {
  const ended: GroupRecord[] = [];
  for (const group of await recordedGroups(runDir)) {
    if (!(await groupStillOurs(group.pgid, group.startTime))) continue;
    if (options.dryRun === true || signalGroup(group.pgid, "SIGKILL")) ended.push(group);
  }
  return ended;
}
