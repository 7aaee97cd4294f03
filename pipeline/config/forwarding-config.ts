// The forwarding config the config service publishes and the forwarder, buffer and pusher
// consume: a version and the enabled jobs. Consumers parse it here, once, and never trust it.

import { NAME_PATTERN, pairKey } from "../core/event.ts";

export interface Job {
  id: string;
  tenant: string;
  dataset: string;
  /** `<sink service>/<path>`, e.g. `sink-0/t003.http_requests`. */
  destination: string;
  enabled: boolean;
}

export interface ForwardingConfig {
  version: number;
  generatedAt: number;
  jobs: Job[];
}

export type ParsedConfig =
  { ok: true; config: ForwardingConfig } | { ok: false; version: number | null; error: string };

const DESTINATION_PATTERN = /^[A-Za-z0-9_.-]{1,64}\/[A-Za-z0-9_.-]{1,128}$/;

/** Checks one job; returns a message naming the field and value, or null when it is valid. */
export function jobProblem(job: unknown, where: string): string | null {
  if (typeof job !== "object" || job === null || Array.isArray(job))
    return `${where} is not an object`;
  const fields = job as Record<string, unknown>;
  for (const field of ["tenant", "dataset"]) {
    const value = fields[field];
    if (typeof value !== "string" || !NAME_PATTERN.test(value)) {
      return `${where}.${field} is ${JSON.stringify(value)}, expected a name of 1-64 characters [A-Za-z0-9_.-]`;
    }
  }
  if (typeof fields.destination !== "string" || !DESTINATION_PATTERN.test(fields.destination)) {
    return `${where}.destination is ${JSON.stringify(fields.destination)}, expected "<sink service>/<path>"`;
  }
  if (fields.enabled !== undefined && typeof fields.enabled !== "boolean") {
    return `${where}.enabled is ${JSON.stringify(fields.enabled)}, expected a boolean`;
  }
  return null;
}

export function parseForwardingConfig(text: string): ParsedConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      version: null,
      error: `config is not valid JSON (${(error as Error).message})`,
    };
  }
  if (typeof value !== "object" || value === null)
    return { ok: false, version: null, error: "config is not an object" };
  const fields = value as Record<string, unknown>;
  const version =
    typeof fields.version === "number" && Number.isSafeInteger(fields.version)
      ? fields.version
      : null;
  if (version === null)
    return {
      ok: false,
      version: null,
      error: `config.version is ${JSON.stringify(fields.version)}`,
    };
  if (!Array.isArray(fields.jobs))
    return { ok: false, version, error: "config.jobs is not an array" };
  const jobs: Job[] = [];
  for (const [index, job] of fields.jobs.entries()) {
    const issue = jobProblem(job, `config.jobs[${index}]`);
    if (issue !== null) return { ok: false, version, error: issue };
    const fieldsOfJob = job as Record<string, unknown>;
    jobs.push({
      id: typeof fieldsOfJob.id === "string" ? fieldsOfJob.id : `job-${index}`,
      tenant: fieldsOfJob.tenant as string,
      dataset: fieldsOfJob.dataset as string,
      destination: fieldsOfJob.destination as string,
      enabled: fieldsOfJob.enabled !== false,
    });
  }
  const generatedAt = typeof fields.generatedAt === "number" ? fields.generatedAt : 0;
  return { ok: true, config: { version, generatedAt, jobs } };
}

/** The (tenant, dataset) pairs an applied config forwards. */
export function configuredPairs(config: ForwardingConfig): Set<string> {
  const pairs = new Set<string>();
  for (const job of config.jobs) if (job.enabled) pairs.add(pairKey(job.tenant, job.dataset));
  return pairs;
}

/**
 * The hardened check of a new config against the one in force: an empty config, or one that
 * removes more than `maxRemovedShare` of the current pairs at once, is refused. Returns the
 * reason for refusal, or null when the config may be applied.
 */
export function refusalReason(
  current: ForwardingConfig | null,
  next: ForwardingConfig,
  maxRemovedShare: number,
): string | null {
  const nextPairs = configuredPairs(next);
  if (nextPairs.size === 0) return "config is empty: it would stop forwarding for every tenant";
  if (current === null) return null;
  const currentPairs = configuredPairs(current);
  if (currentPairs.size === 0) return null;
  let removed = 0;
  for (const pair of currentPairs) if (!nextPairs.has(pair)) removed++;
  const share = removed / currentPairs.size;
  return share > maxRemovedShare
    ? `config removes ${removed} of ${currentPairs.size} pairs at once (more than ${Math.round(maxRemovedShare * 100)}%)`
    : null;
}
