// `spillway steady`: a steady-state run of the reference pipeline on processes, printing what
// was produced, acknowledged and delivered, and the ledger's verdict on loss.

import { Command, InvalidArgumentError, Option } from "commander";
import {
  FLAW_NAMES,
  parseFlawList,
  PROFILE_NAMES,
  resolveFlaws,
} from "../../pipeline/core/flaws.ts";
import { count } from "../report/table.ts";
import { runSteadyState, type SteadyStateReport } from "../experiment/steady-state.ts";

function positiveNumber(flag: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isFinite(number) || number <= 0)
      throw new InvalidArgumentError(`${flag} is "${value}", expected a positive number`);
    return number;
  };
}

function integer(flag: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isSafeInteger(number) || number < 0)
      throw new InvalidArgumentError(`${flag} is "${value}", expected a non-negative integer`);
    return number;
  };
}

export function formatSteadyReport(report: SteadyStateReport): string {
  const { totals } = report.ledger;
  const lines = [
    `profile ${report.profile}${report.flaws.length > 0 ? ` (flaws: ${report.flaws.join(", ")})` : ""}`,
    `produced      ${count(report.workload.produced)} events in ${(report.durationMs / 1000).toFixed(1)} s`,
    `acknowledged  ${count(report.workload.acked)} (rejected ${count(report.workload.rejected)}, unknown ${count(report.workload.unknown)}, retries ${count(report.workload.retries)})`,
    `expected      ${count(totals.expected)} acknowledged events of tenants with jobs`,
    `delivered     ${count(totals.delivered)} (duplicated ${count(totals.duplicated)}, declared ${count(totals.declared)})`,
    `lost          ${count(totals.lost)} silently${
      report.ledger.lostSamples.length > 0
        ? `, first: ${report.ledger.lostSamples
            .slice(0, 3)
            .map((id) => `${id.tenant}/${id.dataset}/${id.producer}#${id.seq}`)
            .join(", ")}`
        : ""
    }`,
    `misdelivered  ${count(totals.misdelivered)}   unexpected ${count(totals.unexpected)}   delivered without a job ${count(totals.deliveredWithoutJob)}   indeterminate ${count(totals.indeterminate)}`,
    report.buffer === null
      ? "buffer        could not be read at the end (it was down)"
      : `buffer        high water ${count(report.buffer.highWaterBytes)} bytes, ${report.buffer.highWaterBuffers} buffers${report.buffer.bounds === null ? " (no bounds configured)" : ` (bounds ${count(report.buffer.bounds.maxBufferBytes)} bytes, ${report.buffer.bounds.maxBuffers} buffers)`}`,
    `drain         ${report.drained ? "complete" : "INCOMPLETE"} in ${(report.drainMs / 1000).toFixed(1)} s; ${count(report.deliveredPerSecond)} events/s delivered end to end`,
  ];
  return lines.join("\n");
}

export function steadyCommand(): Command {
  return new Command("steady")
    .description(
      "Run the reference pipeline as processes under a steady workload and settle every event in the ledger.",
    )
    .addOption(
      new Option("--profile <profile>", "pipeline profile")
        .choices(PROFILE_NAMES)
        .default("hardened"),
    )
    .option(
      "--flaws <list>",
      `comma-separated flaws replacing the profile's (${FLAW_NAMES.join(", ")})`,
    )
    .option("--duration <seconds>", "how long the workload runs", positiveNumber("--duration"), 10)
    .option("--rate <events/s>", "target events per second", positiveNumber("--rate"), 5_000)
    .option("--tenants <n>", "number of tenants", integer("--tenants"), 20)
    .option(
      "--job-share <share>",
      "share of tenants with jobs (0-1)",
      positiveNumber("--job-share"),
      0.5,
    )
    .option("--sinks <n>", "number of sinks", integer("--sinks"), 2)
    .option("--seed <n>", "seed of the workload's random draws", integer("--seed"), 1)
    .option("--json", "print the full report as JSON")
    .action(
      async (options: {
        profile: string;
        flaws?: string;
        duration: number;
        rate: number;
        tenants: number;
        jobShare: number;
        sinks: number;
        seed: number;
        json?: boolean;
      }) => {
        const flaws = options.flaws === undefined ? undefined : parseFlawList(options.flaws);
        resolveFlaws(options.profile, flaws);
        const report = await runSteadyState({
          profile: options.profile,
          flaws,
          durationMs: options.duration * 1000,
          seed: options.seed,
          sinks: Math.max(1, options.sinks),
          drainTimeoutMs: 30_000,
          workload: {
            tenants: options.tenants,
            eventsPerSecond: options.rate,
            jobShare: options.jobShare,
          },
          onProgress: options.json
            ? undefined
            : ({ elapsedMs, workload, buffer }) =>
                process.stderr.write(
                  `\r[steady] ${(elapsedMs / 1000).toFixed(0)} s  ${count(workload.eventsPerSecond)} events/s  acked ${count(workload.acked)}  buffer ${count(buffer?.bytes ?? 0)} bytes   `,
                ),
        });
        if (!options.json) process.stderr.write("\n");
        process.stdout.write(
          options.json ? JSON.stringify(report, null, 2) + "\n" : formatSteadyReport(report) + "\n",
        );
        process.exitCode = report.ledger.totals.lost > 0 || !report.drained ? 1 : 0;
      },
    );
}
