import { createHash } from "node:crypto";

import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as containerservice from "@pulumi/azure-native/containerservice/index.js";
import * as pulumi from "@pulumi/pulumi";

import type { WebhookApp, WebhookAppArgs } from "../app.js";
import { API_PORT, type ApiSettings, type AzureCloud, type StackConfig } from "../config.js";
import type { ExposureConfig } from "./config.js";
import { AZURE_LB_IDLE_TIMEOUT_ANNOTATION, HttpsEntry } from "./https.js";

export { readExposure, type ExposureConfig } from "./config.js";

/** Room left after JOB_TIMEOUT_MS for the API's own answer to pass the entry. */
const ENTRY_TIMEOUT_MARGIN_MS = 30_000;

/**
 * The DNS zone of a public IP's DNS label in each Azure cloud (cloud-provider-azure, pkg/azclient/cloud.go:
 * ResourceManagerVMDNSSuffix): `<label>.<region>.<zone>`.
 */
export const AZURE_DNS_LABEL_ZONES: Record<AzureCloud, string> = {
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
export function loadBalancerIdleTimeoutMinutes(api: Pick<ApiSettings, "JOB_TIMEOUT_MS">): number {
  const minutes = Math.ceil((api.JOB_TIMEOUT_MS + ENTRY_TIMEOUT_MARGIN_MS) / 60_000);
  return Math.min(AZURE_LB_IDLE_TIMEOUT_MINUTES.max, Math.max(AZURE_LB_IDLE_TIMEOUT_MINUTES.min, minutes));
}

/** The API's Service for an exposure: public (LoadBalancer) only for `loadbalancer`. */
export function serviceFor(exposure: ExposureConfig, api: Pick<ApiSettings, "JOB_TIMEOUT_MS">): WebhookAppArgs["service"] {
  return exposure.mode === "loadbalancer"
    ? {
        type: "LoadBalancer",
        loadBalancerSourceRanges: exposure.allowedSourceRanges,
        annotations: { [AZURE_LB_IDLE_TIMEOUT_ANNOTATION]: String(loadBalancerIdleTimeoutMinutes(api)) },
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

/** Builds the public entry the configuration asks for (none for `cluster`) and says where the API is. */
export function exposeApi(config: StackConfig, app: WebhookApp, opts: pulumi.ComponentResourceOptions): Exposed {
  const { exposure } = config;
  switch (exposure.mode) {
    case "cluster": {
      return {
        endpoint: pulumi.interpolate`http://${app.serviceName}.${app.namespace}.svc.cluster.local:${API_PORT}`,
        webhookUrl: pulumi.output(`http://localhost:${API_PORT}/helloworld`),
      };
    }
    case "loadbalancer": {
      const endpoint = app.loadBalancerAddress.apply((address) => {
        if (!address) throw new Error("the LoadBalancer Service got no address");
        return `http://${address}:${API_PORT}`;
      });
      return { endpoint, webhookUrl: pulumi.interpolate`${endpoint}/helloworld` };
    }
    case "https": {
      const { https } = exposure;
      let dnsLabel: pulumi.Output<string> | undefined;
      if (https.useDnsLabel) {
        dnsLabel =
          https.dnsLabel !== undefined
            ? pulumi.output(https.dnsLabel)
            : authorization
                .getClientConfigOutput()
                .subscriptionId.apply((subscription) => defaultDnsLabel(config.app.name, subscription, pulumi.getProject(), pulumi.getStack()));
      }
      // The label's FQDN is in the cluster's region: an existing cluster says which that is.
      const location =
        config.target.kind === "existing"
          ? containerservice
              .getManagedClusterOutput({ resourceName: config.target.clusterName, resourceGroupName: config.target.clusterResourceGroup })
              .location.apply((region) => region.toLowerCase().replace(/\s+/g, ""))
          : pulumi.output(https.location);
      // The label's zone is the cloud's own: Azure Government and Azure China have theirs.
      const zone = AZURE_DNS_LABEL_ZONES[config.api.AZURE_CLOUD ?? "public"];
      const host = https.hostname !== undefined ? pulumi.output(https.hostname) : pulumi.interpolate`${dnsLabel}.${location}.${zone}`;
      new HttpsEntry(
        "adf-webhook-entry",
        {
          https,
          allowedSourceRanges: exposure.allowedSourceRanges,
          namespace: app.namespace,
          appName: config.app.name,
          serviceName: app.serviceName,
          servicePort: API_PORT,
          host,
          dnsLabel,
          requestTimeoutMs: config.api.JOB_TIMEOUT_MS + ENTRY_TIMEOUT_MARGIN_MS,
          idleTimeoutMinutes: loadBalancerIdleTimeoutMinutes(config.api),
        },
        opts,
      );
      const endpoint = pulumi.interpolate`https://${host}`;
      return { endpoint, webhookUrl: pulumi.interpolate`${endpoint}/helloworld` };
    }
  }
}
