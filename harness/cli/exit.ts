// The exit codes of `spillway`, and the error that means "bad input" (exit 2).

export const EXIT = {
  asExpected: 0,
  notAsExpected: 1,
  badInput: 2,
  harnessFailed: 3,
  /** An abort condition tripped (harness/experiment/abort.ts): the run was braked. */
  aborted: 4,
  interrupted: 130,
} as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
