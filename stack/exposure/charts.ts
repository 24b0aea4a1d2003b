/**
 * The Helm charts the `https` exposure installs, pinned. Raise a version here (and read the chart's
 * upgrade notes) to upgrade; docs/deploy.md says why these were chosen.
 */

/** Envoy Gateway's release: its two charts share the version. */
export const ENVOY_GATEWAY_VERSION = "v1.9.0";

/**
 * The Gateway API CRDs (standard channel, bundle v1.6.1 in this release) and Envoy Gateway's own CRDs,
 * as chart templates: `helm upgrade` upgrades them, which a chart's `crds/` folder never does.
 */
export const GATEWAY_CRDS_CHART = {
  chart: "oci://docker.io/envoyproxy/gateway-crds-helm",
  version: ENVOY_GATEWAY_VERSION,
  namespace: "envoy-gateway-system",
  values: { crds: { gatewayAPI: { enabled: true, channel: "standard" }, envoyGateway: { enabled: true } } },
} as const;

/**
 * The Envoy Gateway controller; its CRDs come from GATEWAY_CRDS_CHART, so the chart's own stay off.
 * Every proxy fleet it creates (one per Gateway) gets two replicas and a PodDisruptionBudget, so a node
 * drain or a rollout never leaves Data Factory without an entry (the default is a single pod).
 */
export const ENVOY_GATEWAY_CHART = {
  chart: "oci://docker.io/envoyproxy/gateway-helm",
  version: ENVOY_GATEWAY_VERSION,
  namespace: "envoy-gateway-system",
  values: {
    crds: { enabled: false },
    config: {
      envoyGateway: {
        envoyProxy: { provider: { type: "Kubernetes", kubernetes: { envoyDeployment: { replicas: 2 }, envoyPDB: { minAvailable: 1 } } } },
      },
    },
  },
} as const;

/** The GatewayClass controller name Envoy Gateway answers to. */
export const ENVOY_GATEWAY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller";

/** cert-manager with its CRDs (kept on uninstall: deleting them would delete every certificate) and Gateway API support. */
export const CERT_MANAGER_CHART = {
  chart: "cert-manager",
  repo: "https://charts.jetstack.io",
  version: "v1.21.1",
  namespace: "cert-manager",
  values: {
    crds: { enabled: true, keep: true },
    // The Gateway API CRDs must exist before cert-manager starts, or it does not watch Gateways.
    config: {
      apiVersion: "controller.config.cert-manager.io/v1alpha1",
      kind: "ControllerConfiguration",
      gatewayAPI: { enabled: true },
    },
  },
} as const;
