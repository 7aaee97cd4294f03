// `spillway replay <schedule.json>`: runs a saved schedule (from `spillway explore`, or written
// by hand) on the simulator, on processes or in containers and prints the verdict. Exit 0 when the replay
// reproduces what the schedule recorded (its invariant violated; without one, every invariant
// held), 1 when not, 2 bad input, 3 the harness failed, 130 interrupted.

import { Command } from "commander";
import { writeFile } from "node:fs/promises";
import { runOn } from "../experiment/run-on.ts";
import { baseExperiment, readSchedule, scheduleExperiment } from "../explore/schedule.ts";
import { INVARIANT_NAMES } from "../invariants/types.ts";
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
      const violated = INVARIANT_NAMES.filter(
        (name) => journal.verdict?.invariants[name]?.status === "violated",
      );
      const reproduced =
        schedule.invariant === undefined
          ? violated.length === 0
          : violated.includes(schedule.invariant);
      let verdictLine: string;
      if (schedule.invariant === undefined) {
        verdictLine = reproduced ? "every invariant held" : `violated: ${violated.join(", ")}`;
      } else if (reproduced) {
        verdictLine = `reproduced: ${schedule.invariant} violated on ${flags.runtime}, as recorded`;
      } else {
        const status = journal.verdict?.invariants[schedule.invariant]?.status ?? "unknown";
        verdictLine = `not reproduced: ${schedule.invariant} ${status} on ${flags.runtime} (recorded: violated)`;
      }
      process.stdout.write(verdictLine + "\n");
      process.exitCode = reproduced ? EXIT.asExpected : EXIT.notAsExpected;
    });
}
