// `spillway images build`: the scratch pipeline image of the container runtime, cached by
// content (an unchanged project is not rebuilt).

import { Command } from "commander";
import { EXIT } from "./exit.ts";

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
    .showHelpAfterError()
    .exitOverride()
    .action(async (flags: { force?: boolean; json?: boolean }) => {
      // Loaded here, not at start-up: testcontainers takes most of a second to load.
      const { dockerUnavailable } = await import("../runtime/container/docker.ts");
      const { buildPipelineImage } = await import("../runtime/container/image.ts");
      const unavailable = await dockerUnavailable();
      if (unavailable !== undefined) {
        process.stderr.write(`spillway: images build: ${unavailable}\n`);
        process.exitCode = EXIT.harnessFailed;
        return;
      }
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
