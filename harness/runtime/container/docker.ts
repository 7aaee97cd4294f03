// The Docker engine as testcontainers reaches it. Offline by default (docs/containers.md): Ryuk's
// image and the alpine image testcontainers uses to find the host cannot be pulled here, so
// unless the user says otherwise Ryuk is off (Spillway removes what it creates itself, and
// `spillway clean` catches what a killed harness left) and the host is localhost.

import { getContainerRuntimeClient, type ContainerRuntimeClient } from "testcontainers";

/** The testcontainers settings Spillway applies when the user has not set them. */
export const OFFLINE_DEFAULTS = Object.freeze({
  TESTCONTAINERS_RYUK_DISABLED: "true",
  TESTCONTAINERS_HOST_OVERRIDE: "localhost",
});

export function applyOfflineDefaults(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(OFFLINE_DEFAULTS)) env[name] ??= value;
}

/** The container runtime client (dockerode underneath), with the offline defaults applied. */
export function dockerClient(): Promise<ContainerRuntimeClient> {
  applyOfflineDefaults();
  return getContainerRuntimeClient();
}

/** Why no Docker engine can be used here (one line), or undefined when one answers. */
export async function dockerUnavailable(): Promise<string | undefined> {
  try {
    const client = await dockerClient();
    await client.container.dockerode.ping();
    return undefined;
  } catch (error) {
    const message = (error as Error).message.split("\n")[0] ?? "no answer";
    return `no Docker engine reachable (${message}); start one (docs/containers.md) or set DOCKER_HOST`;
  }
}
