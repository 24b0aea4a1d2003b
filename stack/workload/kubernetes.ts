import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { AppConfig } from "../config/app.js";
import { METRICS_PATH, PRE_STOP_SECONDS, PROBES, type ApiProcess, type Probe } from "./index.js";
import { replicaOwnership, ROLLOUT_TIMEOUT_MINUTES, ROLLOUT_TIMEOUTS } from "./rollout.js";

/** The image's user (node:24-bookworm-slim's `node`), numeric so runAsNonRoot can be verified. */
export const RUN_AS_USER = 1000;
export const RUN_AS_GROUP = 1000;

export interface WebhookAppArgs {
  app: AppConfig;
  /** The API's environment, ports and stop (see index.ts). */
  api: ApiProcess;
  /** The image by digest (`repository@sha256:...`), never by tag. */
  image: pulumi.Input<string>;
  /**
   * What must exist before the pods can pull (the AcrPull role assignment). The Deployment depends on
   * it itself: a component's dependsOn is not passed on to its children.
   */
  pullAccess?: pulumi.Resource[];
  /** For a non-Azure private registry only: an imagePullSecret. AKS pulls through AcrPull instead. */
  pullCredentials?: { server: pulumi.Input<string>; username: pulumi.Input<string>; password: pulumi.Input<string> };
  /** The API's Service: ClusterIP, or a public LoadBalancer (exposure loadbalancer), see stack/exposure. */
  service: { type: "ClusterIP" | "LoadBalancer"; loadBalancerSourceRanges?: string[]; annotations?: Record<string, string> };
}

/** What Prometheus-style pod scraping (Azure Monitor managed Prometheus included) reads. */
function scrapeAnnotations(metricsPort: number): Record<string, string> {
  return { "prometheus.io/scrape": "true", "prometheus.io/port": String(metricsPort), "prometheus.io/path": METRICS_PATH };
}

/** A probe on the container's `http` port. */
function httpProbe({ path, ...timing }: Probe): k8s.types.input.core.v1.Probe {
  return { httpGet: { path, port: "http" }, ...timing };
}

/** The API on Kubernetes: namespace, settings, Deployment, Service, PodDisruptionBudget and optional HPA. */
export class WebhookApp extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;
  public readonly serviceName: pulumi.Output<string>;
  public readonly deploymentName: pulumi.Output<string>;
  /** The LoadBalancer's IP (or host name); undefined for a ClusterIP Service. */
  public readonly loadBalancerAddress: pulumi.Output<string | undefined>;

  constructor(name: string, args: WebhookAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("adf-webhook-aks:app:WebhookApp", name, {}, opts);
    const { app, api } = args;
    const parent = { parent: this };

    // The pods' labels, and exactly the Service's, the PDB's and the spread constraint's selector.
    const selector = { "app.kubernetes.io/name": app.name, "app.kubernetes.io/component": "api" };
    const labels = { ...selector, "app.kubernetes.io/part-of": "adf-webhook", "app.kubernetes.io/managed-by": "pulumi" };

    const namespace = new k8s.core.v1.Namespace(
      `${name}-ns`,
      {
        metadata: {
          name: app.namespace,
          labels: {
            ...labels,
            // The pods below meet the "restricted" Pod Security Standard: enforce it.
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
          },
        },
      },
      parent,
    );
    const ns = namespace.metadata.name;

    // Auto-named (name + suffix): a change of settings replaces them and so rolls the pods.
    const settings = new k8s.core.v1.ConfigMap(`${name}-settings`, { metadata: { namespace: ns, labels }, data: api.environment }, parent);
    const secrets = new k8s.core.v1.Secret(
      `${name}-secrets`,
      // No stringData at all when there is no secret: an empty one comes back from the kubernetes provider
      // as a change on every preview, and a Secret's data changes by replacement, so every `pulumi up`
      // replaced the Secret and rolled every pod (seen with the real engine, e2e/).
      { metadata: { namespace: ns, labels }, type: "Opaque", ...(Object.keys(api.secretEnvironment).length > 0 && { stringData: api.secretEnvironment }) },
      parent,
    );

    let imagePullSecrets: { name: pulumi.Output<string> }[] | undefined;
    if (args.pullCredentials) {
      const { server, username, password } = args.pullCredentials;
      const pull = new k8s.core.v1.Secret(
        `${name}-pull`,
        {
          metadata: { namespace: ns, labels },
          type: "kubernetes.io/dockerconfigjson",
          stringData: {
            ".dockerconfigjson": pulumi.secret(
              pulumi.all([server, username, password]).apply(([s, u, p]) =>
                JSON.stringify({ auths: { [s]: { username: u, password: p, auth: Buffer.from(`${u}:${p}`).toString("base64") } } }),
              ),
            ),
          },
        },
        parent,
      );
      imagePullSecrets = [{ name: pull.metadata.name }];
    }

    const seccompProfile = { type: "RuntimeDefault" };
    // With an HPA, the HPA owns the replica count: see rollout.ts for the hand-over both ways.
    const ownership = replicaOwnership(app);
    const deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name: app.name, namespace: ns, labels, annotations: ownership.annotations },
        spec: {
          replicas: ownership.replicas,
          // Matches the await below, so a first rollout waiting for AcrPull is not reported stalled.
          progressDeadlineSeconds: ROLLOUT_TIMEOUT_MINUTES * 60,
          revisionHistoryLimit: 5,
          selector: { matchLabels: selector },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: { labels: selector, annotations: scrapeAnnotations(api.ports.metrics) },
            spec: {
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              imagePullSecrets,
              // preStop pause, then the API's drain, then a margin before SIGKILL.
              terminationGracePeriodSeconds: api.terminationGracePeriodSeconds,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: RUN_AS_USER,
                runAsGroup: RUN_AS_GROUP,
                fsGroup: app.fsGroup,
                seccompProfile,
              },
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: "kubernetes.io/hostname",
                  // A one-node dev cluster still schedules every replica.
                  whenUnsatisfiable: "ScheduleAnyway",
                  labelSelector: { matchLabels: selector },
                },
              ],
              containers: [
                {
                  name: "api",
                  image: args.image,
                  imagePullPolicy: "IfNotPresent",
                  ports: [
                    { name: "http", containerPort: api.ports.http, protocol: "TCP" },
                    // Scraped in the cluster only: no Service port points at it.
                    { name: "metrics", containerPort: api.ports.metrics, protocol: "TCP" },
                  ],
                  envFrom: [{ configMapRef: { name: settings.metadata.name } }, { secretRef: { name: secrets.metadata.name } }],
                  startupProbe: httpProbe(PROBES.startup),
                  livenessProbe: httpProbe(PROBES.liveness),
                  readinessProbe: httpProbe(PROBES.readiness),
                  resources: {
                    requests: { cpu: app.resources.cpuRequest, memory: app.resources.memoryRequest },
                    limits: { cpu: app.resources.cpuLimit, memory: app.resources.memoryLimit },
                  },
                  securityContext: {
                    runAsNonRoot: true,
                    runAsUser: RUN_AS_USER,
                    runAsGroup: RUN_AS_GROUP,
                    allowPrivilegeEscalation: false,
                    privileged: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ["ALL"] },
                    seccompProfile,
                  },
                  // Endpoints controllers and load balancers stop sending before SIGTERM starts the drain.
                  lifecycle: { preStop: { exec: { command: ["sleep", String(PRE_STOP_SECONDS)] } } },
                  volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                },
              ],
              volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
            },
          },
        },
      },
      { ...parent, dependsOn: args.pullAccess, ignoreChanges: ownership.ignoreChanges, customTimeouts: ROLLOUT_TIMEOUTS },
    );

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: app.name, namespace: ns, labels, annotations: args.service.annotations },
        spec: {
          type: args.service.type,
          loadBalancerSourceRanges: args.service.loadBalancerSourceRanges,
          selector,
          ports: [{ name: "http", port: api.ports.http, targetPort: "http", protocol: "TCP" }],
        },
      },
      parent,
    );

    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      { metadata: { name: app.name, namespace: ns, labels }, spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
      parent,
    );

    if (app.hpa) {
      new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        `${name}-hpa`,
        {
          metadata: { name: app.name, namespace: ns, labels },
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
            minReplicas: app.hpa.minReplicas,
            maxReplicas: app.hpa.maxReplicas,
            metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: app.hpa.cpuUtilization } } }],
          },
        },
        parent,
      );
    }

    this.namespace = ns;
    this.serviceName = service.metadata.name;
    this.deploymentName = deployment.metadata.name;
    this.loadBalancerAddress =
      args.service.type === "LoadBalancer"
        ? service.status.apply((status) => {
            const ingress = status?.loadBalancer?.ingress?.[0];
            return ingress?.ip ?? ingress?.hostname;
          })
        : pulumi.output(undefined);
    this.registerOutputs({
      namespace: this.namespace,
      serviceName: this.serviceName,
      deploymentName: this.deploymentName,
      loadBalancerAddress: this.loadBalancerAddress,
    });
  }
}
