// Runs `spillway toxiproxy` directly: node harness/toxiproxy/main.ts -host 127.0.0.1 -port 8474
import { runToxiproxyCommand } from "./cli.ts";

await runToxiproxyCommand(process.argv.slice(2));
