// `--runtime` of the commands that start a pipeline: the name, and the options of each runtime,
// mapped to a Runtime. One place, so that a command gains a runtime without changing.

import { Option, type Command } from "commander";
import { RUNTIME_NAMES, type RuntimeName } from "../experiment/run-on.ts";
import type { ContainerRuntimeOptions } from "../runtime/container/container-runtime.ts";
import { NETWORK_MODES, type NetworkMode } from "../runtime/container/network-mode.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { UsageError } from "./exit.ts";

/** The simulator and processes are run by name (run-on.ts); containers need their options. */
export const RUNTIME_CHOICES = [...RUNTIME_NAMES, "container"] as const;

export interface RuntimeFlags {
  runtime: string;
  image?: string;
  network?: string;
  toxiproxyImage?: string;
  toxiproxyUrl?: string;
}

/** The --runtime option (`defaultRuntime` unless given) and the container runtime's options. */
export function addRuntimeOptions(
  command: Command,
  defaultRuntime: RuntimeName = "process",
): Command {
  return command
    .addOption(
      new Option(
        "--runtime <runtime>",
        "where the pipeline runs: real processes, the deterministic simulator (virtual time, the experiment's simulator scale), or containers",
      )
        .choices(RUNTIME_CHOICES)
        .default(defaultRuntime),
    )
    .option(
      "--image <image>",
      "--runtime container: the pipeline image (default: the scratch image of `spillway images build`, built if missing)",
    )
    .addOption(
      new Option(
        "--network <mode>",
        "--runtime container: host networking on loopback, or a private bridge network per run",
      )
        .choices(NETWORK_MODES)
        .default("host"),
    )
    .option(
      "--toxiproxy-image <image>",
      "--runtime container --network private: the Toxiproxy image whose container holds the link fault proxies (default: the pipeline image running the embedded fault proxy)",
    );
}

/**
 * The runtime the flags ask for: a name run-on.ts knows, or the container runtime (image builds
 * reported on stderr), loaded only when asked for: testcontainers takes most of a second to load.
 */
export async function resolveRuntime(flags: RuntimeFlags): Promise<RuntimeName | Runtime> {
  checkRuntimeFlags(flags);
  if (flags.runtime !== "container") return flags.runtime as RuntimeName;
  const options: ContainerRuntimeOptions = {
    network: (flags.network ?? "host") as NetworkMode,
    onStep: (message) => process.stderr.write(`spillway: ${message}\n`),
  };
  if (flags.image !== undefined) options.image = flags.image;
  if (flags.toxiproxyImage !== undefined) options.toxiproxyImage = flags.toxiproxyImage;
  const { containerRuntime } = await import("../runtime/container/container-runtime.ts");
  return containerRuntime(options);
}

/** Throws a UsageError when the runtime's options do not fit together (also for a dry run). */
export function checkRuntimeFlags(flags: RuntimeFlags): void {
  if (flags.runtime !== "container") {
    const misplaced =
      flags.image !== undefined
        ? "--image"
        : flags.toxiproxyImage !== undefined
          ? "--toxiproxy-image"
          : undefined;
    if (misplaced !== undefined)
      throw new UsageError(
        `${misplaced} applies to --runtime container, not --runtime ${flags.runtime}`,
      );
    return;
  }
  if (flags.toxiproxyUrl !== undefined && flags.network === "private")
    throw new UsageError(
      `--toxiproxy-url "${flags.toxiproxyUrl}" cannot reach the services of a private network; use --toxiproxy-image there, or the default host networking`,
    );
  if (flags.toxiproxyImage !== undefined && flags.network !== "private")
    throw new UsageError(
      `--toxiproxy-image "${flags.toxiproxyImage}" needs --network private: the Toxiproxy container reaches the services by name in the run's network (on host networking the fault proxy runs on the host, or use --toxiproxy-url)`,
    );
}
