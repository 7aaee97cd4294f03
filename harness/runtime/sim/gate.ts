// One incarnation of a simulated process. Everything that would run inside the process — its
// timers firing, a response reaching it, a request reaching its handler — passes through its
// gate: a paused process defers it until resumed, a dead one drops it, so a killed process's
// code never runs again and its pending promises never settle.

export class Gate {
  private alive = true;
  private paused = false;
  private deferred: Array<() => void> = [];
  /** Called when the process dies, e.g. to reset its open connections. */
  private readonly onDeath: Array<() => void> = [];

  isAlive(): boolean {
    return this.alive;
  }

  isPaused(): boolean {
    return this.paused;
  }

  run(fn: () => void): void {
    if (!this.alive) return;
    if (this.paused) this.deferred.push(fn);
    else fn();
  }

  /** `fn` wrapped to run through this gate. */
  wrap(fn: () => void): () => void {
    return () => this.run(fn);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const deferred = this.deferred;
    this.deferred = [];
    for (const fn of deferred) this.run(fn);
  }

  whenDead(fn: () => void): () => void {
    this.onDeath.push(fn);
    return () => {
      const index = this.onDeath.indexOf(fn);
      if (index >= 0) this.onDeath.splice(index, 1);
    };
  }

  kill(): void {
    if (!this.alive) return;
    this.alive = false;
    this.paused = false;
    this.deferred = [];
    for (const fn of this.onDeath.splice(0)) fn();
  }
}

/** A promise that never settles: what a dead process's pending calls become. */
export function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}
