// The command line of a recorder (docs/targets.md, "Egress"), validated once here: a value that
// does not fit is refused naming the option, the value and what was expected.
//
//   node harness/target/recorders/main.ts --kind syslog --port 0 --data-dir D [--destination all]
//     syslog:        --listen-port P [--framing octet-counting|lf|auto]
//     http:          --listen-port P [--destination-from-path]
//     file:          --path F
//     redis-streams: --redis host:port --stream S [--group G] [--consumer C]

import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { portNumber, processId } from "../../../pipeline/host/options.ts";
import { splitHostPort } from "../../toxiproxy/address.ts";
import { RECORDER_KINDS, type RecorderKind } from "./receiver.ts";
import { FRAMINGS, type Framing } from "./syslog-framing.ts";

export type RecorderSource =
  | { kind: "syslog"; listenPort: number; framing: Framing }
  | { kind: "http"; listenPort: number; destinationFromPath: boolean }
  | { kind: "file"; path: string }
  | {
      kind: "redis-streams";
      host: string;
      port: number;
      stream: string;
      group: string;
      consumer: string;
    };

export interface RecorderOptions {
  /** The admin server's port (0 picks a free one). */
  port: number;
  dataDir: string;
  /**
   * Stored in every record, as the reference sink stores the path's destination (an HTTP
   * recorder with `destinationFromPath` stores each request's own instead).
   */
  destination: string;
  instance: string;
  parentPid?: number;
  source: RecorderSource;
}

export const DEFAULT_DESTINATION = "all";
export const DEFAULT_GROUP = "spillway";
export const DEFAULT_CONSUMER = "recorder";

/** As the reference sink's destination path segment (pipeline/sink/sink.ts). */
const DESTINATION_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;
/** A stream, group or consumer name: any printable text without spaces, bounded. */
const REDIS_NAME_PATTERN = /^[!-~]{1,256}$/;

function matching(pattern: RegExp, expected: string) {
  return (value: string): string => {
    if (!pattern.test(value)) throw new InvalidArgumentError(`"${value}" is not ${expected}`);
    return value;
  };
}

function listenPortNumber(value: string): number {
  const port = portNumber(value);
  if (port === 0) {
    throw new InvalidArgumentError(`"${value}" is not a fixed port: the pipeline must know it`);
  }
  return port;
}

function redisAddress(value: string): { host: string; port: number } {
  try {
    const address = splitHostPort(value);
    if (address.host === "" || address.port === 0) throw new Error("expected host:port");
    return address;
  } catch (error) {
    throw new InvalidArgumentError(`"${value}" is not host:port (${(error as Error).message})`);
  }
}

function program(): Command {
  return new Command("recorder")
    .description("Record which events a target's pipeline delivers (Spillway's egress recorder).")
    .addOption(new Option("--kind <kind>", "what the pipeline sends").choices(RECORDER_KINDS))
    .option(
      "--port <port>",
      "admin port: /records, /healthz, /metrics (0 picks one)",
      portNumber,
      0,
    )
    .option("--data-dir <dir>", "where the records are kept durably")
    .option(
      "--destination <name>",
      "the destination every record names",
      matching(DESTINATION_PATTERN, "a destination name (1-128 of A-Z a-z 0-9 _ . -)"),
      DEFAULT_DESTINATION,
    )
    .option("--instance <name>", "the name in logs and metrics", "recorder")
    .option("--listen-port <port>", "syslog, http: the port to receive on", listenPortNumber)
    .option(
      "--destination-from-path",
      "http: each record names the destination its request's path ends with (POST /ingest/<destination>), as the reference sink's records do",
    )
    .addOption(
      new Option("--framing <framing>", "syslog: RFC 6587 framing")
        .choices(FRAMINGS)
        .default("auto"),
    )
    .option("--path <file>", "file: the file to tail")
    .option("--redis <host:port>", "redis-streams: the Redis server", redisAddress)
    .option(
      "--stream <name>",
      "redis-streams: the stream",
      matching(REDIS_NAME_PATTERN, "a stream name (1-256 printable characters, no space)"),
    )
    .option(
      "--group <name>",
      "redis-streams: the consumer group",
      matching(REDIS_NAME_PATTERN, "a group name (1-256 printable characters, no space)"),
      DEFAULT_GROUP,
    )
    .option(
      "--consumer <name>",
      "redis-streams: this consumer's name in the group",
      matching(REDIS_NAME_PATTERN, "a consumer name (1-256 printable characters, no space)"),
      DEFAULT_CONSUMER,
    )
    .addOption(
      new Option("--parent-pid <pid>", "exit when this process is no longer the parent")
        .argParser(processId)
        .env("SPILLWAY_PARENT_PID"),
    );
}

interface ParsedFlags {
  kind?: RecorderKind;
  port: number;
  dataDir?: string;
  destination: string;
  instance: string;
  listenPort?: number;
  destinationFromPath?: boolean;
  framing: Framing;
  path?: string;
  redis?: { host: string; port: number };
  stream?: string;
  group: string;
  consumer: string;
  parentPid?: number;
}

/** A command line that does not describe a recorder; the message names the option and value. */
export class RecorderArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecorderArgumentError";
  }
}

function required<T>(value: T | undefined, flag: string, kind: string): T {
  if (value === undefined || value === "") {
    throw new RecorderArgumentError(`${flag} is required with --kind ${kind}`);
  }
  return value;
}

function sourceOf(flags: ParsedFlags, kind: RecorderKind): RecorderSource {
  switch (kind) {
    case "syslog":
      return {
        kind,
        listenPort: required(flags.listenPort, "--listen-port", kind),
        framing: flags.framing,
      };
    case "http":
      return {
        kind,
        listenPort: required(flags.listenPort, "--listen-port", kind),
        destinationFromPath: flags.destinationFromPath === true,
      };
    case "file":
      return { kind, path: required(flags.path, "--path", kind) };
    case "redis-streams": {
      const { host, port } = required(flags.redis, "--redis", kind);
      const stream = required(flags.stream, "--stream", kind);
      return { kind, host, port, stream, group: flags.group, consumer: flags.consumer };
    }
  }
}

/**
 * Parses a recorder's arguments (without `node main.ts`); throws RecorderArgumentError naming
 * the bad option, or the CommanderError of `--help` (exit code 0).
 */
export function parseRecorderArguments(argv: readonly string[]): RecorderOptions {
  const command = program()
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  try {
    command.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === 0) throw error;
    throw new RecorderArgumentError((error as Error).message.replace(/^error: /, ""));
  }
  const flags = command.opts<ParsedFlags>();
  const kind = flags.kind;
  if (kind === undefined) {
    throw new RecorderArgumentError(`--kind is required: one of ${RECORDER_KINDS.join(", ")}`);
  }
  return {
    port: flags.port,
    dataDir: required(flags.dataDir, "--data-dir", kind),
    destination: flags.destination,
    instance: flags.instance,
    ...(flags.parentPid === undefined ? {} : { parentPid: flags.parentPid }),
    source: sourceOf(flags, kind),
  };
}
