// Where a service container listens and how it is reached. Host networking (the default): each
// container shares the host's network and listens on a free loopback port, exactly like a
// process, so the fault proxy on the host sits on every link unchanged. A private network: a
// bridge network of the run's own, each service listening on SERVICE_PORT under its name as a
// network alias, published on a random host port that the harness reads after every start
// (a restart changes it).

import type Dockerode from "dockerode";
import { createServer } from "node:net";
import { StartedNetwork, type ContainerRuntimeClient, type GenericContainer } from "testcontainers";
import { testcontainersLabels } from "./labels.ts";

import type { NetworkMode } from "./network-mode.ts";

export type { NetworkMode } from "./network-mode.ts";

/** The port every service listens on inside a private network. */
export const SERVICE_PORT = 8080;

export interface Listen {
  host: string;
  port: number;
}

export interface Networking {
  readonly mode: NetworkMode;
  /** The run's own network, when it has one. */
  readonly network?: StartedNetwork;
  /** The address the service's component listens on (the same on every start). */
  listen(service: string): Promise<Listen>;
  /** Attaches the container to the network. */
  configure(container: GenericContainer, service: string, listen: Listen): void;
  /** The base URL at which the harness reaches the started container. */
  url(service: string, inspected: Dockerode.ContainerInspectInfo): string;
  /** The base URL at which another container reaches the service directly. */
  peerUrl(service: string, harnessUrl: string): string;
  /** Releases what the networking created. */
  close(): Promise<void>;
}

/** A port free on loopback now (the component binds it right after). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null
          ? resolve(address.port)
          : reject(new Error("no port was bound")),
      );
    });
  });
}

export function hostNetworking(): Networking {
  const ports = new Map<string, number>();
  return {
    mode: "host",
    async listen(service) {
      const port = ports.get(service) ?? (await freeLoopbackPort());
      ports.set(service, port);
      return { host: "127.0.0.1", port };
    },
    configure(container) {
      container.withNetworkMode("host");
    },
    url(service) {
      return `http://127.0.0.1:${ports.get(service)}`;
    },
    peerUrl(_service, harnessUrl) {
      return harnessUrl;
    },
    close: async () => {},
  };
}

/** A bridge network labelled like everything else of the run; removed by `close`. */
export async function privateNetworking(
  client: ContainerRuntimeClient,
  name: string,
  labels: Record<string, string>,
): Promise<Networking> {
  const created = await client.network.create({
    Name: name,
    CheckDuplicate: true,
    Driver: "bridge",
    Labels: { ...testcontainersLabels(), ...labels },
  });
  const network = new StartedNetwork(client, name, created);
  return {
    mode: "private",
    network,
    listen: async () => ({ host: "0.0.0.0", port: SERVICE_PORT }),
    configure(container, service) {
      container.withNetwork(network).withNetworkAliases(service).withExposedPorts(SERVICE_PORT);
    },
    url(service, inspected) {
      const binding = inspected.NetworkSettings.Ports[`${SERVICE_PORT}/tcp`]?.[0];
      if (binding === undefined)
        throw new Error(`service "${service}" has no published port for ${SERVICE_PORT}/tcp`);
      return `http://localhost:${binding.HostPort}`;
    },
    peerUrl(service) {
      return `http://${service}:${SERVICE_PORT}`;
    },
    async close() {
      await network.stop();
    },
  };
}
