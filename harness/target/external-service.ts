// A service of a target that runs outside Spillway (docs/targets.md, "External services"): already
// running at a fixed address. Links and network faults work on it; process faults are refused,
// since Spillway did not start it and must not stop it. Its health is a TCP connect.

import { connect } from "node:net";
import type { ExitStatus, LogLine, ServiceHandle, ServiceState } from "../runtime/runtime.ts";

const CONNECT_TIMEOUT_MS = 1_000;

/** Whether a TCP connection to host:port opens within timeoutMs. */
export function tcpAnswers(host: string, port: number, timeoutMs = CONNECT_TIMEOUT_MS) {
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host, port });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export class ExternalService implements ServiceHandle {
  readonly name: string;
  readonly component = "target" as const;
  private readonly host: string;
  private readonly ports: Record<string, number>;

  constructor(options: { name: string; host: string; ports: Record<string, number> }) {
    this.name = options.name;
    this.host = options.host;
    this.ports = options.ports;
  }

  private refuse(action: string): Error {
    return new Error(
      `cannot ${action} service "${this.name}": it is external (already running at ${this.host}); Spillway only injects network faults on its links`,
    );
  }

  url(): string {
    const first = Object.values(this.ports)[0];
    return `tcp://${this.host}:${first}`;
  }
  pid(): number | undefined {
    return undefined;
  }
  state(): ServiceState {
    return "running";
  }
  async start(): Promise<void> {}
  async health(): Promise<boolean> {
    const first = Object.values(this.ports)[0];
    return first === undefined ? true : tcpAnswers(this.host, first);
  }
  kill(): Promise<ExitStatus> {
    return Promise.reject(this.refuse("kill"));
  }
  pause(): Promise<void> {
    return Promise.reject(this.refuse("pause"));
  }
  resume(): Promise<void> {
    return Promise.reject(this.refuse("resume"));
  }
  restart(): Promise<void> {
    return Promise.reject(this.refuse("restart"));
  }
  async waitReady(): Promise<void> {
    if (!(await this.health()))
      throw new Error(`external service "${this.name}" does not answer at ${this.url()}`);
  }
  logs(): readonly LogLine[] {
    return [];
  }
  setMemoryCap(): void {
    throw this.refuse("cap the memory of");
  }
  async memoryBytes(): Promise<number | undefined> {
    return undefined;
  }
}
