// `spillway clean`: removes the containers, networks and run directories that crashed runs left
// behind, ending first the process groups (a target's services) recorded in those directories
// (a harness killed with SIGKILL cannot clean up after itself).

import { Command } from "commander";
import type { CleanReport } from "../runtime/container/clean.ts";
import { cleanRunDirs, type RunDirReport } from "../runtime/run-dir.ts";

export function formatDirs(report: RunDirReport, dryRun: boolean): string {
  const verb = dryRun ? "would remove" : "removed";
  const lines = [
    ...(report.endedGroups.length === 0
      ? []
      : [
          `${dryRun ? "would end" : "ended"} ${report.endedGroups.length} process groups: ${report.endedGroups.join(", ")}`,
        ]),
    report.removed.length === 0
      ? `${verb} no run directories`
      : `${verb} ${report.removed.length} run directories: ${report.removed.join(", ")}`,
  ];
  if (report.live.length > 0)
    lines.push(`left alone: ${report.live.join(", ")} (their harness still runs; --all to force)`);
  return lines.join("\n");
}

function formatReport(report: CleanReport, dryRun: boolean): string {
  const verb = dryRun ? "would remove" : "removed";
  const lines = (["containers", "networks", "images"] as const).map((kind) =>
    report[kind].length === 0
      ? `${verb} no ${kind}`
      : `${verb} ${report[kind].length} ${kind}: ${report[kind].join(", ")}`,
  );
  if (report.live.length > 0)
    lines.push(
      `left alone: run ${report.live.join(", ")} (its harness still runs; --all to force)`,
    );
  return lines.join("\n");
}

export function cleanCommand(): Command {
  return new Command("clean")
    .description(
      "Remove what runs whose harness is gone left behind: containers and networks (labelled spillway.run), half-built images, and run directories (spillway-run-* in the temp directory), ending first the process groups recorded there that still run.",
    )
    .option("--run <id>", "only the leftovers of this run (the spillway.run label)")
    .option("--all", "also those of runs whose harness still runs on this host")
    .option("--images", "also the cached pipeline images (spillway images build makes them again)")
    .option("--dry-run", "list what would be removed; remove nothing")
    .action(async (flags: { run?: string; all?: boolean; images?: boolean; dryRun?: boolean }) => {
      const dryRun = flags.dryRun === true;
      const scope = {
        ...(flags.run === undefined ? {} : { runId: flags.run }),
        all: flags.all === true,
        dryRun,
      };
      // Loaded here, not at start-up: testcontainers takes most of a second to load.
      const { dockerUnavailable } = await import("../runtime/container/docker.ts");
      const { cleanLeftovers } = await import("../runtime/container/clean.ts");
      const unavailable = await dockerUnavailable();
      if (unavailable === undefined) {
        const report = await cleanLeftovers({ ...scope, images: flags.images === true });
        process.stdout.write(`${formatReport(report, dryRun)}\n`);
      } else {
        process.stdout.write(`no containers, networks or images to clean: ${unavailable}\n`);
      }
      const dirs = await cleanRunDirs(scope);
      process.stdout.write(`${formatDirs(dirs, dryRun)}\n`);
    });
}
