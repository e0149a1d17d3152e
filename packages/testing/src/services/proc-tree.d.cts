/** Live pids below `root` (transitively, by parent) or in its process group; `root` itself excluded. */
export function membersOf(root: number): number[];
/** Sends `signal` to `root` and all its members (freezing `root` first for SIGKILL/SIGSTOP); returns the members. */
export function signalTree(root: number, signal: NodeJS.Signals): number[];
/** True while `pid` runs (zombies excluded). */
export function isLive(pid: number): boolean;
