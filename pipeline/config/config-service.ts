// The config service: holds Logpush-style jobs and publishes the forwarding config generated
// from them, versioned. It also keeps the ground truth the ledger needs: when each job was
// enabled, and every config it published. Faults push an empty or corrupt config or revert.

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
    history.push(entry);
    published.inc({ origin });
    currentVersion.set(version);
    seam.log.info("config published", { version, origin, jobs: entry.jobCount });
    return entry;
  }

  function recordChange(job: Job, at: number): void {
    const { id, tenant, dataset, destination, enabled } = job;
    changes.push({ at, id, tenant, dataset, destination, enabled });
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
    seenDatasets.add(dataset);
    jobs.set(id, job);
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
    addJob(job, 0);
  }

  const router = new Router()
    .on("GET", /^\/config$/, () => {
      const config = current();
      return config === undefined
        ? problem(503, "no config published yet")
        : { status: 200, headers: { "content-type": "application/json" }, body: config.body };
    })
    .on("GET", /^\/jobs$/, () => json(200, [...jobs.values()]))
    .on("POST", /^\/jobs$/, (request) => {
      const { job, newDataset } = addJob(parseJsonBody(request), seam.clock.now());
      const config = regenerate(newDataset);
      return json(201, { job, version: config.version, newDataset });
    })
    .on("PATCH", /^\/jobs\/([^/]+)$/, (request, [id]) => {
      const job = jobs.get(id!);
      if (job === undefined) return problem(404, `job "${id}" not found`);
      const body = parseJsonBody(request) as Record<string, unknown>;
      if (typeof body !== "object" || body === null || typeof body.enabled !== "boolean") {
        throw new BadRequest(
          `field "enabled" is ${JSON.stringify(body?.enabled)}, expected a boolean`,
        );
      }
      job.enabled = body.enabled;
      recordChange(job, seam.clock.now());
      return json(200, { job, version: regenerate(false).version });
    })
    .on("DELETE", /^\/jobs\/([^/]+)$/, (_request, [id]) => {
      const job = jobs.get(id!);
      if (job === undefined) return problem(404, `job "${id}" not found`);
      jobs.delete(job.id);
      recordChange({ ...job, enabled: false }, seam.clock.now());
      return json(200, { job, version: regenerate(false).version });
    })
    .on("POST", /^\/config\/push$/, (request) => {
      const body = parseJsonBody(request) as Record<string, unknown>;
      const kind = typeof body === "object" && body !== null ? body.kind : undefined;
      if (kind === "empty") return json(200, publish("pushed-empty", []));
      if (kind === "corrupt") return json(200, publish("pushed-corrupt", null));
      throw new BadRequest(
        `field "kind" is ${JSON.stringify(kind)}, expected "empty" or "corrupt"`,
      );
    })
    .on("POST", /^\/config\/revert$/, () => {
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
          return json(200, { ...publish("revert", jobList), revertedFrom: latest?.version });
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
      if (current() === undefined) publish("generated", enabledJobs());
    },
    async stop() {},
  };
}
