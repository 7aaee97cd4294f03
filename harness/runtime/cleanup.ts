// Nothing left behind: everything the harness starts or creates registers how to release it.
// On SIGINT, SIGTERM or SIGHUP of the harness the registered cleanups run, newest first, and
// the process exits with 128 + the signal number (130, 143, 129), as an unhandled signal
// would. On any other exit (process.exit, an uncaught exception) only synchronous work is
// possible, so each cleanup may offer a last-resort `runAtExit`.
//
// The handlers are installed while at least one cleanup is registered, and removed after, so
// that a harness with nothing to release keeps Node's default behaviour.

import { constants } from "node:os";

export interface Cleanup {
  /** What is released, for error messages. */
  readonly label: string;
  /** Orderly release, on a signal or when `runCleanups()` is called. */
  run(): Promise<void>;
  /** Synchronous last resort when the process exits before `run` could finish. */
  runAtExit?(): void;
}

/** Longest time a signal waits for the cleanups before the process exits anyway. */
export const CLEANUP_TIMEOUT_MS = 20_000;

const HANDLED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

const registered: Cleanup[] = [];
let exiting = false;
let received: NodeJS.Signals | null = null;

/**
 * The signal the cleanups are running for, or null: work that fails after one (a start whose
 * containers were removed under it) was interrupted rather than broken.
 */
export function signalReceived(): NodeJS.Signals | null {
  return received;
}

function onSignal(signal: NodeJS.Signals): void {
  const code = 128 + constants.signals[signal];
  if (exiting) {
    // A second signal while cleaning up: the user insists; the exit hook does what it can.
    process.exit(code);
  }
  exiting = true;
  received = signal;
  const deadline = setTimeout(() => {
    process.stderr.write(`cleanup: still running after ${CLEANUP_TIMEOUT_MS} ms, exiting\n`);
    process.exit(code);
  }, CLEANUP_TIMEOUT_MS);
  deadline.unref();
  void runCleanups().then((failures) => {
    for (const failure of failures) process.stderr.write(`cleanup: ${failure.message}\n`);
    process.exit(code);
  });
}

function onExit(): void {
  for (const cleanup of [...registered].reverse()) {
    try {
      cleanup.runAtExit?.();
    } catch {
      // Exiting: there is no one left to tell, and the other cleanups must still run.
    }
  }
}

function install(): void {
  for (const signal of HANDLED_SIGNALS) process.on(signal, onSignal);
  process.on("exit", onExit);
}

function uninstall(): void {
  for (const signal of HANDLED_SIGNALS) process.off(signal, onSignal);
  process.off("exit", onExit);
}

/**
 * Runs a command's runs so that SIGINT/SIGTERM end them in order: registered before any run, this
 * cleanup runs last (after the run in progress has healed and written its journal), aborts
 * `signal` (no further run starts, and a simulated run, which registers no cleanup of its own,
 * is interrupted), then waits until `body` has returned (the command has reported) before the
 * process exits with 130/143.
 */
export async function reportBeforeExit<T>(
  label: string,
  body: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const interruption = new AbortController();
  let reported: () => void = () => {};
  const reportDone = new Promise<void>((resolve) => (reported = resolve));
  const unregister = registerCleanup({
    label,
    run: async () => {
      interruption.abort();
      await reportDone;
    },
  });
  try {
    return await body(interruption.signal);
  } finally {
    reported();
    unregister();
  }
}

/** Registers a cleanup; returns the function that unregisters it (call it once released). */
export function registerCleanup(cleanup: Cleanup): () => void {
  if (registered.length === 0) install();
  registered.push(cleanup);
  return () => {
    const index = registered.indexOf(cleanup);
    if (index < 0) return;
    registered.splice(index, 1);
    if (registered.length === 0 && !exiting) uninstall();
  };
}

/**
 * Runs every registered cleanup, newest first (what was started last depends on what was
 * started before), each even if an earlier one failed; returns the failures.
 */
export async function runCleanups(): Promise<Error[]> {
  const failures: Error[] = [];
  for (const cleanup of [...registered].reverse()) {
    try {
      await cleanup.run();
    } catch (error) {
      failures.push(new Error(`${cleanup.label}: ${(error as Error).message}`, { cause: error }));
    }
  }
  return failures;
}

/** How many cleanups are registered (for tests and diagnostics). */
export function pendingCleanups(): number {
  return registered.length;
}

/**
 * Runs release steps so that one failing does not skip the others: each failure is kept, and
 * `throwIfAny` reports them all at the end.
 */
export class ReleaseSteps {
  private readonly failures: unknown[] = [];

  async attempt(step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.failures.push(error);
    }
  }

  throwIfAny(message: string): void {
    if (this.failures.length > 0) throw new AggregateError(this.failures, message);
  }
}
