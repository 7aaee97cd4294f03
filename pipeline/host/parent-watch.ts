// Components started by a harness exit when the harness is gone, even if it was SIGKILLed and
// could not clean up: when the parent dies the child is re-parented, so its ppid changes.

const POLL_MS = 200;

export function exitWithParent(parentPid: number, onOrphaned: () => void): () => void {
  const timer = setInterval(() => {
    if (process.ppid !== parentPid) {
      clearInterval(timer);
      onOrphaned();
    }
  }, POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
