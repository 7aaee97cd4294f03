// Ctrl-C during a run: faults heal, rollbacks run, the journal says interrupted, the command
// exits 130, and nothing it started is left running.

import { execa } from "execa";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { realClock } from "../../pipeline/host/real-seam.ts";
import { alive, descendants } from "../experiments/support.ts";
import { useTempDir } from "../support/temp-dir.ts";

const CLI = path.resolve("harness/cli/main.ts");
const directory = useTempDir("spillway-interrupt-");

function state(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0];
  } catch {
    return undefined;
  }
}

describe("interrupting spillway run", () => {
  it(
    "heals, rolls back, writes an interrupted journal, exits 130 and leaves nothing running",
    { timeout: 120_000 },
    async () => {
      const experiment = path.join(directory, "long-pause.json");
      writeFileSync(
        experiment,
        JSON.stringify({
          name: "long-pause",
          description: "pauses the pusher for a long time, to be interrupted",
          duration: "90s",
          warmup: "1s",
          method: [{ at: "0s", for: "80s", fault: { kind: "process.pause", service: "pusher" } }],
          rollbacks: [{ kind: "load.surge", multiplier: 1 }],
        }),
      );
      const journalFile = path.join(directory, "journal.json");
      const run = execa(process.execPath, [CLI, "run", experiment, "--journal", journalFile], {
        reject: false,
      });
      const harness = run.pid!;
      let started: number[] = [];
      try {
        // Wait until the fault is in force: a descendant stopped by SIGSTOP.
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline) {
          started = descendants(harness);
          if (started.some((pid) => state(pid) === "T")) break;
          await realClock.sleep(200);
        }
        expect(started.some((pid) => state(pid) === "T")).toBe(true);
        process.kill(harness, "SIGINT");
        const result = await run;
        expect(result.exitCode).toBe(130);
        const journal = JSON.parse(readFileSync(journalFile, "utf8"));
        expect(journal.status).toBe("interrupted");
        expect(journal.steps).toContainEqual(
          expect.objectContaining({ phase: "heal", name: "process.pause", ok: true }),
        );
        expect(journal.steps).toContainEqual(
          expect.objectContaining({ phase: "rollback", name: "load.surge", ok: true }),
        );
        const deadlineDead = Date.now() + 10_000;
        while (started.some(alive) && Date.now() < deadlineDead) await realClock.sleep(100);
        expect(started.filter(alive)).toEqual([]);
      } finally {
        for (const pid of [harness, ...started]) if (alive(pid)) process.kill(pid, "SIGKILL");
      }
      expect(existsSync(journalFile)).toBe(true);
    },
  );
});
