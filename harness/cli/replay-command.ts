// `spillway replay <schedule.json>`: runs a saved schedule (from `spillway explore`, or written
// by hand) on the simulator, on processes or in containers and prints the verdict and which
// invariants it saw held, violated and unknown. Exit 0 when the replay reproduces what the
// schedule recorded (its invariant violated; without one, every invariant held: an unknown is
// not a hold), 1 when not, 2 bad input, 3 the harness failed, 130 interrupted.

import { Command } from "commander";
import { writeFile } from "node:fs/promises";
import { runOn } from "../experiment/run-on.ts";
import { baseExperiment, readSchedule, scheduleExperiment } from "../explore/schedule.ts";
import type { Journal } from "../experiment/journal.ts";
import { INVARIANT_NAMES, type InvariantName, type InvariantStatus } from "../invariants/types.ts";
import { formatSummary } from "../report/summary.ts";
import { EXIT } from "./exit.ts";
import { formatStep } from "./explore-command.ts";
import { seedNumber } from "./run-command.ts";
import { addRuntimeOptions, resolveRuntime, type RuntimeFlags } from "./runtimes.ts";

interface ReplayFlags extends RuntimeFlags {
  seed?: number;
  journal?: string;
  toxiproxyUrl?: string;
}

/** Which invariants the run found held, violated and unknown, in the order of INVARIANT_NAMES. */
function seenStatuses(journal: Journal): Record<InvariantStatus, InvariantName[]> {
  const seen: Record<InvariantStatus, InvariantName[]> = { held: [], violated: [], unknown: [] };
  for (const name of INVARIANT_NAMES) {
    const status = journal.verdict?.invariants[name]?.status;
    if (status !== undefined) seen[status].push(name);
  }
  return seen;
}

function formatSeen(seen: Record<InvariantStatus, InvariantName[]>): string {
  return (["held", "violated", "unknown"] as const)
    .map((status) => `${status}: ${seen[status].length === 0 ? "none" : seen[status].join(", ")}`)
    .join("; ");
}

export function replayCommand(): Command {
  return addRuntimeOptions(new Command("replay"), "sim")
    .description(
      "Run a saved fault schedule (e.g. one `spillway explore` found) and print the verdict.",
    )
    .argument("<schedule>", 'a schedule file (JSON with "spillway": "schedule")')
    .option("--seed <n>", "seed of the run (default: the schedule's)", seedNumber)
    .option("--journal <file>", "write the journal (JSON)")
    .option(
      "--toxiproxy-url <url>",
      "use this Toxiproxy instead of the embedded fault proxy (process runtime)",
    )
    .action(async (file: string, flags: ReplayFlags) => {
      const schedule = await readSchedule(file);
      const experiment = scheduleExperiment(await baseExperiment(schedule.base), schedule);
      const seed = flags.seed ?? schedule.seed;
      process.stderr.write(
        `replaying ${file} on ${flags.runtime}: ${schedule.base}, profile ${schedule.profile}${schedule.flaws === undefined ? "" : `, flaws ${schedule.flaws.join(",") || "none"}`}, seed ${seed}\n${schedule.steps.map((step) => `  ${formatStep(step)}\n`).join("")}`,
      );
      const journal = await runOn(await resolveRuntime(flags), experiment, {
        profile: schedule.profile,
        ...(schedule.flaws === undefined ? {} : { flaws: schedule.flaws }),
        seed,
        ...(flags.toxiproxyUrl === undefined ? {} : { toxiproxyUrl: flags.toxiproxyUrl }),
      });
      if (flags.journal !== undefined) {
        await writeFile(flags.journal, JSON.stringify(journal, null, 2) + "\n");
      }
      process.stdout.write(formatSummary([journal], { withExpectations: false }) + "\n");
      if (journal.status === "interrupted") {
        process.exitCode = EXIT.interrupted;
        return;
      }
      if (journal.status !== "completed") {
        process.stdout.write(
          `the run ${journal.status}${journal.error === undefined ? "" : `: ${journal.error}`}\n`,
        );
        process.exitCode = EXIT.harnessFailed;
        return;
      }
      const seen = seenStatuses(journal);
      process.stdout.write(`seen on ${flags.runtime}: ${formatSeen(seen)}\n`);
      const reproduced =
        schedule.invariant === undefined
          ? seen.violated.length === 0 && seen.unknown.length === 0
          : seen.violated.includes(schedule.invariant);
      const recorded =
        schedule.invariant === undefined
          ? "every invariant held"
          : `${schedule.invariant} violated`;
      let verdictLine: string;
      if (reproduced) {
        verdictLine = `reproduced: ${recorded} on ${flags.runtime}, as recorded`;
      } else if (schedule.invariant === undefined) {
        verdictLine = `not reproduced: ${[
          ...(seen.violated.length > 0 ? [`violated: ${seen.violated.join(", ")}`] : []),
          ...(seen.unknown.length > 0 ? [`unknown: ${seen.unknown.join(", ")}`] : []),
        ].join("; ")} on ${flags.runtime} (recorded: ${recorded})`;
      } else {
        const status = journal.verdict?.invariants[schedule.invariant]?.status ?? "not checked";
        verdictLine = `not reproduced: ${schedule.invariant} ${status} on ${flags.runtime} (recorded: violated)`;
      }
      process.stdout.write(verdictLine + "\n");
      process.exitCode = reproduced ? EXIT.asExpected : EXIT.notAsExpected;
    });
}
