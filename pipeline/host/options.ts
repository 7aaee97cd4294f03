// Parsers for the command line of pipeline/host/main.ts: each refuses a bad value with a
// message that quotes it and says what was expected (commander adds the option's name).

import { InvalidArgumentError } from "commander";

/**
 * The largest process id a host can hand out: Linux's PID_MAX_LIMIT on 64-bit systems, to which
 * kernel.pid_max may be raised (systemd raises it there by default); macOS and the BSDs stay
 * below 100 000.
 */
export const MAX_PID = 2 ** 22;

export function portNumber(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new InvalidArgumentError(`"${value}" is not a port number (0-65535)`);
  }
  return port;
}

export function processId(value: string): number {
  const pid = Number(value);
  if (!/^\d+$/.test(value) || pid < 1 || pid > MAX_PID) {
    throw new InvalidArgumentError(
      `"${value}" is not a process id (an integer from 1 to ${MAX_PID})`,
    );
  }
  return pid;
}

export function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(`"${value}" is not valid JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`"${value}" is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}
