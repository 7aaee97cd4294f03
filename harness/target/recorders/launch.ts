// How a target's egress is written (docs/targets.md, "Egress") and how the harness starts the
// recorder for it: the command line of harness/target/recorders/main.ts as a ProcessService
// launch (harness/runtime/process/service-process.ts).

import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { ServiceLaunch } from "../../runtime/process/service-process.ts";
import { DEFAULT_CONSUMER, DEFAULT_DESTINATION, DEFAULT_GROUP } from "./options.ts";
import type { RecorderKind } from "./receiver.ts";
import { FRAMINGS, type Framing } from "./syslog-framing.ts";

export const RECORDER_ENTRY = fileURLToPath(new URL("./main.ts", import.meta.url));

const redisName = (what: string) =>
  z
    .string()
    .regex(/^[!-~]{1,256}$/, `expected a ${what} name: 1-256 printable characters, no space`);

/** An egress as a user writes it in a target file; the harness adds the addresses. */
export const egressSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("http"),
      /** The path the pipeline posts to (the recorder takes any); for its configuration. */
      path: z
        .string()
        .regex(/^\/[!-~]*$/, "expected a URL path starting with /")
        .optional(),
      /**
       * Each record names the destination its request's path ends with (`/ingest/<tenant>.<dataset>`),
       * as the reference sink's do, and the routes' jobs at this egress are `<egress>/<tenant>.<dataset>`
       * (docs/targets.md, "The reference pipeline as a target").
       */
      destinationFromPath: z.boolean().optional(),
    })
    .strict(),
  z.object({ kind: z.literal("syslog"), framing: z.enum(FRAMINGS).optional() }).strict(),
  z.object({ kind: z.literal("file"), path: z.string().min(1, "expected a file path") }).strict(),
  z
    .object({
      kind: z.literal("redis-streams"),
      stream: redisName("stream"),
      group: redisName("group").optional(),
    })
    .strict(),
]);

export type EgressSpec = z.output<typeof egressSchema>;

/** One recorder to start: an egress with what the harness allocated for it. */
export interface RecorderSpec {
  kind: RecorderKind;
  /** syslog, http: the port the recorder receives on (the pipeline sends there, via its link). */
  listenPort?: number;
  /** http: each record names its request path's last segment instead of `destination`. */
  destinationFromPath?: boolean;
  framing?: Framing;
  /** file: the file to tail. */
  path?: string;
  /** redis-streams: the Redis server, `host:port`. */
  redis?: string;
  stream?: string;
  group?: string;
  consumer?: string;
  /** The destination each record names (default "all"). */
  destination?: string;
  /** The name in the recorder's logs and metrics. */
  instance?: string;
}

export interface RecorderPaths {
  /** Where the recorder keeps its records (kept across restarts). */
  dataDir: string;
  /** The Node binary (default the one running the harness). */
  node?: string;
}

function requiredField<T>(spec: RecorderSpec, field: keyof RecorderSpec): T {
  const value = spec[field];
  if (value === undefined || value === "") {
    throw new Error(`recorder of kind "${spec.kind}": field "${field}" is required`);
  }
  return value as T;
}

/** The recorder's own arguments, after `--port` and `--data-dir`. */
function kindArguments(spec: RecorderSpec): string[] {
  switch (spec.kind) {
    case "syslog":
      return [
        "--listen-port",
        String(requiredField<number>(spec, "listenPort")),
        ...(spec.framing === undefined ? [] : ["--framing", spec.framing]),
      ];
    case "http":
      return [
        "--listen-port",
        String(requiredField<number>(spec, "listenPort")),
        ...(spec.destinationFromPath === true ? ["--destination-from-path"] : []),
      ];
    case "file":
      return ["--path", requiredField<string>(spec, "path")];
    case "redis-streams":
      return [
        ...["--redis", requiredField<string>(spec, "redis")],
        ...["--stream", requiredField<string>(spec, "stream")],
        ...["--group", spec.group ?? DEFAULT_GROUP],
        ...["--consumer", spec.consumer ?? DEFAULT_CONSUMER],
      ];
  }
}

/** What a ProcessService needs to run the recorder for `spec`; throws naming a missing field. */
export function recorderLaunch(spec: RecorderSpec, paths: RecorderPaths): ServiceLaunch {
  const fixed = [
    "--kind",
    spec.kind,
    "--data-dir",
    paths.dataDir,
    "--destination",
    spec.destination ?? DEFAULT_DESTINATION,
    ...(spec.instance === undefined ? [] : ["--instance", spec.instance]),
    ...kindArguments(spec),
  ];
  return {
    node: paths.node ?? process.execPath,
    entry: RECORDER_ENTRY,
    argumentsFor: (port) => ["--port", String(port), ...fixed],
    dataDir: paths.dataDir,
  };
}
