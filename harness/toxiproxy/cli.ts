// `spillway toxiproxy`: the server standalone, a drop-in for toxiproxy-server. Takes Go-style
// single-dash flags (-host, -port, -config, -seed) as well as --double-dash ones, runs until
// SIGINT/SIGTERM and then closes cleanly. Bad flags exit 2 with the flag and value named.
import { readFile } from "node:fs/promises";
import { TOXIPROXY_API_VERSION } from "./api.ts";
import { BUSY_POLL_US_MAX, BUSY_POLL_WINDOW_EXPECTED, isBusyPollWindow } from "./busy-poll.ts";
import { ApiError } from "./errors.ts";
import { decodePopulate } from "./requests.ts";
import { startToxiproxy } from "./server.ts";

export const TOXIPROXY_USAGE = `Usage: spillway toxiproxy [--host 127.0.0.1] [--port 8474] [--config file.json] [--seed n] [--busy-poll-us n]

Runs a Toxiproxy ${TOXIPROXY_API_VERSION}-compatible fault proxy: any Toxiproxy client can drive it.

Options (one or two dashes, "-flag value" or "-flag=value"):
  -host string     address the HTTP API listens on (default "127.0.0.1"; a loopback name
                   listens on both 127.0.0.1 and ::1)
  -port number     port the HTTP API listens on (default 8474; 0 picks a free port)
  -config file     JSON array of proxies to create at start, as for POST /populate
  -seed number     seed for toxicity rolls, jitter and slice sizes (default: random)
  -busy-poll-us n  keep polling the proxied sockets for n µs after each read instead of
                   sleeping (0 to ${BUSY_POLL_US_MAX}; default 0, off): less latency on a machine
                   whose idle CPUs are slow to wake, for up to n µs of CPU per read
  -version         print the Toxiproxy API version spoken and exit
  -help            print this help and exit
`;

export interface ToxiproxyCommandOptions {
  host: string;
  port: number;
  config?: string;
  seed?: number;
  busyPollUs?: number;
}

export type ToxiproxyCommand =
  { kind: "run"; options: ToxiproxyCommandOptions } | { kind: "help" } | { kind: "version" };

/** A command line that cannot run: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

type FlagName = "host" | "port" | "config" | "seed" | "busyPollUs" | "help" | "version" | "metrics";

const FLAG_NAMES: Readonly<Record<string, FlagName>> = {
  host: "host",
  port: "port",
  config: "config",
  seed: "seed",
  "busy-poll-us": "busyPollUs",
  help: "help",
  h: "help",
  version: "version",
  // toxiproxy-server's Prometheus switches: accepted so scripts keep working, but ignored.
  "proxy-metrics": "metrics",
  "runtime-metrics": "metrics",
};

const SWITCHES: ReadonlySet<FlagName> = new Set(["help", "version", "metrics"]);

export function parseToxiproxyArgs(argv: readonly string[]): ToxiproxyCommand {
  const options: ToxiproxyCommandOptions = { host: "127.0.0.1", port: 8474 };
  let wants: "run" | "help" | "version" = "run";
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] as string;
    if (!/^--?[^-]/.test(arg)) throw new UsageError(`unexpected argument "${arg}"`);
    const [spelled, inlineValue] = splitFlag(arg);
    const name = FLAG_NAMES[spelled.replace(/^--?/, "")];
    if (name === undefined) throw new UsageError(`unknown flag ${spelled}`);
    if (SWITCHES.has(name)) {
      if (inlineValue !== undefined && !/^(true|false)$/.test(inlineValue)) {
        throw new UsageError(
          `invalid value "${inlineValue}" for flag ${spelled}: expected true or false`,
        );
      }
      const on = inlineValue !== "false";
      if (on && wants === "run" && (name === "help" || name === "version")) wants = name;
      continue;
    }
    const value = inlineValue ?? argv[(index += 1)];
    if (value === undefined) throw new UsageError(`flag needs an argument: ${spelled}`);
    applyValue(options, name, spelled, value);
  }
  return wants === "run" ? { kind: "run", options } : { kind: wants };
}

function splitFlag(arg: string): [string, string | undefined] {
  const equals = arg.indexOf("=");
  return equals < 0 ? [arg, undefined] : [arg.slice(0, equals), arg.slice(equals + 1)];
}

function applyValue(
  options: ToxiproxyCommandOptions,
  name: FlagName,
  spelled: string,
  value: string,
): void {
  const invalid = (expected: string) =>
    new UsageError(`invalid value "${value}" for flag ${spelled}: expected ${expected}`);
  switch (name) {
    case "host":
      if (value.trim() === "") throw invalid("a host name or IP address");
      options.host = value;
      return;
    case "port":
      if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535)
        throw invalid("a port from 0 to 65535");
      options.port = Number(value);
      return;
    case "seed":
      if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value)))
        throw invalid("an integer");
      options.seed = Number(value);
      return;
    case "busyPollUs":
      if (!/^\d+$/.test(value) || !isBusyPollWindow(Number(value)))
        throw invalid(BUSY_POLL_WINDOW_EXPECTED);
      options.busyPollUs = Number(value);
      return;
    case "config":
      if (value === "") throw invalid("a JSON file");
      options.config = value;
      return;
    default:
      throw new Error(`flag ${spelled} takes no value`);
  }
}

/** Reads and checks a -config file: a /populate body. */
async function readConfig(path: string, spelled: string): Promise<unknown> {
  const invalid = (why: string) =>
    new UsageError(`invalid value "${path}" for flag ${spelled}: ${why}`);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw invalid(`cannot read it (${(error as Error).message})`);
  }
  let config: unknown;
  try {
    config = JSON.parse(text) as unknown;
    decodePopulate(config);
  } catch (error) {
    const why = error instanceof ApiError ? error.message : `not JSON: ${(error as Error).message}`;
    throw invalid(`expected a JSON array of proxies (${why})`);
  }
  return config;
}

/**
 * Runs `spillway toxiproxy <argv>` until SIGINT or SIGTERM. Sets process.exitCode: 2 for bad
 * flags, 1 when the server cannot start (e.g. the port is taken), otherwise leaves it at 0.
 */
export async function runToxiproxyCommand(argv: string[]): Promise<void> {
  let command: ToxiproxyCommand;
  let populate: unknown;
  try {
    command = parseToxiproxyArgs(argv);
    if (command.kind === "run" && command.options.config !== undefined) {
      populate = await readConfig(command.options.config, configFlagSpelling(argv));
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(
      `spillway toxiproxy: ${error.message}\nRun "spillway toxiproxy --help" for usage.\n`,
    );
    process.exitCode = 2;
    return;
  }
  if (command.kind === "help") {
    process.stdout.write(TOXIPROXY_USAGE);
    return;
  }
  if (command.kind === "version") {
    process.stdout.write(`toxiproxy-server version ${TOXIPROXY_API_VERSION} (spillway)\n`);
    return;
  }
  await serveUntilSignal(command.options, populate);
}

async function serveUntilSignal(
  options: ToxiproxyCommandOptions,
  populate: unknown,
): Promise<void> {
  let server;
  try {
    server = await startToxiproxy({
      host: options.host,
      port: options.port,
      seed: options.seed,
      populate,
      busyPollUs: options.busyPollUs,
    });
  } catch (error) {
    process.stderr.write(`spillway toxiproxy: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  const proxies = Array.isArray(populate) ? populate.length : 0;
  process.stdout.write(
    `spillway toxiproxy: Toxiproxy ${TOXIPROXY_API_VERSION} API listening on ${server.url}` +
      (proxies > 0 ? ` (${proxies} proxies from config)` : "") +
      "\n",
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (received: NodeJS.Signals): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(received);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  process.stdout.write(`spillway toxiproxy: ${signal} received, closing\n`);
  await server.close();
}

function configFlagSpelling(argv: readonly string[]): string {
  const spelled = argv.find((arg) => /^--?config(=|$)/.test(arg));
  return spelled === undefined ? "-config" : (splitFlag(spelled)[0] ?? "-config");
}
