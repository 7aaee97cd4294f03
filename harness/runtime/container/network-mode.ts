// The container runtime's network modes, apart from the code that needs testcontainers, so that
// the command line can list them without loading it.

export type NetworkMode = "host" | "private";
export const NETWORK_MODES: readonly NetworkMode[] = ["host", "private"];
