// The `spillway` command line.

import { Command, CommanderError } from "commander";
import { steadyCommand } from "./steady-command.ts";

const program = new Command("spillway")
  .description("Chaos and fault-injection test harness for log pipelines.")
  .addCommand(steadyCommand())
  .showHelpAfterError()
  .exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  process.stderr.write(`spillway: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(3);
}
