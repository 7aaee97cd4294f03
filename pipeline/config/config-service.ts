// The config service: holds Logpush-style jobs and publishes the forwarding config generated
// from them, versioned. It also keeps its own timeline: when each job was enabled, and every
// config it published (the harness keeps the ledger's ground truth itself and only cross-checks
// this one: docs/architecture.md §5). Faults push an empty or corrupt config or revert (which
// rolls the jobs back with the config).
// Every change is written to a log on its disk and synced before it is applied and answered,
// and replayed on start, so a restarted config service has the same jobs, timeline and config
// history, and nobody ever sees a change that is not durable. A disk error leaves the state as
// it was, answers 503 and makes the service unhealthy until restarted
// (pipeline/core/disk-failure.ts).

import { Counter, Gauge } from "prom-client";
import type { Component, ComponentOptions } from "../core/component.ts";
import { DiskFailure } from "../core/disk-failure.ts";
import { DropLog } from "../core/drops.ts";
import { BadRequest, json, parseJsonBody, problem, Router } from "../core/http.ts";
import { addObservability, newRegistry } from "../core/observe.ts";
import { jobProblem, type ForwardingConfig, type Job } from "./forwarding-config.ts";

export interface JobChange {
  at: number;
  id: string;
  tenant: string;
  dataset: string;
  destination: string;
  enabled: boolean;
}

export interface PublishedConfig {
  version: number;
  at: number;
  /** How it came about: generated from jobs, pushed by an operator/fault, or a revert. */
  origin: "generated" | "pushed-empty" | "pushed-corrupt" | "revert";
  /** The body served on GET /config (not JSON at all for a corrupt config). */
  body: string;
  jobCount: number;
}

const CORRUPT_BODY = '{"version": 0, "jobs": [ {"tenant": "t0"';
const STATE_LOG = "config-state.log";

/** One line of the state log: a job as it now is (or removed), or a published config. */
type StateRecord =
  | { type: "job"; at: number; job: Job; removed?: true }
  | { type: "config"; entry: PublishedConfig };

/** What planning a change reads: the jobs and the numbering, as the change goes on. */
interface JobState {
  jobs: Map<string, Job>;
  seenDatasets: Set<string>;
  nextJobId: number;
  version: number;
}

/** A change being planned: a copy of the state it has changed so far, and its records. */
interface Draft extends JobState {
  records: StateRecord[];
}

/** What a record does to the jobs and the numbering. */
function applyToJobs(state: JobState, record: StateRecord): void {
  if (record.type === "config") {
    state.version = record.entry.version;
    return;
  }
  const { job } = record;
  if (record.removed === true) state.jobs.delete(job.id);
  else state.jobs.set(job.id, { ...job });
  state.seenDatasets.add(job.dataset);
  const numbered = /^job-(\d+)$/.exec(job.id);
  if (numbered !== null) state.nextJobId = Math.max(state.nextJobId, Number(numbered[1]) + 1);
}

function record(draft: Draft, entry: StateRecord): void {
  applyToJobs(draft, entry);
  draft.records.push(entry);
}

export function createConfigService(
  options: ComponentOptions & { settings: Record<string, unknown> },
): Component {
  const { seam, flaws, limits, instance } = options;
  const metrics = newRegistry("config", instance);
  const published = new Counter({
    name: "config_published_total",
    help: "Forwarding configs published, by origin",
    labelNames: ["origin"],
    registers: [metrics],
  });
  const currentVersion = new Gauge({
    name: "config_version",
    help: "Version of the current config",
    registers: [metrics],
  });
  const drops = new DropLog(instance, limits.maxDropRecords);
  const diskFailure = new DiskFailure(seam.log);
  const state: JobState = { jobs: new Map(), seenDatasets: new Set(), nextJobId: 0, version: 0 };
  const { jobs } = state;
  const changes: JobChange[] = [];
  const history: PublishedConfig[] = [];

  function current(): PublishedConfig | undefined {
    return history[history.length - 1];
  }

  function publish(
    draft: Draft,
    origin: PublishedConfig["origin"],
    jobList: Job[] | null,
  ): PublishedConfig {
    const version = draft.version + 1;
    const at = seam.clock.now();
    const body =
      jobList === null
        ? CORRUPT_BODY
        : JSON.stringify({ version, generatedAt: at, jobs: jobList } satisfies ForwardingConfig);
    const entry: PublishedConfig = { version, at, origin, body, jobCount: jobList?.length ?? 0 };
    record(draft, { type: "config", entry });
    return entry;
  }

  /** Changes the state by a record that is durable (in the state log). */
  function apply(durable: StateRecord): void {
    applyToJobs(state, durable);
    if (durable.type === "config") {
      const { entry } = durable;
      history.push(entry);
      published.inc({ origin: entry.origin });
      currentVersion.set(entry.version);
      return;
    }
    const { at, job } = durable;
    const { id, tenant, dataset, destination } = job;
    const enabled = job.enabled && !durable.removed;
    changes.push({ at, id, tenant, dataset, destination, enabled });
  }

  let changing: Promise<unknown> = Promise.resolve();
  /**
   * Makes one change, one at a time: `plan` works on a copy of the state and lists the records
   * of the change; they are written and synced, and only then applied. A plan that throws
   * (a bad request) or a failed write leaves the state as it was.
   */
  function change<T>(plan: (draft: Draft) => T): Promise<T> {
    const run = changing.then(async () => {
      const draft: Draft = {
        jobs: new Map(state.jobs),
        seenDatasets: new Set(state.seenDatasets),
        nextJobId: state.nextJobId,
        version: state.version,
        records: [],
      };
      const result = plan(draft);
      if (draft.records.length === 0) return result;
      const lines = draft.records.map((entry) => JSON.stringify(entry) + "\n").join("");
      await diskFailure.run(`write ${STATE_LOG}`, async () => {
        await seam.disk.append(STATE_LOG, lines);
        await seam.disk.sync(STATE_LOG);
      });
      for (const entry of draft.records) {
        apply(entry);
        if (entry.type === "config") {
          const { version, origin, jobCount } = entry.entry;
          seam.log.info("config published", { version, origin, jobs: jobCount });
        }
      }
      return result;
    });
    changing = run.catch(() => undefined);
    return run;
  }

  function recordChange(draft: Draft, job: Job, at: number, removed = false): void {
    record(draft, removed ? { type: "job", at, job, removed: true } : { type: "job", at, job });
  }

  /**
   * A revert undoes the changes since the config it returns to, jobs included: the jobs become
   * the ones that config forwarded (a job added since is disabled, one disabled or removed since
   * is back), so the job timeline, the ground truth of what should be delivered, never says a
   * job is enabled while the published config leaves it out.
   */
  function rollBackJobs(draft: Draft, target: Job[], at: number): void {
    const wanted = new Map(target.map((job) => [job.id, job]));
    for (const job of [...draft.jobs.values()]) {
      if (job.enabled && !wanted.has(job.id)) recordChange(draft, { ...job, enabled: false }, at);
    }
    for (const job of target) {
      const now = draft.jobs.get(job.id);
      const same =
        now !== undefined &&
        now.enabled &&
        now.tenant === job.tenant &&
        now.dataset === job.dataset &&
        now.destination === job.destination;
      if (!same) recordChange(draft, { ...job, enabled: true }, at);
    }
  }

  function enabledJobs(draft: Draft): Job[] {
    return [...draft.jobs.values()].filter((job) => job.enabled);
  }

  /** Regenerates from the jobs; `newDataset` is set when the change added a never-seen dataset. */
  function regenerate(draft: Draft, newDataset: boolean): PublishedConfig {
    if (newDataset && flaws.has("config.emptyOnNewDataset")) {
      seam.log.warn("config generator emitted an empty config (config.emptyOnNewDataset)");
      return publish(draft, "generated", []);
    }
    return publish(draft, "generated", enabledJobs(draft));
  }

  function addJob(draft: Draft, body: unknown, at: number): { job: Job; newDataset: boolean } {
    const issue = jobProblem(body, "job");
    if (issue !== null) throw new BadRequest(issue);
    const fields = body as Record<string, unknown>;
    const tenant = fields.tenant as string;
    const dataset = fields.dataset as string;
    for (const job of draft.jobs.values()) {
      if (job.tenant === tenant && job.dataset === dataset) {
        throw new BadRequest(
          `a job for tenant "${tenant}" and dataset "${dataset}" already exists (${job.id})`,
          409,
        );
      }
    }
    const id =
      typeof fields.id === "string" && fields.id.length > 0 ? fields.id : `job-${draft.nextJobId}`;
    if (draft.jobs.has(id)) throw new BadRequest(`job id "${id}" already exists`, 409);
    const job: Job = {
      id,
      tenant,
      dataset,
      destination: fields.destination as string,
      enabled: fields.enabled !== false,
    };
    const newDataset = !draft.seenDatasets.has(dataset);
    recordChange(draft, job, at);
    return { job, newDataset };
  }

  const initialJobs = options.settings.jobs ?? [];
  if (!Array.isArray(initialJobs))
    throw new Error(`settings.jobs is ${JSON.stringify(initialJobs)}, expected an array`);
  for (const dataset of (options.settings.datasets as unknown[] | undefined) ?? []) {
    if (typeof dataset === "string") state.seenDatasets.add(dataset);
  }
  for (const [index, job] of initialJobs.entries()) {
    const issue = jobProblem(job, `settings.jobs[${index}]`);
    if (issue !== null) throw new Error(issue);
  }

  const router = new Router()
    .on("GET", /^\/config$/, () => {
      const config = current();
      return config === undefined
        ? problem(503, "no config published yet")
        : { status: 200, headers: { "content-type": "application/json" }, body: config.body };
    })
    .on("GET", /^\/jobs$/, () => json(200, [...jobs.values()]))
    .on("POST", /^\/jobs$/, (request) =>
      change((draft) => {
        const { job, newDataset } = addJob(draft, parseJsonBody(request), seam.clock.now());
        const config = regenerate(draft, newDataset);
        return json(201, { job, version: config.version, newDataset });
      }),
    )
    .on("PATCH", /^\/jobs\/([^/]+)$/, (request, [id]) =>
      change((draft) => {
        const job = draft.jobs.get(id!);
        if (job === undefined) return problem(404, `job "${id}" not found`);
        const body = parseJsonBody(request) as Record<string, unknown>;
        if (typeof body !== "object" || body === null || typeof body.enabled !== "boolean") {
          throw new BadRequest(
            `field "enabled" is ${JSON.stringify(body?.enabled)}, expected a boolean`,
          );
        }
        recordChange(draft, { ...job, enabled: body.enabled }, seam.clock.now());
        const version = regenerate(draft, false).version;
        return json(200, { job: draft.jobs.get(job.id), version });
      }),
    )
    .on("DELETE", /^\/jobs\/([^/]+)$/, (_request, [id]) =>
      change((draft) => {
        const job = draft.jobs.get(id!);
        if (job === undefined) return problem(404, `job "${id}" not found`);
        recordChange(draft, job, seam.clock.now(), true);
        const version = regenerate(draft, false).version;
        return json(200, { job, version });
      }),
    )
    .on("POST", /^\/config\/push$/, (request) =>
      change((draft) => {
        const body = parseJsonBody(request) as Record<string, unknown>;
        const kind = typeof body === "object" && body !== null ? body.kind : undefined;
        if (kind !== "empty" && kind !== "corrupt") {
          throw new BadRequest(
            `field "kind" is ${JSON.stringify(kind)}, expected "empty" or "corrupt"`,
          );
        }
        const empty = kind === "empty";
        return json(
          200,
          publish(draft, empty ? "pushed-empty" : "pushed-corrupt", empty ? [] : null),
        );
      }),
    )
    .on("POST", /^\/config\/revert$/, () =>
      change((draft) => {
        // Reverting re-publishes the newest earlier config that was generated from jobs and not
        // empty: the state before the change that broke things.
        const latest = current();
        for (let index = history.length - 2; index >= 0; index--) {
          const candidate = history[index]!;
          if (
            (candidate.origin === "generated" || candidate.origin === "revert") &&
            candidate.jobCount > 0
          ) {
            const jobList = (JSON.parse(candidate.body) as ForwardingConfig).jobs;
            rollBackJobs(draft, jobList, seam.clock.now());
            const entry = publish(draft, "revert", jobList);
            return json(200, { ...entry, revertedFrom: latest?.version });
          }
        }
        return problem(409, "no earlier non-empty config to revert to");
      }),
    )
    .on("GET", /^\/timeline$/, () =>
      json(200, {
        changes,
        configs: history.map(({ body: _body, ...entry }) => entry),
      }),
    );
  addObservability(router, {
    metrics,
    drops,
    health: () => ({
      ok: current() !== undefined && diskFailure.reason === null,
      version: current()?.version ?? null,
      jobs: jobs.size,
      disk: diskFailure.reason ?? "ok",
    }),
  });

  return {
    name: "config",
    handle: router.handle,
    metrics,
    async start() {
      const saved = await seam.disk.read(STATE_LOG);
      if (saved !== null) {
        // A torn last line (a crash mid-append) is what was never acknowledged: skip it.
        for (const line of saved.split("\n")) {
          if (line === "") continue;
          try {
            apply(JSON.parse(line) as StateRecord);
          } catch {
            seam.log.warn("skipped an unreadable line of the state log", {
              line: line.slice(0, 80),
            });
          }
        }
      }
      await change((draft) => {
        if (saved === null) for (const job of initialJobs) addJob(draft, job, 0);
        if (current() === undefined) publish(draft, "generated", enabledJobs(draft));
      });
    },
    async stop() {},
  };
}
