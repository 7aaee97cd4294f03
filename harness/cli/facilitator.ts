// `spillway run --step` (docs/architecture.md §6, "Game days"): before each fault, print what
// comes next and wait for the facilitator's go: Enter on the terminal, or SIGUSR1 from another
// terminal or a script (`kill -USR1 <pid>`). Ctrl-C interrupts the run as ever (heal, roll back,
// journal `interrupted`, exit 130); an abort condition that trips while waiting aborts it
// (heal, roll back, journal `aborted`, exit 4): either ends the wait at once, and says so. A go
// only answers a prompt on screen: an Enter pressed or a signal sent before it is ignored, so
// that a stray key never injects a fault unannounced.

import type { BeforeFault } from "../experiment/phases/method.ts";
import { plannedStep, stepLines } from "../experiment/plan.ts";
import { UsageError } from "./exit.ts";

/** `enter`: Enter on a terminal (or SIGUSR1); `signal`: SIGUSR1 only, for scripts and CI. */
export const STEP_MODES = ["enter", "signal"] as const;
export type StepMode = (typeof STEP_MODES)[number];

/** The period of the timer that keeps the process alive while a prompt waits (it does nothing). */
const HOLD_OPEN_MS = 60_000;

export interface FacilitatorIo {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: { write(text: string): unknown };
  /** Where SIGUSR1 arrives: the process. */
  signals: {
    on(event: "SIGUSR1", listener: () => void): unknown;
    off(event: "SIGUSR1", listener: () => void): unknown;
  };
  pid: number;
}

export interface Facilitator {
  beforeFault: BeforeFault;
  /** Stops listening to the terminal and to SIGUSR1. */
  close(): void;
}

const processIo = (): FacilitatorIo => ({
  input: process.stdin,
  output: process.stderr,
  signals: process,
  pid: process.pid,
});

/** Whether `mode` can ever proceed here: Enter needs a terminal on stdin. */
export function checkStepMode(mode: StepMode, input: { isTTY?: boolean } = process.stdin): void {
  if (mode === "enter" && input.isTTY !== true)
    throw new UsageError(
      "--step: waits for Enter on a terminal, and stdin is not one; use --step signal to go on with SIGUSR1 (kill -USR1 <pid>) from another terminal or a script",
    );
}

/** Listens for the facilitator's go while a run lasts; `warmupMs` places faults in the prompt. */
export function openFacilitator(
  mode: StepMode,
  warmupMs: number,
  io: FacilitatorIo = processIo(),
): Facilitator {
  let waiting: (() => void) | null = null;
  // A signal listener does not keep Node's event loop alive, and a simulated run waiting for
  // the go has nothing else that does: a pending prompt holds the process open.
  let holdOpen: NodeJS.Timeout | undefined;
  const stopWaiting = (): void => {
    waiting = null;
    clearInterval(holdOpen);
  };
  const go = (): void => {
    const proceed = waiting;
    stopWaiting();
    proceed?.();
  };
  const onData = (chunk: Buffer | string): void => {
    if (waiting !== null && String(chunk).includes("\n")) go();
  };
  const onEnd = (): void => {
    io.output.write(
      `spillway: stdin closed; go on with kill -USR1 ${io.pid}, stop with Ctrl-C (kill -INT ${io.pid})\n`,
    );
  };
  const onSignal = (): void => {
    if (waiting === null) io.output.write("spillway: SIGUSR1 with no fault waiting: ignored\n");
    else go();
  };
  if (mode === "enter") {
    io.input.on("data", onData);
    io.input.on("end", onEnd);
    io.input.resume();
  }
  io.signals.on("SIGUSR1", onSignal);
  const how =
    mode === "enter"
      ? `press Enter to inject, Ctrl-C to stop (or kill -USR1 ${io.pid} to inject)`
      : `kill -USR1 ${io.pid} to inject, Ctrl-C (kill -INT ${io.pid}) to stop`;
  return {
    beforeFault: ({ step, index, count }, signal) =>
      new Promise<void>((resolve) => {
        // The run is stopping: no prompt, and no go ever (the method no longer waits for one).
        if (signal.aborted) return;
        const [first, ...rest] = stepLines(plannedStep(step, warmupMs));
        io.output.write(
          `\nnext: fault ${index + 1} of ${count}, ${first}\n${rest.map((line) => `      ${line}\n`).join("")}${how}\n`,
        );
        const onStop = (): void => {
          if (waiting !== proceed) return;
          stopWaiting();
          const why = signal.reason instanceof Error ? signal.reason.message : "stopped";
          io.output.write(
            `spillway: ${why}: fault ${index + 1} of ${count} not injected, the run stops\n`,
          );
        };
        const proceed = (): void => {
          signal.removeEventListener("abort", onStop);
          resolve();
        };
        waiting = proceed;
        holdOpen = setInterval(() => {}, HOLD_OPEN_MS);
        signal.addEventListener("abort", onStop, { once: true });
      }),
    close() {
      stopWaiting();
      io.signals.off("SIGUSR1", onSignal);
      if (mode !== "enter") return;
      io.input.off("data", onData);
      io.input.off("end", onEnd);
      io.input.pause();
    },
  };
}
