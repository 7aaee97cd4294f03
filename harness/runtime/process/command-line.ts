// The command line of one component process (see pipeline/host/main.ts).

import { effectiveProfile, type ServiceSpec, type Topology } from "../topology.ts";

export interface Placement {
  /** 0 lets the component pick a free port (first start); then the same port again. */
  port: number;
  dataDir: string;
  /** Peer service name → the base URL this service must call it at. */
  peers: Record<string, string>;
}

export function componentArguments(
  topology: Topology,
  service: ServiceSpec,
  placement: Placement,
): string[] {
  const { profile, flaws } = effectiveProfile(topology, service);
  const optional = (flag: string, value: unknown): string[] =>
    value === undefined ? [] : [flag, typeof value === "string" ? value : JSON.stringify(value)];
  return [
    service.component,
    "--port",
    String(placement.port),
    "--instance",
    service.name,
    "--profile",
    profile,
    ...optional("--flaws", flaws?.join(",")),
    "--data-dir",
    placement.dataDir,
    "--peers",
    JSON.stringify(placement.peers),
    ...optional("--limits", service.limits),
    ...optional("--settings", service.settings),
  ];
}
