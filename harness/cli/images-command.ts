// `spillway images build`: the scratch pipeline image of the container runtime, cached by
// content (an unchanged project is not rebuilt).

import { Command } from "commander";
import { dockerUnavailable } from "../runtime/container/docker.ts";
import { buildPipelineImage } from "../runtime/container/image.ts";
import { UsageError } from "./exit.ts";

export function imagesCommand(): Command {
  const images = new Command("images").description(
    "Build the container runtime's pipeline image (spillway images build --help).",
  );
  images
    .command("build")
    .description(
      "Build the pipeline image FROM scratch (the pinned Node binary, its shared libraries, the pipeline and the fault proxy); skipped when an image of the same content exists.",
    )
    .option("--force", "build even when an image of the same content exists")
    .option("--json", "print the result as JSON")
    .action(async (flags: { force?: boolean; json?: boolean }) => {
      const unavailable = await dockerUnavailable();
      if (unavailable !== undefined) throw new UsageError(`images build: ${unavailable}`);
      const started = Date.now();
      const image = await buildPipelineImage({
        force: flags.force === true,
        onStep: (message) => process.stderr.write(`spillway: ${message}\n`),
      });
      const ms = Date.now() - started;
      if (flags.json === true) {
        process.stdout.write(`${JSON.stringify({ ...image, ms })}\n`);
      } else if (image.built) {
        const megabytes = (image.bytes / 1024 / 1024).toFixed(0);
        process.stdout.write(
          `built ${image.name} (${image.files} files, ${megabytes} MB) in ${(ms / 1000).toFixed(1)} s\n`,
        );
      } else {
        process.stdout.write(`${image.name} is up to date (content hash ${image.hash})\n`);
      }
    });
  return images;
}
