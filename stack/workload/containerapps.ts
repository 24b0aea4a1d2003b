import * as app from "@pulumi/azure-native/app/index.js";
import * as managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import type * as types from "@pulumi/azure-native/types/index.js";
import * as pulumi from "@pulumi/pulumi";

import type { AppConfig } from "../config/app.js";
import { CONTAINER_APPS_LIMITS } from "../config/container-apps-limits.js";
import type { Settings } from "../../api/src/settings.js";
import { PROBES, type ApiProcess, type Probe } from "./index.js";
import { ROLLOUT_TIMEOUTS } from "./rollout.js";

/**
 * The API on Azure Container Apps (target containerapps, docs/containerapps.md): the Container App, its
 * pull identity and that identity's AcrPull, from the same runtime-neutral API as the Deployment
 * (index.ts), within Container Apps' own limits.
 */

/** The built-in workload profile of an environment with workload profiles: pay per use, up to 4 vCPUs. */
export const CONSUMPTION_PROFILE = "Consumption";

/** A Container App secret's name for a setting: BASIC_AUTH_PASSWORD -> basic-auth-password (lower-case, digits, '-'). */
function containerAppSecretName(setting: string): string {
  return setting.toLowerCase().replace(/_/g, "-");
}

/**
 * A probe on Container Apps: the same path, port (a number: Container Apps takes no port names) and
 * timing, with a failureThreshold above Container Apps' 10 traded for a longer period, so the probe allows
 * as long as on Kubernetes (startup: 30 x 2 s becomes 10 x 6 s).
 */
export function containerAppProbe(type: app.Type, { path, periodSeconds, timeoutSeconds, failureThreshold }: Probe, port: number): types.input.app.ContainerAppProbeArgs {
  const threshold = Math.min(failureThreshold, CONTAINER_APPS_LIMITS.probeFailureThreshold);
  return {
    type,
    httpGet: { path, port },
    periodSeconds: Math.ceil((periodSeconds * failureThreshold) / threshold),
    timeoutSeconds,
    failureThreshold: threshold,
  };
}

/**
 * The warning for Web activity calls: a synchronous call waits for its job in silence, and Container Apps'
 * ingress cuts it at 240 s. Not a refusal: JOB_TIMEOUT_MS bounds Webhook jobs too, whose call answers
 * 202 at once, so a long jobTimeoutMs is right for them.
 */
export function webActivityTimeoutWarning(settings: Pick<Settings, "JOB_TIMEOUT_MS">): string | undefined {
  const limit = CONTAINER_APPS_LIMITS.requestTimeoutMs;
  if (settings.JOB_TIMEOUT_MS <= limit) return undefined;
  return (
    `jobTimeoutMs is ${settings.JOB_TIMEOUT_MS} ms, but Container Apps' ingress ends a request after ${limit / 1000} s: ` +
    `a Web activity (a synchronous call, without callBackUri) whose job runs longer fails at the ingress while the job runs on. ` +
    `Call jobs that may take longer from a Webhook activity (it answers 202 at once), or set jobTimeoutMs to ${limit} or less if you only use the Web activity (docs/containerapps.md)`
  );
}

/** The replicas and the scale rule: a fixed count unless the autoscaler is on. */
function containerAppScale(app: Pick<AppConfig, "replicas" | "hpa">): types.input.app.ScaleArgs {
  if (!app.hpa) {
    // min = max: Container Apps never removes a replica on its own (never scales to zero, never scales in).
    return { minReplicas: app.replicas, maxReplicas: app.replicas };
  }
  // Opted in: KEDA's CPU scaler, as the HPA on Kubernetes. It never scales to zero; a scale-in stops a
  // replica whatever jobs it runs, and the drain reports those it cannot finish as failed.
  return {
    minReplicas: app.hpa.minReplicas,
    maxReplicas: app.hpa.maxReplicas,
    rules: [{ name: "cpu-utilization", custom: { type: "cpu", metadata: { type: "Utilization", value: String(app.hpa.cpuUtilization) } } }],
  };
}

/** Where the Container App runs: its environment, and where the stack puts it. */
export interface ContainerAppEnvironment {
  id: pulumi.Input<string>;
  /** The environment's region: the app and its identity go there. */
  location: pulumi.Input<string>;
  /** The Consumption profile's name in an environment with workload profiles; undefined in a Consumption-only one. */
  workloadProfileName: pulumi.Input<string | undefined>;
}

export interface WebhookContainerAppArgs {
  app: AppConfig;
  api: ApiProcess;
  /** The image by digest (`repository@sha256:...`), never by tag. */
  image: pulumi.Input<string>;
  /** The group the app and its identity go in. */
  resourceGroupName: pulumi.Input<string>;
  environment: ContainerAppEnvironment;
  /** The registry the image is pulled from: its login server, and what grants AcrPull on it. */
  registry: { server: pulumi.Input<string>; grantAcrPull: (name: string, principalId: pulumi.Input<string>, opts: pulumi.CustomResourceOptions) => pulumi.Resource };
  /** The replica's size (Container Apps' fixed pairs). */
  resources: { cpu: number; memory: string };
  /** IPv4 CIDRs allowed to call; undefined: anyone (authMode decides). */
  allowedSourceRanges: string[] | undefined;
}

/** The Container App, the identity it pulls with, and that identity's AcrPull, granted before the app exists. */
export class WebhookContainerApp extends pulumi.ComponentResource {
  public readonly name: pulumi.Output<string>;

  constructor(name: string, args: WebhookContainerAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("adf-webhook-aks:app:WebhookContainerApp", name, {}, opts);
    const { app: appConfig, api, environment } = args;
    const parent = { parent: this };

    // A user-assigned identity exists before the app, so AcrPull can be granted before the first revision
    // pulls (with the app's own system-assigned identity the first revision fails: azure-container-apps#836).
    const identity = new managedidentity.UserAssignedIdentity(`${name}-pull`, { resourceGroupName: args.resourceGroupName, location: environment.location }, parent);
    const acrPull = args.registry.grantAcrPull(`${name}-acr-pull`, identity.principalId, parent);

    const secrets = Object.entries(api.secretEnvironment).map(([setting, value]) => ({ setting, secretName: containerAppSecretName(setting), value }));
    const port = api.ports.http;
    const containerApp = new app.ContainerApp(
      `${name}-app`,
      {
        resourceGroupName: args.resourceGroupName,
        // Explicit: Resource Manager wants it, and the environment's region is the only one allowed.
        location: environment.location,
        containerAppName: appConfig.name,
        environmentId: environment.id,
        workloadProfileName: environment.workloadProfileName,
        identity: { type: app.ManagedServiceIdentityType.UserAssigned, userAssignedIdentities: [identity.id] },
        configuration: {
          activeRevisionsMode: app.ActiveRevisionsMode.Single,
          ingress: {
            // Public, HTTPS on 443 with the environment's certificate; http:// is redirected to https://.
            external: true,
            targetPort: port,
            transport: app.IngressTransportMethod.Http,
            allowInsecure: false,
            ipSecurityRestrictions: args.allowedSourceRanges?.map((range, i) => ({
              name: `allowed-${i}`,
              // A bare address as the CIDR of itself.
              ipAddressRange: range.includes("/") ? range : `${range}/32`,
              action: app.Action.Allow,
            })),
          },
          registries: [{ server: args.registry.server, identity: identity.id }],
          // Each value a Pulumi secret (apiProcess made it one): azure-native marks none itself, and one
          // secret makes the whole configuration secret in the state.
          secrets: secrets.length > 0 ? secrets.map(({ secretName, value }) => ({ name: secretName, value })) : undefined,
        },
        template: {
          // The API's drain and wrap-up, as on Kubernetes, without the preStop pause Container Apps cannot run.
          terminationGracePeriodSeconds: api.stopSeconds,
          containers: [
            {
              name: "api",
              image: args.image,
              resources: args.resources,
              env: api.environment.apply((environment) => [
                ...Object.entries(environment).map(([envName, value]) => ({ name: envName, value })),
                ...secrets.map(({ setting, secretName }) => ({ name: setting, secretRef: secretName })),
              ]),
              probes: [
                containerAppProbe(app.Type.Startup, PROBES.startup, port),
                containerAppProbe(app.Type.Liveness, PROBES.liveness, port),
                containerAppProbe(app.Type.Readiness, PROBES.readiness, port),
              ],
            },
          ],
          scale: containerAppScale(appConfig),
        },
      },
      // The first revision pulls with the identity: AcrPull must exist first (azure-container-apps#646).
      // Its propagation can take minutes, which the revision waits out.
      { ...parent, dependsOn: [acrPull], customTimeouts: ROLLOUT_TIMEOUTS },
    );

    this.name = containerApp.name;
    this.registerOutputs({ name: this.name });
  }
}
