// What the services that run a program keep alike (docs/architecture.md §3, docs/targets.md):
// a process or a container, of the reference pipeline or of a target. Each has a state, a log
// file, a memory cap its runtime enforces and, while it runs, what it started. The simulator's
// services run a model inside the harness, with no log file and no program: they keep their own.

import type { ServiceLog } from "./process/service-log.ts";
import { checkMemoryCap, type LogLine, type ServiceState } from "./runtime.ts";

export abstract class ProgramService<Running> {
  readonly name: string;
  /** Its output: the latest lines in memory and every line in a file of the run directory. */
  protected readonly log: ServiceLog;
  protected current: ServiceState = "exited";
  /** Read by the runtime's memory watch; undefined while it has no cap. */
  protected memoryCapMb: number | undefined;
  /** What it started, from the start until it is known to have exited. */
  protected running: Running | undefined;

  protected constructor(name: string, log: ServiceLog, memoryCapMb: number | undefined) {
    this.name = name;
    this.log = log;
    this.memoryCapMb = memoryCapMb;
  }

  state(): ServiceState {
    return this.current;
  }

  logs(): readonly LogLine[] {
    return this.log.lines();
  }

  logPath(): string {
    return this.log.path;
  }

  setMemoryCap(megabytes: number | undefined): void {
    checkMemoryCap(this.name, megabytes);
    this.memoryCapMb = megabytes;
  }

  /** Throws unless it has exited (or never started), as it must be to start. */
  protected requireExited(): void {
    if (this.current !== "exited")
      throw new Error(`service "${this.name}" is already ${this.current}`);
  }

  protected requireRunning(action: string): Running {
    if (this.running === undefined || this.current === "starting")
      throw new Error(`cannot ${action} service "${this.name}": it is ${this.current}`);
    return this.running;
  }
}
