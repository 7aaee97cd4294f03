// Link fault proxies inside a private network: a Toxiproxy container (@testcontainers/toxiproxy)
// joins the run's network under the alias "toxiproxy"; every link gets a proxy listening there on
// a free port, whose upstream is the peer's address in the network, and the calling service is
// given `http://toxiproxy:<port>`. The harness drives it through its published control port.
// The image is the user's Toxiproxy (--toxiproxy-image), or else the pipeline image running
// Spillway's own Toxiproxy-compatible server, so that no registry is needed.

import { ToxiProxyContainer, type StartedToxiProxyContainer } from "@testcontainers/toxiproxy";
import path from "node:path";
import type { LinkControl } from "../../faults/fault.ts";
import type { LinkProvider, LinkRequest } from "../links.ts";
import { toxiproxyLinks, type ToxiproxyLinks } from "../toxiproxy-links.ts";
import { ENTRY_POINTS, IMAGE_APP_DIR } from "./image-inputs.ts";
import { LABEL_SERVICE } from "./labels.ts";
import type { StartedNetwork } from "testcontainers";

export const TOXIPROXY_ALIAS = "toxiproxy";
export const TOXIPROXY_CONTROL_PORT = 8474;
/** The pipeline image's command that runs the embedded fault proxy as a Toxiproxy image would. */
export const EMBEDDED_TOXIPROXY_COMMAND: readonly string[] = [
  path.posix.join(IMAGE_APP_DIR, ENTRY_POINTS.toxiproxy),
  "-host=0.0.0.0",
];

export interface ToxiproxyPlacement {
  network: StartedNetwork;
  labels: Record<string, string>;
  /** The pipeline image, used when no Toxiproxy image was given. */
  pipelineImage: string;
}

/**
 * @testcontainers/toxiproxy's container, publishing only its control port: the proxies listen on
 * ports chosen at run time and are called from inside the network, so the 32 ports it would
 * publish (each a docker-proxy process on the host) would serve nothing.
 */
class ControlPortToxiproxy extends ToxiProxyContainer {
  constructor(image: string) {
    super(image);
    this.exposedPorts = [TOXIPROXY_CONTROL_PORT];
  }
}

interface Started {
  container: StartedToxiProxyContainer;
  links: ToxiproxyLinks;
}

export class ToxiproxyContainerLinks implements LinkProvider, LinkControl {
  private readonly image: string | undefined;
  private placement: ToxiproxyPlacement | undefined;
  private started: Promise<Started> | undefined;
  private current: Started | undefined;

  /** `image`: a Toxiproxy image; undefined runs the pipeline image's own fault proxy. */
  constructor(image: string | undefined) {
    this.image = image;
  }

  /** Called by the container runtime once the run's network exists, before any link opens. */
  attach(placement: ToxiproxyPlacement): void {
    this.placement = placement;
  }

  /** The Toxiproxy control URL the harness uses, once the container runs. */
  controlUrl(): string | undefined {
    return this.current?.links.controlUrl();
  }

  private start(): Promise<Started> {
    this.started ??= this.launch();
    return this.started;
  }

  private async launch(): Promise<Started> {
    const placement = this.placement;
    if (placement === undefined)
      throw new Error(
        "the Toxiproxy container needs the run's private network: start the topology with the container runtime and --network private",
      );
    const container = new ControlPortToxiproxy(this.image ?? placement.pipelineImage)
      .withNetwork(placement.network)
      .withNetworkAliases(TOXIPROXY_ALIAS)
      .withLabels({ ...placement.labels, [LABEL_SERVICE]: TOXIPROXY_ALIAS });
    if (this.image === undefined) container.withCommand([...EMBEDDED_TOXIPROXY_COMMAND]);
    const started = await container.start();
    const links = toxiproxyLinks({
      url: `http://${started.getHost()}:${started.getMappedPort(TOXIPROXY_CONTROL_PORT)}`,
      listen: "0.0.0.0:0",
      advertise: (listen) =>
        `http://${TOXIPROXY_ALIAS}:${listen.slice(listen.lastIndexOf(":") + 1)}`,
    });
    this.current = { container: started, links };
    return this.current;
  }

  private running(): ToxiproxyLinks {
    if (this.current === undefined)
      throw new Error("no link is open: the Toxiproxy container is not running");
    return this.current.links;
  }

  async open(link: LinkRequest): Promise<{ url: string }> {
    return (await this.start()).links.open(link);
  }

  names(): string[] {
    return this.current?.links.names() ?? [];
  }

  addToxic(link: string, toxic: Parameters<LinkControl["addToxic"]>[1]): Promise<void> {
    return this.running().addToxic(link, toxic);
  }

  removeToxic(link: string, name: string): Promise<void> {
    return this.running().removeToxic(link, name);
  }

  setEnabled(link: string, enabled: boolean): Promise<void> {
    return this.running().setEnabled(link, enabled);
  }

  async close(): Promise<void> {
    const started = await this.started?.catch(() => undefined);
    if (started === undefined) return;
    try {
      await started.links.close();
    } finally {
      await started.container.stop({ remove: true, timeout: 0 });
    }
  }
}
