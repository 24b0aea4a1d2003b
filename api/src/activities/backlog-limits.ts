/**
 * The defaults of the settings that bound what webhook work holds in memory (see backlog.ts). Shared with
 * the Pulumi program, which must refuse a bodyLimit the API would refuse.
 */
export const BACKLOG_DEFAULTS = {
  MAX_QUEUED_JOBS: 1000,
  MAX_PENDING_CALLBACKS: 1000,
  /** A share of the pods' 256Mi memory limit that leaves room for the process and its garbage. */
  MAX_QUEUED_BYTES: 32 * 1024 ** 2,
  /**
   * ADF takes an activity output of "around 4 MB" at most (Microsoft Learn: "Web activity", and error
   * 2001 in "Troubleshoot pipelines"): 4,000,000 bytes fits it on either reading of "MB".
   */
  MAX_OUTPUT_BYTES: 4_000_000,
} as const;
