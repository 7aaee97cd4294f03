// The config service: holds Logpush-style jobs and publishes the forwarding config generated
// from them, versioned. It also keeps the ground truth the ledger needs: when each job was
// enabled, and every config it published. Faults push an empty or corrupt config or revert
// (which rolls the jobs back with the config).
// Every change is written to a log on its disk and synced before it is answered, and replayed
// on start, so a restarted config service has the same jobs, timeline and config history.

import { Counter, Gauge } from "prom-client";
import type { Component, ComponentOptions } from "../core/component.ts";
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
  const jobs = new Map<string, Job>();
  const seenDatasets = new Set<string>();
  const changes: JobChange[] = [];
  const history: PublishedConfig[] = [];
  let nextJobId = 0;

  function current(): PublishedConfig | undefined {
    return history[history.length - 1];
  }

  function publish(origin: PublishedConfig["origin"], jobList: Job[] | null): PublishedConfig {
    const version = (current()?.version ?? 0) + 1;
    const at = seam.clock.now();
    const body =
      jobList === null
        ? CORRUPT_BODY
        : JSON.stringify({ version, generatedAt: at, jobs: jobList } satisfies ForwardingConfig);
    const entry: PublishedConfig = { version, at, origin, body, jobCount: jobList?.length ?? 0 };
    commit({ type: "config", entry });
    seam.log.info("config published", { version, origin, jobs: entry.jobCount });
    return entry;
  }

  /** Changes the state; `commit` also queues the record for the state log. */
  function apply(record: StateRecord): void {
    if (record.type === "config") {
      history.push(record.entry);
      published.inc({ origin: record.entry.origin });
      currentVersion.set(record.entry.version);
      return;
    }
    const { at, job } = record;
    if (record.removed === true) jobs.delete(job.id);
    else jobs.set(job.id, { ...job });
    seenDatasets.add(job.dataset);
    const { id, tenant, dataset, destination } = job;
    changes.push({ at, id, tenant, dataset, destination, enabled: job.enabled && !record.removed });
    const numbered = /^job-(\d+)$/.exec(id);
    if (numbered !== null) nextJobId = Math.max(nextJobId, Number(numbered[1]) + 1);
  }

  let unsaved: string[] = [];
  function commit(record: StateRecord): void {
    apply(record);
    unsaved.push(JSON.stringify(record) + "\n");
  }

  /** Writes what changed since the last save and syncs it: called before a change is answered. */
  async function save(): Promise<void> {
    if (unsaved.length === 0) return;
    const lines = unsaved.join("");
    unsaved = [];
    await seam.disk.append(STATE_LOG, lines);
    await seam.disk.sync(STATE_LOG);
  }

  function recordChange(job: Job, at: number, removed = false): void {
    commit(removed ? { type: "job", at, job, removed: true } : { type: "job", at, job });
  }

  /**
   * A revert undoes the changes since the config it returns to, jobs included: the jobs become
   * the ones that config forwarded (a job added since is disabled, one disabled or removed since
   * is back), so the job timeline, the ground truth of what should be delivered, never says a
   * job is enabled while the published config leaves it out.
   */
  function rollBackJobs(target: Job[], at: number): void {
    const wanted = new Map(target.map((job) => [job.id, job]));
    for (const job of jobs.values()) {
      if (job.enabled && !wanted.has(job.id)) recordChange({ ...job, enabled: false }, at);
    }
    for (const job of target) {
      const now = jobs.get(job.id);
      const same =
        now !== undefined &&
        now.enabled &&
        now.tenant === job.tenant &&
        now.dataset === job.dataset &&
        now.destination === job.destination;
      if (!same) recordChange({ ...job, enabled: true }, at);
    }
  }

  function enabledJobs(): Job[] {
    return [...jobs.values()].filter((job) => job.enabled);
  }

  /** Regenerates from the jobs; `newDataset` is set when the change added a never-seen dataset. */
  function regenerate(newDataset: boolean): PublishedConfig {
    if (newDataset && flaws.has("config.emptyOnNewDataset")) {
      seam.log.warn("config generator emitted an empty config (config.emptyOnNewDataset)");
      return publish("generated", []);
    }
    return publish("generated", enabledJobs());
  }

  function addJob(body: unknown, at: number): { job: Job; newDataset: boolean } {
    const issue = jobProblem(body, "job");
    if (issue !== null) throw new BadRequest(issue);
    const fields = body as Record<string, unknown>;
    const tenant = fields.tenant as string;
    const dataset = fields.dataset as string;
    for (const job of jobs.values()) {
      if (job.tenant === tenant && job.dataset === dataset) {
        throw new BadRequest(
          `a job for tenant "${tenant}" and dataset "${dataset}" already exists (${job.id})`,
          409,
        );
      }
    }
    const id =
      typeof fields.id === "string" && fields.id.length > 0 ? fields.id : `job-${nextJobId++}`;
    if (jobs.has(id)) throw new BadRequest(`job id "${id}" already exists`, 409);
    const job: Job = {
      id,
      tenant,
      dataset,
      destination: fields.destination as string,
      enabled: fields.enabled !== false,
    };
    const newDataset = !seenDatasets.has(dataset);
    recordChange(job, at);
    return { job, newDataset };
  }

  const initialJobs = options.settings.jobs ?? [];
  if (!Array.isArray(initialJobs))
    throw new Error(`settings.jobs is ${JSON.stringify(initialJobs)}, expected an array`);
  for (const dataset of (options.settings.datasets as unknown[] | undefined) ?? []) {
    if (typeof dataset === "string") seenDatasets.add(dataset);
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
    .on("POST", /^\/jobs$/, async (request) => {
      const { job, newDataset } = addJob(parseJsonBody(request), seam.clock.now());
      const config = regenerate(newDataset);
      await save();
      return json(201, { job, version: config.version, newDataset });
    })
    .on("PATCH", /^\/jobs\/([^/]+)$/, async (request, [id]) => {
      const job = jobs.get(id!);
      if (job === undefined) return problem(404, `job "${id}" not found`);
      const body = parseJsonBody(request) as Record<string, unknown>;
      if (typeof body !== "object" || body === null || typeof body.enabled !== "boolean") {
        throw new BadRequest(
          `field "enabled" is ${JSON.stringify(body?.enabled)}, expected a boolean`,
        );
      }
      recordChange({ ...job, enabled: body.enabled }, seam.clock.now());
      const version = regenerate(false).version;
      await save();
      return json(200, { job: jobs.get(job.id), version });
    })
    .on("DELETE", /^\/jobs\/([^/]+)$/, async (_request, [id]) => {
      const job = jobs.get(id!);
      if (job === undefined) return problem(404, `job "${id}" not found`);
      recordChange(job, seam.clock.now(), true);
      const version = regenerate(false).version;
      await save();
      return json(200, { job, version });
    })
    .on("POST", /^\/config\/push$/, async (request) => {
      const body = parseJsonBody(request) as Record<string, unknown>;
      const kind = typeof body === "object" && body !== null ? body.kind : undefined;
      if (kind === "empty" || kind === "corrupt") {
        const entry = publish(
          kind === "empty" ? "pushed-empty" : "pushed-corrupt",
          kind === "empty" ? [] : null,
        );
        await save();
        return json(200, entry);
      }
      throw new BadRequest(
        `field "kind" is ${JSON.stringify(kind)}, expected "empty" or "corrupt"`,
      );
    })
    .on("POST", /^\/config\/revert$/, async () => {
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
          rollBackJobs(jobList, seam.clock.now());
          const entry = publish("revert", jobList);
          await save();
          return json(200, { ...entry, revertedFrom: latest?.version });
        }
      }
      return problem(409, "no earlier non-empty config to revert to");
    })
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
      ok: current() !== undefined,
      version: current()?.version ?? null,
      jobs: jobs.size,
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
      } else {
        for (const job of initialJobs) addJob(job, 0);
      }
      if (current() === undefined) publish("generated", enabledJobs());
      await save();
    },
    async stop() {},
  };
}
