// Finds a service's program before it is started, so that a missing one is an error that says
// what to install (docs/targets.md, "Services") rather than a bare ENOENT from spawn.

import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";

/** Where the programs a target is likely to run come from, for the error when one is missing. */
const KNOWN_PROGRAMS: Readonly<Record<string, { package: string; debian: boolean }>> = {
  rsyslogd: { package: "rsyslog", debian: true },
  "redis-server": { package: "redis-server", debian: true },
  "syslog-ng": { package: "syslog-ng-core", debian: true },
  vector: { package: "vector", debian: false },
  "fluent-bit": { package: "fluent-bit", debian: false },
  otelcol: { package: "otelcol", debian: false },
  "otelcol-contrib": { package: "otelcol-contrib", debian: false },
};

/** Where system daemons live on Debian, often missing from an ordinary user's PATH. */
const SYSTEM_DIRS = ["/usr/sbin", "/sbin", "/usr/local/sbin"];

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `program` resolved against `pathVariable` (as a shell would), or undefined. */
export function onPath(program: string, pathVariable: string): string | undefined {
  for (const dir of pathVariable.split(path.delimiter)) {
    const candidate = path.join(dir === "" ? "." : dir, program);
    if (isExecutableFile(candidate)) return path.resolve(candidate);
  }
  return undefined;
}

function installHint(program: string, packageHint: string | undefined): string {
  if (packageHint !== undefined)
    return `; it comes with the Debian package ${packageHint} (apt-get install ${packageHint})`;
  const known = KNOWN_PROGRAMS[program];
  if (known === undefined) return "; install it, or give its full path";
  return known.debian
    ? `; it comes with the Debian package ${known.package} (apt-get install ${known.package})`
    : `; it comes with the package ${known.package} from its project's own apt repository (not in Debian)`;
}

/**
 * The file `program` (a command's argv[0]) runs: a path as it is, a bare name looked up on
 * `pathVariable`. Throws saying what to install when there is none.
 */
export function resolveProgram(
  program: string,
  options: { pathVariable: string; packageHint?: string },
): string {
  if (program.includes("/")) {
    if (isExecutableFile(program)) return program;
    throw new Error(
      `"${program}" is not an executable file${installHint(path.basename(program), options.packageHint)}`,
    );
  }
  const found = onPath(program, options.pathVariable);
  if (found !== undefined) return found;
  const elsewhere = SYSTEM_DIRS.map((dir) => path.join(dir, program)).find(isExecutableFile);
  if (elsewhere !== undefined) {
    throw new Error(
      `"${program}" is not on PATH (${options.pathVariable}) but is at ${elsewhere}: add ${path.dirname(elsewhere)} to PATH, or give the full path`,
    );
  }
  throw new Error(`"${program}" is not on PATH${installHint(program, options.packageHint)}`);
}
