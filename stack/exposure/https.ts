import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
// Types only (erased at run time): tsc checks every custom resource below against the published models.
import type { IIssuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer" with { "resolution-mode": "import" };
import type { IGateway } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway" with { "resolution-mode": "import" };
import type { IGatewayClass } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClass" with { "resolution-mode": "import" };
import type { IHTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute" with { "resolution-mode": "import" };

import type { HttpsConfig } from "../config/exposure.js";
import { METRICS_PATH, PROBE_PATHS } from "../workload/index.js";
import { CERT_MANAGER_CHART, ENVOY_GATEWAY_CHART, ENVOY_GATEWAY_CONTROLLER, GATEWAY_CRDS_CHART } from "./charts.js";

/** Service annotations of the Azure cloud provider, set on the entry's Service through the Gateway. */
export const AZURE_DNS_LABEL_ANNOTATION = "service.beta.kubernetes.io/azure-dns-label-name";
export const AZURE_ALLOWED_IP_RANGES_ANNOTATION = "service.beta.kubernetes.io/azure-allowed-ip-ranges";
/** Minutes a flow may be idle before Azure's load balancer drops it (its default is 4). */
export const AZURE_LB_IDLE_TIMEOUT_ANNOTATION = "service.beta.kubernetes.io/azure-load-balancer-tcp-idle-timeout";

/** The Gateway's listeners: plain HTTP only redirects (and answers ACME challenges); HTTPS serves the API. */
export const HTTP_LISTENER = "http";
export const HTTPS_LISTENER = "https";

/** A Gateway API duration (`1h2m3s`; at most 5 digits a unit) of at least `ms`, rounded up to the second. */
export function gatewayDuration(ms: number): string {
  const total = Math.max(1, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s ? `${s}s` : ""}`;
}

export interface EntryNames {
  namespace: string;
  gateway: string;
  /** The API's Service (port `port`). */
  service: string;
  port: number;
  /** The Secret the HTTPS listener serves: cert-manager's (ACME) or the user's. */
  tlsSecret: string;
  /** The cert-manager Issuer, for ACME. */
  issuer?: string;
}

export function gatewayClassSpec(): IGatewayClass["spec"] {
  return { controllerName: ENVOY_GATEWAY_CONTROLLER, description: "The adf-webhook API's public HTTPS entry (Envoy Gateway)" };
}

export function gatewaySpec(
  names: EntryNames,
  host: string,
  className: string,
  entry: { dnsLabel?: string; allowedSourceRanges?: string[]; idleTimeoutMinutes?: number },
): IGateway["spec"] {
  // Annotations for the Service the implementation creates for this Gateway (Azure reads them).
  const annotations: Record<string, string> = {};
  if (entry.idleTimeoutMinutes !== undefined) annotations[AZURE_LB_IDLE_TIMEOUT_ANNOTATION] = String(entry.idleTimeoutMinutes);
  if (entry.dnsLabel) annotations[AZURE_DNS_LABEL_ANNOTATION] = entry.dnsLabel;
  if (entry.allowedSourceRanges) annotations[AZURE_ALLOWED_IP_RANGES_ANNOTATION] = entry.allowedSourceRanges.join(",");
  return {
    gatewayClassName: className,
    infrastructure: Object.keys(annotations).length > 0 ? { annotations } : undefined,
    listeners: [
      { name: HTTP_LISTENER, protocol: "HTTP", port: 80, hostname: host, allowedRoutes: { namespaces: { from: "Same" } } },
      {
        name: HTTPS_LISTENER,
        protocol: "HTTPS",
        port: 443,
        hostname: host,
        tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", group: "", name: names.tlsSecret }] },
        allowedRoutes: { namespaces: { from: "Same" } },
      },
    ],
  };
}

/** Plain HTTP: every request is redirected to https (ACME challenge routes, exact matches, take precedence). */
export function redirectRouteSpec(names: EntryNames, host: string): IHTTPRoute["spec"] {
  return {
    parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: names.gateway, sectionName: HTTP_LISTENER }],
    hostnames: [host],
    rules: [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }],
  };
}

/**
 * The job port's operational paths: the probes (stack/workload) and, should it ever be served there again,
 * /metrics. They are for the cluster alone, so the public entry never forwards them as they are.
 */
export const CLUSTER_INTERNAL_PATHS = [PROBE_PATHS.liveness, PROBE_PATHS.readiness, METRICS_PATH] as const;
/** What the entry asks the API for instead: a path no route serves, so the caller gets the API's JSON 404. */
export const NOT_PUBLIC_PATH = "/not-public";

/**
 * HTTPS to the API's job port. The request timeout outlasts the API's JOB_TIMEOUT_MS, so a synchronous
 * (Web activity) job gets the API's own answer, not the proxy's (Envoy's default is 15 s). Jobs are added
 * freely, so the route cannot list them; instead the cluster-internal paths are rewritten (an Exact match
 * wins over the PathPrefix rule) to one the API answers 404. URLRewrite, unlike a rule without backends,
 * is in the standard channel and gives the caller our own error shape rather than the proxy's 500.
 */
export function apiRouteSpec(names: EntryNames, host: string, requestTimeoutMs: number): IHTTPRoute["spec"] {
  const backendRefs = [{ group: "", kind: "Service", name: names.service, port: names.port }];
  return {
    parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: names.gateway, sectionName: HTTPS_LISTENER }],
    hostnames: [host],
    rules: [
      {
        matches: CLUSTER_INTERNAL_PATHS.map((value) => ({ path: { type: "Exact" as const, value } })),
        filters: [{ type: "URLRewrite", urlRewrite: { path: { type: "ReplaceFullPath", replaceFullPath: NOT_PUBLIC_PATH } } }],
        backendRefs,
      },
      {
        matches: [{ path: { type: "PathPrefix", value: "/" } }],
        backendRefs,
        timeouts: { request: gatewayDuration(requestTimeoutMs) },
      },
    ],
  };
}

/** Let's Encrypt over ACME, answering HTTP-01 challenges through this Gateway's HTTP listener. */
export function issuerSpec(names: EntryNames, acme: { email: string; server: string }): IIssuer["spec"] {
  return {
    acme: {
      email: acme.email,
      server: acme.server,
      privateKeySecretRef: { name: `${names.issuer}-account-key` },
      solvers: [
        {
          http01: {
            gatewayHTTPRoute: {
              parentRefs: [
                { group: "gateway.networking.k8s.io", kind: "Gateway", name: names.gateway, namespace: names.namespace, sectionName: HTTP_LISTENER },
              ],
            },
          },
        },
      ],
    },
  };
}

export interface HttpsEntryArgs {
  https: HttpsConfig;
  allowedSourceRanges?: string[];
  /** The app's namespace (the Namespace resource's output, so everything here waits for it). */
  namespace: pulumi.Output<string>;
  /** The app's name: the Gateway, routes and Issuer are named after it. */
  appName: string;
  serviceName: pulumi.Output<string>;
  servicePort: number;
  /** The public host name: the user's, or the Azure DNS label's FQDN. */
  host: pulumi.Input<string>;
  /** The Azure DNS label for the entry's public IP, when it gets one. */
  dnsLabel?: pulumi.Input<string>;
  requestTimeoutMs: number;
  /** The Azure load balancer's idle timeout for the entry's Service, in minutes. */
  idleTimeoutMinutes: number;
}

/**
 * The public HTTPS entry: a Gateway API Gateway (HTTP :80 redirecting, HTTPS :443 to the API's job
 * port), its routes, and, unless the cluster brings its own, the parts that run it: Envoy Gateway and
 * the Gateway API CRDs, and cert-manager with a Let's Encrypt Issuer.
 */
export class HttpsEntry extends pulumi.ComponentResource {
  public readonly gatewayName: string;
  public readonly releases: k8s.helm.v3.Release[] = [];

  constructor(name: string, args: HttpsEntryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("adf-webhook-aks:exposure:HttpsEntry", name, {}, opts);
    const { https } = args;
    const parent = { parent: this };
    const acme = https.certificate.kind === "acme" ? https.certificate : undefined;
    const names: EntryNames = {
      namespace: "", // set from the output below
      gateway: args.appName,
      service: "", // set from the output below
      port: args.servicePort,
      tlsSecret: https.certificate.kind === "secret" ? https.certificate.secretName : `${args.appName}-tls`,
      issuer: acme ? `${args.appName}-letsencrypt` : undefined,
    };
    const withNames = pulumi.all([args.namespace, args.serviceName]).apply(([namespace, service]) => ({ ...names, namespace, service }));

    // --- what runs the entry, unless the cluster has its own gateway class ------------------------------
    let crds: k8s.helm.v3.Release | undefined;
    let className: pulumi.Input<string>;
    let classReady: pulumi.Resource[] = [];
    if (https.gatewayClassName === undefined) {
      crds = this.release(`${name}-gateway-crds`, "gateway-api-crds", GATEWAY_CRDS_CHART, {});
      const controller = this.release(`${name}-envoy-gateway`, "envoy-gateway", ENVOY_GATEWAY_CHART, { skipCrds: true }, [crds]);
      const gatewayClass = new k8s.apiextensions.CustomResource(
        `${name}-gateway-class`,
        { apiVersion: "gateway.networking.k8s.io/v1", kind: "GatewayClass", metadata: { labels: LABELS }, spec: gatewayClassSpec() },
        { ...parent, dependsOn: [controller] },
      );
      className = gatewayClass.metadata.name;
      classReady = [gatewayClass];
    } else {
      className = https.gatewayClassName;
    }

    let issuer: k8s.apiextensions.CustomResource | undefined;
    if (acme) {
      const certManager = acme.installCertManager
        ? // After the Gateway API CRDs: cert-manager only watches Gateways if their CRDs exist when it starts.
          [this.release(`${name}-cert-manager`, "cert-manager", CERT_MANAGER_CHART, {}, crds ? [crds] : [])]
        : [];
      issuer = new k8s.apiextensions.CustomResource(
        `${name}-issuer`,
        {
          apiVersion: "cert-manager.io/v1",
          kind: "Issuer",
          metadata: { name: names.issuer, namespace: args.namespace, labels: LABELS },
          spec: withNames.apply((n) => issuerSpec(n, acme)),
        },
        { ...parent, dependsOn: certManager },
      );
    }

    // --- the Gateway and its routes --------------------------------------------------------------------
    const entry = pulumi
      .all([withNames, args.host, args.dnsLabel, className])
      .apply(([n, host, dnsLabel, gatewayClass]) => ({ n, host, dnsLabel, gatewayClass }));
    const gateway = new k8s.apiextensions.CustomResource(
      `${name}-gateway`,
      {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "Gateway",
        metadata: {
          name: names.gateway,
          namespace: args.namespace,
          labels: LABELS,
          // cert-manager's gateway-shim: a Certificate for the HTTPS listener's host, into tlsSecret.
          annotations: names.issuer ? { "cert-manager.io/issuer": names.issuer } : undefined,
        },
        spec: entry.apply(({ n, host, dnsLabel, gatewayClass }) =>
          gatewaySpec(n, host, gatewayClass, { dnsLabel, allowedSourceRanges: args.allowedSourceRanges, idleTimeoutMinutes: args.idleTimeoutMinutes }),
        ),
      },
      { ...parent, dependsOn: [...classReady, ...(issuer ? [issuer] : []), ...(crds ? [crds] : [])] },
    );
    const route = (suffix: string, spec: (n: EntryNames, host: string) => IHTTPRoute["spec"]) =>
      new k8s.apiextensions.CustomResource(
        `${name}-${suffix}`,
        {
          apiVersion: "gateway.networking.k8s.io/v1",
          kind: "HTTPRoute",
          metadata: { name: `${args.appName}-${suffix}`, namespace: args.namespace, labels: LABELS },
          spec: entry.apply(({ n, host }) => spec(n, host)),
        },
        { ...parent, dependsOn: [gateway] },
      );
    route("https-redirect", redirectRouteSpec);
    route("api", (n, host) => apiRouteSpec(n, host, args.requestTimeoutMs));

    this.gatewayName = names.gateway;
    this.registerOutputs({});
  }

  /** A pinned Helm release, in its own namespace. */
  private release(
    name: string,
    releaseName: string,
    chart: { chart: string; version: string; namespace: string; values: object; repo?: string },
    extra: Partial<k8s.helm.v3.ReleaseArgs>,
    dependsOn: pulumi.Resource[] = [],
  ): k8s.helm.v3.Release {
    const release = new k8s.helm.v3.Release(
      name,
      {
        name: releaseName,
        chart: chart.chart,
        version: chart.version,
        repositoryOpts: chart.repo ? { repo: chart.repo } : undefined,
        namespace: chart.namespace,
        createNamespace: true,
        values: chart.values as Record<string, unknown>,
        ...extra,
      },
      { parent: this, dependsOn },
    );
    this.releases.push(release);
    return release;
  }
}

const LABELS = { "app.kubernetes.io/part-of": "adf-webhook", "app.kubernetes.io/managed-by": "pulumi" };
