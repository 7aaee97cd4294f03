// The `spillway` command line. Exit codes: 0 outcomes as expected, 1 not, 2 bad input,
// 3 the harness itself failed, 4 an abort condition tripped (`run`), 130 interrupted.

import { Command, CommanderError } from "commander";
import { ExperimentError } from "../experiment/definition.ts";
import { SPILLWAY_VERSION } from "../experiment/runner.ts";
import { runToxiproxyCommand } from "../toxiproxy/cli.ts";
import { cleanCommand } from "./clean-command.ts";
import { EXIT, UsageError } from "./exit.ts";
import { listCommand, validateCommand } from "./experiment-commands.ts";
import { exploreCommand } from "./explore-command.ts";
import { replayCommand } from "./replay-command.ts";
import { reportCommand } from "./report-command.ts";
import { imagesCommand } from "./images-command.ts";
import { runCommand } from "./run-command.ts";
import { steadyCommand } from "./steady-command.ts";

// A reader that goes away (`spillway list | head -3`) loses the rest of the output, and nothing
// else: a run goes on to heal, stop and release what it started, and exits with its own code.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") throw error;
  });
}

const argv = process.argv.slice(2);
if (argv[0] === "toxiproxy") {
  // Its own parser: it also accepts toxiproxy-server's single-dash flags (-host, -port, -config).
  await runToxiproxyCommand(argv.slice(1));
} else {
  const program = new Command("spillway")
    .description("Chaos and fault-injection test harness for log pipelines.")
    .version(SPILLWAY_VERSION, "-V, --version", "print the version and exit")
    .addCommand(runCommand())
    .addCommand(listCommand())
    .addCommand(validateCommand())
    .addCommand(steadyCommand())
    .addCommand(exploreCommand())
    .addCommand(replayCommand())
    .addCommand(reportCommand())
    .addCommand(imagesCommand())
    .addCommand(cleanCommand())
    .addCommand(
      new Command("toxiproxy").description(
        "Run the Toxiproxy-compatible fault proxy (spillway toxiproxy --help).",
      ),
    )
    .showHelpAfterError()
    // Options after a subcommand are its own: `explore merge --out` is merge's, not explore's.
    .enablePositionalOptions()
    .exitOverride();
  // Subcommands added with addCommand do not inherit these: bad flags must exit 2, not 1.
  for (const command of program.commands) command.showHelpAfterError().exitOverride();
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT.badInput);
    if (error instanceof ExperimentError || error instanceof UsageError) {
      process.stderr.write(`spillway: ${error.message}\n`);
      process.exit(EXIT.badInput);
    }
    process.stderr.write(
      `spillway: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(EXIT.harnessFailed);
  }
}
