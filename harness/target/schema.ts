// A target file (docs/targets.md): a system under test made of software Spillway did not write.
// Services (processes in the foreground, or external addresses), the config files they are
// given (templates with {{spillway.…}} placeholders), how each is known to be ready, the links
// between them (each through the fault proxy), how the workload sends (ingress), what Spillway
// records at the far end (egresses), which events are expected where (routes), where declared
// drops come from, the bounds the verdict holds the target to, and named variants of its
// template variables. Written as YAML, JSON or a TypeScript module (`defineTarget`), checked here
// against one schema with errors that name the path and the value.

import { z } from "zod";
import { NAME_PATTERN } from "../../pipeline/core/event.ts";
import { durationSchema } from "../experiment/duration.ts";
import { COMPONENT_KINDS } from "../runtime/topology.ts";

/** Service, egress, port and link names: what a placeholder or a fault may name. */
const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const nameSchema = z.string().regex(NAME, "expected a name of a-z, 0-9 and -, starting a-z");
/** Template variables: letters, digits and underscores, as in most config languages. */
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The workload's end of the ingress link. */
export const WORKLOAD_ENDPOINT = "workload";

const MEMORY_MB_MAX = 65_536;

const readinessSchema = z.union([
  z.strictObject({ tcp: nameSchema.describe("one of the service's ports") }),
  z.strictObject({
    http: z.strictObject({
      port: nameSchema,
      path: z.string().startsWith("/").default("/"),
      status: z.number().int().min(100).max(599).default(200),
    }),
  }),
  z.strictObject({
    logLine: z
      .string()
      .min(1)
      .refine(
        (pattern) => {
          try {
            new RegExp(pattern);
            return true;
          } catch {
            return false;
          }
        },
        { error: "expected a regular expression" },
      ),
  }),
]);

const fileSchema = z.strictObject({
  /** Where it is written, relative to the service's config directory ({{spillway.configDir}}). */
  path: z
    .string()
    .min(1)
    .refine((value) => !value.startsWith("/") && !value.split("/").includes(".."), {
      error: "expected a relative path inside the config directory",
    }),
  /** The template, relative to the target file. */
  template: z.string().min(1),
});

const processSchema = z.strictObject({
  /** The command line, in the foreground; every argument is rendered as a template. */
  command: z.array(z.string().min(1)).min(1),
  /** The Debian package that provides argv[0], named when it is not on PATH. */
  package: z.string().optional(),
  env: z.record(z.string(), z.string()).optional(),
});

const containerSchema = z.strictObject({
  /** An image the local Docker engine has: Spillway pulls nothing. */
  image: z.string().min(1),
  /** Its command (`docker run`'s arguments after the image); every argument a template. */
  command: z.array(z.string().min(1)).min(1).optional(),
  env: z.record(z.string(), z.string()).optional(),
  /** Rendered files also mounted where the image looks for them: `{ <file path>: /abs/path }`. */
  files: z
    .record(
      z.string(),
      z
        .string()
        .startsWith("/", "expected an absolute path inside the container")
        .refine((value) => !value.split("/").includes(".."), { error: "expected no .." }),
    )
    .optional(),
  /** `docker run --user`; default the harness's own uid:gid, so that its data stays removable. */
  user: z.string().min(1).optional(),
});

const externalSchema = z.strictObject({
  host: z.string().min(1),
  /** Its ports by name, as {{spillway.port.<name>}} and links see them. */
  ports: z.record(nameSchema, z.number().int().min(1).max(65_535)),
});

const serviceSchema = z
  .strictObject({
    name: nameSchema,
    process: processSchema.optional(),
    container: containerSchema.optional(),
    external: externalSchema.optional(),
    /** Named ports Spillway allocates before the start and keeps across restarts. */
    ports: z.array(nameSchema).default([]),
    files: z.array(fileSchema).default([]),
    ready: readinessSchema.optional(),
    readyTimeout: durationSchema.default(20_000),
    /** The memory it may use (its process group's RSS, a container's memory), for bounded-buffer. */
    memoryMbMax: z.number().positive().max(MEMORY_MB_MAX).optional(),
    /**
     * The reference pipeline's role it plays, its first port its HTTP API: config faults and the
     * reference runner's evidence find it by this (docs/targets.md, "The reference pipeline as a
     * target").
     */
    component: z.enum(COMPONENT_KINDS).optional(),
  })
  .superRefine((service, context) => {
    const kinds = [service.process, service.container, service.external].filter(
      (kind) => kind !== undefined,
    );
    if (kinds.length !== 1)
      context.addIssue({
        code: "custom",
        message: "expected exactly one of process, container or external",
        input: service,
      });
  });

/** One end of a link: `workload`, a service's port (`relay:syslog`), or an egress by name. */
const endpointSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}(:[a-z][a-z0-9-]{0,62})?$/, "expected <service>:<port> or a name");

const linkSchema = z.strictObject({
  /** `<from>-><to>` by default (e.g. `relay-a->relay-b`), as the reference pipeline names links. */
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}->[a-z][a-z0-9-]{0,62}$/, 'expected "<from>-><to>"')
    .optional(),
  /** Who connects: `workload`, a service, or an egress (a recorder that reads, like Redis's). */
  from: nameSchema,
  to: endpointSchema,
});

/** An egress as written: its name, and the rest checked by its kind's schema (load.ts). */
const egressEntrySchema = z.looseObject({ name: nameSchema, kind: z.string() });

const matchSchema = z.strictObject({
  tenants: z.array(z.string().regex(NAME_PATTERN)).min(1).optional(),
  /** The workload's job tenants (its `jobTenants`, else its `jobShare`), as the reference's jobs. */
  jobTenants: z.literal(true).optional(),
  datasets: z.array(z.string().regex(NAME_PATTERN)).min(1).optional(),
});

const routeSchema = z.strictObject({
  /** An egress, or several that the matched (tenant, dataset) pairs are dealt over in turn. */
  egress: z.union([nameSchema, z.array(nameSchema).min(1)]),
  /** Which events are expected there; all when absent. */
  match: matchSchema.optional(),
});

const declaredSchema = z.union([
  /** A recorder whose records are declared drops, exact ids (a dead-letter destination). */
  z.strictObject({ egress: nameSchema }),
  /** A Prometheus counter of dropped events: a count, so loss up to it is unknown. */
  z.strictObject({
    prometheus: z.strictObject({
      service: nameSchema,
      port: nameSchema,
      path: z.string().startsWith("/").default("/metrics"),
      metric: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, "expected a metric name"),
    }),
  }),
]);

export const targetSchema = z.strictObject({
  name: nameSchema,
  description: z.string().min(1).max(2_000),
  /** Template variables ({{spillway.var.<name>}}) and their defaults. */
  variables: z
    .record(z.string().regex(VARIABLE, "expected a variable name"), z.string())
    .default({}),
  /** Named sets of variables; `--compare a,b` runs the experiment once on each. */
  variants: z
    .record(
      nameSchema,
      z.record(z.string().regex(VARIABLE, "expected a variable name"), z.string()),
    )
    .default({}),
  /** The variant a plain run uses (default: the first, or none when there are no variants). */
  defaultVariant: nameSchema.optional(),
  services: z.array(serviceSchema).default([]),
  links: z.array(linkSchema).default([]),
  /**
   * How the workload sends, through its link (`workload-><service>`); the rest is checked by
   * its kind's schema (load.ts).
   */
  ingress: z.looseObject({ link: z.string().min(1), kind: z.string() }),
  egresses: z.array(egressEntrySchema).min(1),
  routes: z.array(routeSchema).min(1),
  declared: z.array(declaredSchema).default([]),
  bounds: z
    .strictObject({
      /** Acknowledged − delivered − declared, measured from outside, at most this many events. */
      backlogEventsMax: z.number().int().positive().optional(),
    })
    .default({}),
});

export type TargetInput = z.input<typeof targetSchema>;
export type TargetFile = z.output<typeof targetSchema>;
export type TargetService = TargetFile["services"][number];
export type TargetLink = TargetFile["links"][number];
export type Readiness = NonNullable<TargetService["ready"]>;
export type Route = TargetFile["routes"][number];
export type ServiceComponent = NonNullable<TargetService["component"]>;
export type Declared = TargetFile["declared"][number];

/** Types a target written in TypeScript; it is validated when loaded. */
export function defineTarget(target: TargetInput): TargetInput {
  return target;
}
