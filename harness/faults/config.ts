// Config faults (docs/architecture.md §4) through the config service's API: add a job for a new
// dataset (what set off 14 November 2024 under config.emptyOnNewDataset), push an empty or corrupt
// config, and revert to the previous good one.
//
// Heals: a pushed config is healed by a revert. Adding a job is an operator's change, not a
// breakage, and the incident was healed by the revert, not by removing the job: by default its
// heal keeps the job (`onHeal: "keep-job"`); `onHeal: "disable-job"` disables it instead, which
// regenerates the config from the jobs. A revert has nothing to heal.
//
// Every job change is written in the harness's own record (context.jobs) with when it was asked
// and when the config service confirmed it, and after every change the harness reads the config
// the service now publishes: the ledger judges against that record (docs/architecture.md §5).

import { z } from "zod";
import { HttpStatusError } from "../http/json-client.ts";
import { readPublishedConfig } from "../ledger/collect.ts";
import type { JobChangeCause, JobDefinition } from "../ledger/job-record.ts";
import { defineFault, healedBy, nothingToHeal } from "./define.ts";
import type { FaultContext } from "./fault.ts";
import { choice, eventName, faultParams } from "./params.ts";
import { callService, firstOf } from "./targets.ts";

const DESTINATION = /^[a-z][a-z0-9-]{0,62}\/[A-Za-z0-9_.-]{1,128}$/;

interface Published {
  version: number;
}

function configService(context: FaultContext) {
  return firstOf(context.topology, "config");
}

/** Reads the config the service now publishes into the record, for reverts and the verdict. */
async function rememberPublished(context: FaultContext): Promise<void> {
  const { topology } = context;
  context.jobs.snapshot(
    await readPublishedConfig(topology.net, { url: configService(context).url() }, () =>
      topology.clock.now(),
    ),
  );
}

/**
 * Sends a job change, recording it as asked before the request and as confirmed when a 2xx
 * comes back; a refusal (4xx/5xx) changed nothing and leaves no record; no answer at all
 * leaves the change unconfirmed.
 */
async function recordedChange<T>(
  context: FaultContext,
  changes: ReadonlyArray<JobDefinition & { enabled: boolean }>,
  cause: JobChangeCause,
  request: () => Promise<T>,
): Promise<T> {
  const { clock } = context.topology;
  const askedAt = clock.now();
  const settle = changes.map((change) => context.jobs.ask({ ...change, cause }, askedAt));
  let answer: T;
  try {
    answer = await request();
  } catch (error) {
    if (!(error instanceof HttpStatusError)) for (const confirm of settle) confirm(null);
    throw error;
  }
  const confirmedAt = clock.now();
  for (const confirm of settle) confirm(confirmedAt);
  await rememberPublished(context);
  return answer;
}

async function revert(context: FaultContext): Promise<void> {
  let answer: Published & { revertedFrom?: number };
  try {
    answer = (await recordedChange(context, context.jobs.revertChanges(), "config.revert", () =>
      callService(context.topology, configService(context), "POST", "/config/revert", {}),
    )) as Published & { revertedFrom?: number };
  } catch (error) {
    // An operator's revert with no earlier good config changes nothing; that is not a failure.
    if (error instanceof HttpStatusError && error.status === 409) {
      context.note("config revert: no earlier non-empty config to revert to, nothing changed");
      return;
    }
    throw error;
  }
  context.note(`config reverted: v${answer.revertedFrom} → v${answer.version}`);
}

async function push(context: FaultContext, kind: "empty" | "corrupt") {
  const answer = (await callService(
    context.topology,
    configService(context),
    "POST",
    "/config/push",
    {
      kind,
    },
  )) as Published;
  await rememberPublished(context);
  context.note(`${kind} config pushed as v${answer.version}`);
  return healedBy(() => revert(context));
}

export const configAddJob = defineFault({
  name: "config.add-job",
  family: "config",
  summary:
    "adds a job for a dataset (by default for the first job tenant, to sink-0/<tenant>.<dataset>)",
  params: faultParams({
    tenant: eventName("tenant").optional(),
    dataset: eventName("dataset"),
    destination: z
      .string({ error: 'expected "<sink service>/<path>", e.g. "sink-0/t000.dns_logs"' })
      .regex(DESTINATION, {
        error: 'expected "<sink service>/<path>", e.g. "sink-0/t000.dns_logs"',
      })
      .optional(),
    onHeal: choice(["keep-job", "disable-job"]).default("keep-job"),
  }),
  targets: (params) =>
    params.destination === undefined ? {} : { services: [params.destination.split("/")[0]!] },
  async inject(context, params) {
    const tenant = params.tenant ?? context.workload.jobTenants[0];
    if (tenant === undefined) {
      throw new Error(
        "config.add-job has no tenant to add a job for: the workload has no job tenants; give one as tenant",
      );
    }
    const destination =
      params.destination ?? `${firstOf(context.topology, "sink").name}/${tenant}.${params.dataset}`;
    const config = configService(context);
    const job = { tenant, dataset: params.dataset, destination };
    const answer = (await recordedChange(
      context,
      [{ ...job, enabled: true }],
      "config.add-job",
      () => callService(context.topology, config, "POST", "/jobs", job),
    )) as Published & { job: { id: string }; newDataset: boolean };
    const { id } = answer.job;
    context.note(
      `job ${id} added: ${tenant}/${params.dataset} → ${destination} (config v${answer.version}${answer.newDataset ? ", a new dataset" : ""})`,
    );
    if (params.onHeal === "keep-job") return nothingToHeal();
    return healedBy(async () => {
      const disabled = (await recordedChange(
        context,
        [{ ...job, enabled: false }],
        "config.add-job heal",
        () =>
          callService(context.topology, config, "PATCH", `/jobs/${encodeURIComponent(id)}`, {
            enabled: false,
          }),
      )) as Published;
      context.note(`job ${id} disabled (config v${disabled.version})`);
    });
  },
});

export const configPushEmpty = defineFault({
  name: "config.push-empty",
  family: "config",
  summary: "publishes an empty forwarding config; heal reverts to the previous good one",
  params: faultParams({}),
  targets: () => ({}),
  inject: (context) => push(context, "empty"),
});

export const configPushCorrupt = defineFault({
  name: "config.push-corrupt",
  family: "config",
  summary: "publishes a config that is not valid JSON; heal reverts to the previous good one",
  params: faultParams({}),
  targets: () => ({}),
  inject: (context) => push(context, "corrupt"),
});

export const configRevert = defineFault({
  name: "config.revert",
  family: "config",
  summary:
    "re-publishes the newest earlier non-empty config generated from the jobs, and rolls the jobs back to it",
  params: faultParams({}),
  targets: () => ({}),
  async inject(context) {
    await revert(context);
    return nothingToHeal();
  },
});

export const CONFIG_FAULTS = [
  configAddJob,
  configPushEmpty,
  configPushCorrupt,
  configRevert,
] as const;
