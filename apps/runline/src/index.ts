// What other packages (the `runline` CLI in apps/cli) use of the server: the composition root.
export { startRunline, RUNLINE_VERSION, type Runline } from "./runtime";
