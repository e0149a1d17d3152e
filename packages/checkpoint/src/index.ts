export { BranchSafePostgresSaver, nextBranchVersion } from "./branch-safe-saver";
export type { BranchSafePostgresSaverOptions, ChannelVersion } from "./branch-safe-saver";
export { createCheckpointer, setupCheckpointer, setupLockKey } from "./setup-checkpointer";
export type { SetupableSaver } from "./setup-checkpointer";
export { AttemptFencedError, currentAttempt, saverPool, runAsAttempt } from "./attempt-fence";
export type { AttemptOwner, AttemptOwnershipCheck } from "./attempt-fence";
