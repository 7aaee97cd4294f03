// The fault proxy's entry in the pipeline image (`node toxiproxy-main.ts -host=0.0.0.0`): the
// same `spillway toxiproxy` command, without the rest of the harness, for a Toxiproxy container.

import { runToxiproxyCommand } from "../../toxiproxy/cli.ts";

await runToxiproxyCommand(process.argv.slice(2));
