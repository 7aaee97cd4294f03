// The process entry of every pipeline component:
//   node pipeline/host/main.ts <component> --port 0 --profile hardened [--flaws a,b] ...
// It builds the component over the real seam, serves it on loopback, logs a `ready` line with
// the bound port, and stops cleanly on SIGTERM/SIGINT or when its parent harness disappears.

import { Command, Option } from "commander";
import path from "node:path";
import { COMPONENT_FACTORIES, COMPONENT_NAMES, isComponentName } from "../components.ts";
import { parseFlawList, resolveFlaws } from "../core/flaws.ts";
import { resolveLimits } from "../core/limits.ts";
import { createRealSeam } from "./real-seam.ts";
import { jsonObject, portNumber, processId } from "./options.ts";
import { exitWithParent } from "./parent-watch.ts";
import { serve } from "./server.ts";

const program = new Command("pipeline-component")
  .description("Run one component of Spillway's reference log pipeline as a process.")
  .argument("<component>", `one of: ${COMPONENT_NAMES.join(", ")}`)
  .option("--host <address>", "address to listen on", "127.0.0.1")
  .option("--port <port>", "port to listen on (0 picks a free one)", portNumber, 0)
  .option("--instance <name>", "instance name for logs, metrics and drop records")
  .option("--profile <profile>", "hardened or legacy-2024", "hardened")
  .option("--flaws <list>", "comma-separated flaws; replaces the profile's flaws")
  .option("--data-dir <dir>", "where durable state lives (default .spillway/data/<instance>)")
  .option(
    "--peers <json>",
    'addresses of the services it calls, e.g. {"config":"http://127.0.0.1:4000"}',
    jsonObject,
  )
  .option("--limits <json>", "overrides of pipeline/core/limits.ts, as a JSON object", jsonObject)
  .option("--settings <json>", "component-specific settings, as a JSON object", jsonObject)
  .addOption(
    new Option("--parent-pid <pid>", "exit when this process is no longer the parent")
      .argParser(processId)
      .env("SPILLWAY_PARENT_PID"),
  )
  .showHelpAfterError()
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

program.parse();
const [componentName] = program.args as [string];
const options = program.opts<{
  host: string;
  port: number;
  instance?: string;
  profile: string;
  flaws?: string;
  dataDir?: string;
  peers?: Record<string, unknown>;
  limits?: Record<string, unknown>;
  settings?: Record<string, unknown>;
  parentPid?: number;
}>();

function peersOf(peers: Record<string, unknown>): Record<string, string> {
  for (const [name, url] of Object.entries(peers)) {
    if (typeof url !== "string" || !/^https?:\/\//.test(url)) {
      fail(`peer "${name}" is ${JSON.stringify(url)}, expected an http:// URL`);
    }
  }
  return peers as Record<string, string>;
}

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

if (!isComponentName(componentName)) {
  fail(`component "${componentName}" is unknown; expected one of: ${COMPONENT_NAMES.join(", ")}`);
}
const instance = options.instance ?? componentName;
let flaws;
let limits;
try {
  flaws = resolveFlaws(
    options.profile,
    options.flaws === undefined ? undefined : parseFlawList(options.flaws),
  );
  limits = resolveLimits(options.limits);
} catch (error) {
  fail((error as Error).message);
}

const seam = createRealSeam({
  component: componentName,
  instance,
  dataDir: options.dataDir ?? path.join(".spillway", "data", instance),
});
let component;
try {
  component = COMPONENT_FACTORIES[componentName]({
    seam,
    flaws,
    limits,
    instance,
    peers: peersOf(options.peers ?? {}),
    settings: options.settings ?? {},
  });
} catch (error) {
  fail((error as Error).message);
}

await component.start();
const server = await serve({
  handle: component.handle,
  host: options.host,
  port: options.port,
  limits,
  log: seam.log,
});
seam.log.info("ready", { port: server.port, pid: process.pid, flaws: flaws.list() });

let stopping = false;
async function shutdown(reason: string, code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  seam.log.info("stopping", { reason });
  const forced = setTimeout(() => process.exit(code), 3_000);
  forced.unref();
  await server.close();
  await component!.stop();
  await seam.close();
  process.exit(code);
}

process.on("SIGTERM", () => void shutdown("SIGTERM", 0));
process.on("SIGINT", () => void shutdown("SIGINT", 0));
if (options.parentPid !== undefined) {
  exitWithParent(options.parentPid, () => void shutdown("parent gone", 0));
}
