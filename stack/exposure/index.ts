import { createHash } from "node:crypto";

import * as pulumi from "@pulumi/pulumi";

import type { AzureCloudName } from "../../api/src/clouds.js";
import type { KubernetesExposure } from "../config/exposure.js";
import type { AzureSession } from "../platform.js";
import type { WebhookApp, WebhookAppArgs } from "../workload/kubernetes.js";
import { AZURE_LB_IDLE_TIMEOUT_ANNOTATION, HttpsEntry } from "./https.js";

/**
 * How the API is reached, one step after the app: its Service's type, and for `https` the public entry in
 * front of it. Handed what it needs: the app's Service, the API's port and job timeout, and the
 * platform's region.
 */

/** Room left after JOB_TIMEOUT_MS for the API's own answer to pass the entry. */
const ENTRY_TIMEOUT_MARGIN_MS = 30_000;

/**
 * The DNS zone of a public IP's DNS label in each Azure cloud (cloud-provider-azure, pkg/azclient/cloud.go:
 * ResourceManagerVMDNSSuffix): `<label>.<region>.<zone>`.
 */
export const AZURE_DNS_LABEL_ZONES: Record<AzureCloudName, string> = {
  public: "cloudapp.azure.com",
  usgovernment: "cloudapp.usgovcloudapi.net",
  china: "cloudapp.chinacloudapi.cn",
};

/** The idle timeouts Azure's load balancer allows, in minutes (cloud-provider-azure 1.28+ refuses others). */
export const AZURE_LB_IDLE_TIMEOUT_MINUTES = { min: 4, max: 100 } as const;

/**
 * The load balancer's idle timeout for a public entry: a synchronous (Web activity) call sends nothing while
 * its job runs, and Azure drops a flow idle for longer than this (4 minutes by default), so it outlasts
 * JOB_TIMEOUT_MS plus the entry's margin, within Azure's range. Jobs longer than 100 minutes are for
 * webhooks (the callback comes on its own connection).
 */
export function loadBalancerIdleTimeoutMinutes(jobTimeoutMs: number): number {
  const minutes = Math.ceil((jobTimeoutMs + ENTRY_TIMEOUT_MARGIN_MS) / 60_000);
  return Math.min(AZURE_LB_IDLE_TIMEOUT_MINUTES.max, Math.max(AZURE_LB_IDLE_TIMEOUT_MINUTES.min, minutes));
}

/** The API's Service for an exposure: public (LoadBalancer) only for `loadbalancer`. */
export function serviceFor(exposure: KubernetesExposure, jobTimeoutMs: number): WebhookAppArgs["service"] {
  return exposure.mode === "loadbalancer"
    ? {
        type: "LoadBalancer",
        loadBalancerSourceRanges: exposure.allowedSourceRanges,
        annotations: { [AZURE_LB_IDLE_TIMEOUT_ANNOTATION]: String(loadBalancerIdleTimeoutMinutes(jobTimeoutMs)) },
      }
    : { type: "ClusterIP" };
}

/**
 * A stable Azure DNS label for this subscription, project and stack (labels are unique per region
 * across Azure: the subscription keeps two users' `dev` stacks apart).
 */
export function defaultDnsLabel(appName: string, subscriptionId: string, project: string, stack: string): string {
  const hash = createHash("sha256").update(`${subscriptionId}/${project}/${stack}`).digest("hex").slice(0, 8);
  // A letter first, at most 63 characters, no '-' before the hash doubled.
  const base = appName.replace(/^[^a-z]+/, "").slice(0, 54).replace(/-+$/, "") || "adf";
  return `${base}-${hash}`;
}

export interface Exposed {
  /** The base URL Data Factory (or curl) calls. */
  endpoint: pulumi.Output<string>;
  /** A URL to paste into a Webhook activity (or curl, after the port-forward for `cluster`). */
  webhookUrl: pulumi.Output<string>;
}

/** What the entry needs of the app and the platform. */
export interface ExposedApp {
  app: WebhookApp;
  /** The app's name: the entry's objects and the default DNS label are named after it. */
  appName: string;
  /** The API's port (its Service's too). */
  port: number;
  /** JOB_TIMEOUT_MS: a synchronous call may take that long, and the entry must wait for it. */
  jobTimeoutMs: number;
  /** AZURE_CLOUD: the zone of an Azure DNS label. */
  azureCloud: AzureCloudName;
  /** The cluster's region: where an Azure DNS label's name lives. */
  region: pulumi.Output<string>;
  /** The deploying identity's Azure session, when the stack uses Azure: its subscription names the default DNS label. */
  session: Pick<AzureSession, "subscriptionId"> | undefined;
}

/** Builds the public entry the configuration asks for (none for `cluster`) and says where the API is. */
export function exposeApi(exposure: KubernetesExposure, { app, appName, port, jobTimeoutMs, azureCloud, region, session }: ExposedApp, opts: pulumi.ComponentResourceOptions): Exposed {
  switch (exposure.mode) {
    case "cluster": {
      return {
        endpoint: pulumi.interpolate`http://${app.serviceName}.${app.namespace}.svc.cluster.local:${port}`,
        webhookUrl: pulumi.output(`http://localhost:${port}/helloworld`),
      };
    }
    case "loadbalancer": {
      const endpoint = app.loadBalancerAddress.apply((address) => {
        if (!address) throw new Error("the LoadBalancer Service got no address");
        return `http://${address}:${port}`;
      });
      return { endpoint, webhookUrl: pulumi.interpolate`${endpoint}/helloworld` };
    }
    case "https": {
      const { https } = exposure;
      let dnsLabel: pulumi.Output<string> | undefined;
      if (https.useDnsLabel) {
        if (https.dnsLabel !== undefined) dnsLabel = pulumi.output(https.dnsLabel);
        else if (session) dnsLabel = session.subscriptionId.apply((subscription) => defaultDnsLabel(appName, subscription, pulumi.getProject(), pulumi.getStack()));
        else throw new Error("exposure https without a hostname or dnsLabel needs an Azure target (stack/config/exposure.ts refuses it)");
      }
      // The label's zone is the cloud's own: Azure Government and Azure China have theirs.
      const host = https.hostname !== undefined ? pulumi.output(https.hostname) : pulumi.interpolate`${dnsLabel}.${region}.${AZURE_DNS_LABEL_ZONES[azureCloud]}`;
      new HttpsEntry(
        "adf-webhook-entry",
        {
          https,
          allowedSourceRanges: exposure.allowedSourceRanges,
          namespace: app.namespace,
          appName,
          serviceName: app.serviceName,
          servicePort: port,
          host,
          dnsLabel,
          requestTimeoutMs: jobTimeoutMs + ENTRY_TIMEOUT_MARGIN_MS,
          idleTimeoutMinutes: loadBalancerIdleTimeoutMinutes(jobTimeoutMs),
        },
        opts,
      );
      const endpoint = pulumi.interpolate`https://${host}`;
      return { endpoint, webhookUrl: pulumi.interpolate`${endpoint}/helloworld` };
    }
  }
}
