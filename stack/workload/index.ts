import * as pulumi from "@pulumi/pulumi";

import * as callbackPolicy from "../../api/src/callbacks/policy.js";
import type { SettingName, Settings } from "../../api/src/settings.js";
import type { ApiSettings } from "../config/api-settings.js";

/**
 * The API as a process, whatever runs it: its environment and secrets, its ports, the paths its probes
 * ask, and how long it may take to stop. kubernetes.ts runs it on Kubernetes; another runtime takes the
 * same from here.
 */

/** The API's probes (api/src/health): liveness answers while the process runs, readiness until it drains. */
export const PROBE_PATHS = { liveness: "/healthz", readiness: "/readyz" } as const;

/**
 * The API's probes as the Deployment runs them: the path each asks and how often. Startup allows 60 s
 * (30 x 2 s) before liveness takes over; readiness drops a draining replica within 10 s. Another runtime
 * converts them to its own limits (containerapps.ts).
 */
export const PROBES = {
  startup: { path: PROBE_PATHS.liveness, periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 30 },
  liveness: { path: PROBE_PATHS.liveness, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
  readiness: { path: PROBE_PATHS.readiness, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
} as const;
export type Probe = (typeof PROBES)[keyof typeof PROBES];
/** Where the API serves its metrics, on its metrics port only. */
export const METRICS_PATH = "/metrics";

/** How long callers keep being sent requests after the stop begins: the pause before SIGTERM. */
export const PRE_STOP_SECONDS = 5;
/** Room after the API's own drain and wrap-up before the runtime kills it. */
export const TERMINATION_MARGIN_SECONDS = 5;

/** The settings the API's stop depends on. */
type StopSettings = Pick<Settings, "DRAIN_TIMEOUT_MS" | "MAX_CONCURRENT_JOBS" | "MAX_QUEUED_JOBS" | "MAX_PENDING_CALLBACKS" | "CALLBACK_TIMEOUT_MS">;

/**
 * The API's own stop after SIGTERM: its drain + its wrap-up + a margin. The wrap-up (after DRAIN_TIMEOUT_MS:
 * unfinished jobs stopped, every callback owed one last attempt) is the API's own sizing, from the callback
 * timeout and the most work a pod holds (wrapUpMs in api/src/callbacks/policy.ts); a grace period shorter
 * than both would lose callbacks to SIGKILL.
 */
export function stopSeconds(settings: StopSettings): number {
  const wrapUpMs = callbackPolicy.wrapUpMs(settings);
  return Math.ceil(settings.DRAIN_TIMEOUT_MS / 1000) + Math.ceil(wrapUpMs / 1000) + TERMINATION_MARGIN_SECONDS;
}

/** preStop pause + the API's stop: what Kubernetes must wait before SIGKILL. */
export function terminationGracePeriodSeconds(settings: StopSettings): number {
  return PRE_STOP_SECONDS + stopSeconds(settings);
}

export interface ApiProcess {
  /** The environment, secrets aside. */
  environment: pulumi.Output<Partial<Record<SettingName, string>>>;
  /** The secret environment (BASIC_AUTH_PASSWORD), as Pulumi secrets. */
  secretEnvironment: Record<string, pulumi.Output<string>>;
  ports: { http: number; metrics: number };
  /** The Deployment's: preStop pause + the API's stop. */
  terminationGracePeriodSeconds: number;
  /** The API's stop alone (drain + wrap-up + margin), for a runtime without a preStop hook. */
  stopSeconds: number;
}

/** The API's process for its settings; `extraAllowedCallers` (the Data Factory's identity) join ENTRA_ALLOWED_CALLERS. */
export function apiProcess(api: ApiSettings, extraAllowedCallers: pulumi.Input<string>[] = []): ApiProcess {
  const { settings } = api;
  const secretEnvironment: Record<string, pulumi.Output<string>> = {};
  for (const [name, value] of Object.entries(api.secrets)) secretEnvironment[name] = pulumi.secret(value);
  return {
    environment: pulumi.all(extraAllowedCallers).apply((extra) => {
      const environment = { ...api.environment };
      const callers = [...(settings.ENTRA_ALLOWED_CALLERS ?? []), ...extra];
      if (callers.length > 0) environment.ENTRA_ALLOWED_CALLERS = callers.join(",");
      return environment;
    }),
    secretEnvironment,
    ports: { http: settings.PORT, metrics: settings.METRICS_PORT },
    terminationGracePeriodSeconds: terminationGracePeriodSeconds(settings),
    stopSeconds: stopSeconds(settings),
  };
}
