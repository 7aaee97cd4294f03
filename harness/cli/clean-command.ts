// `spillway clean`: removes the containers and networks that crashed runs left behind (a
// harness killed with SIGKILL cannot clean up after itself).

import { Command } from "commander";
import type { CleanReport } from "../runtime/container/clean.ts";

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
      "Remove the containers and networks (labelled spillway.run) that runs whose harness is gone left behind, and half-built images.",
    )
    .option("--run <id>", "only the leftovers of this run (the spillway.run label)")
    .option("--all", "also those of runs whose harness still runs on this host")
    .option("--images", "also the cached pipeline images (spillway images build makes them again)")
    .option("--dry-run", "list what would be removed; remove nothing")
    .action(async (flags: { run?: string; all?: boolean; images?: boolean; dryRun?: boolean }) => {
      // Loaded here, not at start-up: testcontainers takes most of a second to load.
      const { dockerUnavailable } = await import("../runtime/container/docker.ts");
      const { cleanLeftovers } = await import("../runtime/container/clean.ts");
      const unavailable = await dockerUnavailable();
      if (unavailable !== undefined) {
        process.stdout.write(`nothing to clean: ${unavailable}\n`);
        return;
      }
      const report = await cleanLeftovers({
        ...(flags.run === undefined ? {} : { runId: flags.run }),
        all: flags.all === true,
        images: flags.images === true,
        dryRun: flags.dryRun === true,
      });
      process.stdout.write(`${formatReport(report, flags.dryRun === true)}\n`);
    });
}
