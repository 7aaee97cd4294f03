// `spillway run --step signal` on real processes (docs/architecture.md §6, "Game days"): a fault
// is injected only after the facilitator's SIGUSR1, the journal records every wait, and Ctrl-C
// while waiting heals, rolls back, journals `interrupted` and exits 130, leaving nothing running.

import { execa } from "execa";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Journal } from "../../harness/experiment/journal.ts";
import { realClock } from "../../pipeline/host/real-seam.ts";
import { alive, descendants } from "../experiments/support.ts";
import { eventually, survivors } from "../runtime/support.ts";
import { useTempDir } from "../support/temp-dir.ts";

const CLI = path.resolve("harness/cli/main.ts");
const directory = useTempDir("spillway-step-");

const WAITED = /^waited for the facilitator \d+\.\d s$/;

describe("spillway run --step", () => {
  it(
    "injects a fault only after SIGUSR1, journals the waits, and Ctrl-C while waiting heals, rolls back and exits 130",
    { timeout: 60_000 },
    async () => {
      const experiment = path.join(directory, "two-steps.json");
      writeFileSync(
        experiment,
        JSON.stringify({
          name: "two-steps",
          description: "two faults a facilitator steps through",
          workload: { tenants: 4, eventsPerSecond: 200, batchSize: 20 },
          duration: "30s",
          warmup: "500ms",
          method: [
            { at: "0s", for: "1s", fault: { kind: "load.surge", multiplier: 2 } },
            { at: "1s", fault: { kind: "process.pause", service: "pusher" } },
          ],
          rollbacks: [{ kind: "load.surge", multiplier: 1 }],
        }),
      );
      const journalFile = path.join(directory, "journal.json");
      const run = execa(
        process.execPath,
        [CLI, "run", experiment, "--step", "signal", "--journal", journalFile],
        { reject: false, timeout: 50_000 },
      );
      let stderr = "";
      run.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const harness = run.pid!;
      const until = async (text: string) => {
        await eventually(() => stderr.includes(text), 40_000);
        expect(stderr).toContain(text);
      };
      let started: number[] = [];
      try {
        await until("next: fault 1 of 2");
        expect(stderr).toContain(`kill -USR1 ${harness} to inject`);
        // Held at the prompt: the go comes half a second later.
        await realClock.sleep(500);
        process.kill(harness, "SIGUSR1");
        await until("next: fault 2 of 2");
        started = descendants(harness);
        process.kill(harness, "SIGINT");
        const result = await run;
        expect(result.exitCode).toBe(130);
        const journal = JSON.parse(readFileSync(journalFile, "utf8")) as Journal;
        expect(journal.status).toBe("interrupted");
        const steps = journal.steps.filter((step) =>
          ["facilitator", "method", "heal", "rollback"].includes(step.phase),
        );
        expect(
          steps.map((step) => [step.phase, WAITED.test(step.name) ? "wait" : step.name]),
        ).toEqual([
          ["facilitator", "wait"],
          ["method", "load.surge"],
          ["heal", "load.surge"],
          ["facilitator", "wait"],
          ["rollback", "load.surge"],
        ]);
        const [firstWait, surge, , secondWait] = steps;
        expect(firstWait!.ok).toBe(true);
        expect(firstWait!.endedMs - firstWait!.startedMs).toBeGreaterThanOrEqual(500);
        expect(surge!.startedMs).toBeGreaterThanOrEqual(firstWait!.endedMs);
        expect(secondWait).toMatchObject({ ok: false, detail: "interrupted" });
        // The pause was never injected.
        expect(journal.steps.some((step) => step.name.startsWith("process.pause"))).toBe(false);
        expect(await survivors(started, 10_000)).toEqual([]);
      } finally {
        for (const pid of [harness, ...started]) if (alive(pid)) process.kill(pid, "SIGKILL");
      }
    },
  );
});
