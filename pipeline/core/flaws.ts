// The flaws of the pipeline (docs/architecture.md §2), one table. A profile is a set of flaws:
// `legacy-2024` switches on the flaws of 14 November 2024 (`incident: true`), `hardened` none,
// and each one can be toggled alone (`--flaws`). A flaw that is off means its safeguard is on.
// A flaw not from the incident (`incident: false`) is off in both profiles: it exists so that
// an invariant nothing in the incident can break has a way to fail.

export const FLAWS = {
  "config.emptyOnNewDataset": {
    component: "config",
    incident: true,
    behaviour:
      "adding a job for a dataset never seen before makes the generator emit an empty config",
    safeguard: "the generator emits every enabled job whatever its dataset",
  },
  "forwarder.appliesEmptyConfig": {
    component: "forwarder",
    incident: true,
    behaviour: "the forwarder applies an empty config: everything is filtered as unconfigured",
    safeguard:
      "config validation: an empty config, or one removing too large a share of pairs, is refused; last-known-good is kept; an alert is raised",
  },
  "forwarder.failOpenStuck": {
    component: "forwarder",
    incident: true,
    behaviour:
      "after a config error, the next good config leaves a fail-open flag set: every tenant's events are forwarded",
    safeguard: "fail-static: on a config error the last-known-good config stays in force",
  },
  "buffer.limitsUnconfigured": {
    component: "buffer",
    incident: true,
    behaviour:
      "buffers are created on demand with no cap on their count or bytes, for any tenant: memory grows until the process stalls or dies",
    safeguard:
      "admission control (only configured pairs get a buffer) and bounded buffers that push back with 429",
  },
  "buffer.ackBeforeDurable": {
    component: "buffer",
    incident: true,
    behaviour:
      "appends are acknowledged before they are durable; a crash loses acknowledged events",
    safeguard: "write-ahead log fsynced before an append is acknowledged",
  },
  "forwarder.dropOnBufferTimeout": {
    component: "forwarder",
    incident: true,
    behaviour:
      "when the buffer does not answer in time, the forwarder logs an error and drops the batch instead of pushing back",
    safeguard: "push back to the producer (503 with Retry-After) after bounded retries",
  },
  "pusher.ackBeforeDelivery": {
    component: "pusher",
    incident: true,
    behaviour: "the pusher acks the buffer before the sink confirms",
    safeguard: "delivery before ack; retries with jittered backoff",
  },
  // Not from the incident: the one way the pipeline can break tenant-isolation.
  "pusher.keepsStaleDestination": {
    component: "pusher",
    incident: false,
    behaviour:
      "a push worker freed by a job change is reused for the next job that starts and keeps the destination it pushed to: that job's events reach another tenant's destination",
    safeguard: "every job's worker resolves its own job's destination when it starts",
  },
} as const;

export type Flaw = keyof typeof FLAWS;
export type Component = "config" | "forwarder" | "buffer" | "pusher" | "sink";

export const FLAW_NAMES = Object.keys(FLAWS) as Flaw[];

/** The flaws of 14 November 2024: legacy-2024's. */
export const INCIDENT_FLAWS = FLAW_NAMES.filter((flaw) => FLAWS[flaw].incident);

export const PROFILES = {
  hardened: [] as Flaw[],
  "legacy-2024": INCIDENT_FLAWS,
} as const satisfies Record<string, readonly Flaw[]>;

export type ProfileName = keyof typeof PROFILES;
export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

export function isFlaw(name: string): name is Flaw {
  return Object.hasOwn(FLAWS, name);
}

export function isProfileName(name: string): name is ProfileName {
  return Object.hasOwn(PROFILES, name);
}

/** The set of flaws switched on, with membership tests that read as the domain. */
export class FlawSet {
  private readonly on: ReadonlySet<Flaw>;
  constructor(flaws: Iterable<Flaw>) {
    this.on = new Set(flaws);
  }
  has(flaw: Flaw): boolean {
    return this.on.has(flaw);
  }
  list(): Flaw[] {
    return FLAW_NAMES.filter((flaw) => this.on.has(flaw));
  }
}

/**
 * Resolves a profile and an optional explicit flaw list. An explicit list replaces the
 * profile's flaws (`--profile hardened --flaws buffer.ackBeforeDurable` is hardened with that
 * one flaw). Throws an Error naming the bad value.
 */
export function resolveFlaws(profile: string, flaws?: readonly string[]): FlawSet {
  if (!isProfileName(profile)) {
    throw new Error(
      `profile "${profile}" is unknown; expected one of: ${PROFILE_NAMES.join(", ")}`,
    );
  }
  if (flaws === undefined) return new FlawSet(PROFILES[profile]);
  const unknown = flaws.filter((flaw) => !isFlaw(flaw));
  if (unknown.length > 0) {
    throw new Error(`flaw "${unknown[0]}" is unknown; expected any of: ${FLAW_NAMES.join(", ")}`);
  }
  return new FlawSet(flaws as Flaw[]);
}

/** Parses a comma-separated flaw list (`a,b`); the empty string means no flaw. */
export function parseFlawList(text: string): string[] {
  return text
    .split(",")
    .map((flaw) => flaw.trim())
    .filter((flaw) => flaw.length > 0);
}
