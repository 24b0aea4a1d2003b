import { readFileSync } from "node:fs";

/** The kernel's figures for a process, in bytes: resident now, and the most it has been (VmRSS, VmHWM). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1]) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

/** Bytes in whole MiB, for messages. */
export const mib = (bytes: number) => Math.round(bytes / 1024 ** 2);

/** The pods' memory limit (stack/config.ts, memoryLimit 256Mi): what the process must stay under. */
export const POD_MEMORY_LIMIT_BYTES = 256 * 1024 ** 2;
