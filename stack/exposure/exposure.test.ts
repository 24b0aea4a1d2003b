import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Writable } from "node:stream";

import request from "supertest";

import { createApp } from "../../api/src/app.js";
import { loadConfig } from "../../api/src/config.js";
import { createLogger } from "../../api/src/framework/logging.js";
import { ACME_SERVERS } from "../config/exposure.js";
import { EXISTING_CLUSTER_LOCATION, LB_IP, run, SUBSCRIPTION_ID, UNKNOWN, type Registration, type Run } from "../testing/harness.js";
import { ENTRY_TYPES, entryTypesOf, GATEWAY, GATEWAY_CLASS, HTTP_ROUTE, inputsOf, ISSUER, RELEASE, releasesOf, routesOf, serviceOf } from "../testing/views.js";
import { CERT_MANAGER_CHART, ENVOY_GATEWAY_CHART, ENVOY_GATEWAY_CONTROLLER, GATEWAY_CRDS_CHART } from "./charts.js";
import {
  AZURE_ALLOWED_IP_RANGES_ANNOTATION,
  AZURE_DNS_LABEL_ANNOTATION,
  AZURE_LB_IDLE_TIMEOUT_ANNOTATION,
  CLUSTER_INTERNAL_PATHS,
  gatewayDuration,
  NOT_PUBLIC_PATH,
} from "./https.js";
import { defaultDnsLabel } from "./index.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the recorded inputs are untyped JSON */

const ACME = { exposure: "https", acmeEmail: "ops@example.com" };
const EXISTING = { target: "existing", registryName: "myacr", registryResourceGroup: "rg", clusterName: "aks", clusterResourceGroup: "rg" };
const KUBE = { target: "kubeconfig", registryServer: "localhost:5001" };
const KUBE_SECRETS = { kubeconfig: "apiVersion: v1\nkind: Config\n" };
const LABEL = defaultDnsLabel("adf-webhook-api", SUBSCRIPTION_ID, "adf-webhook-aks", "test");
const DEFAULT_HOST = `${LABEL}.westeurope.cloudapp.azure.com`;
/** The load balancer's idle timeout for the default jobTimeoutMs (600000 + 30000 ms, in whole minutes). */
const IDLE = { [AZURE_LB_IDLE_TIMEOUT_ANNOTATION]: "11" };


describe("exposure (Pulumi mocks)", function () {
  this.timeout(20_000);

  describe("every mode", () => {
    for (const [mode, values, secrets] of [
      ["cluster", {}, {}],
      ["loadbalancer", { exposure: "loadbalancer" }, {}],
      ["https", ACME, {}],
    ] as const) {
      it(`${mode}: the API's pods annotated for scraping, the metrics port on no Service`, async () => {
        const r = await run(values, secrets);
        const deployment = inputsOf(r.one("kubernetes:apps/v1:Deployment"));
        assert.deepEqual(deployment.spec.template.metadata.annotations, {
          "prometheus.io/scrape": "true",
          "prometheus.io/port": "9464",
          "prometheus.io/path": "/metrics",
        });
        const ports = deployment.spec.template.spec.containers[0].ports;
        assert.deepEqual(ports.find((p: any) => p.name === "metrics"), { name: "metrics", containerPort: 9464, protocol: "TCP" });
        for (const service of r.ofType("kubernetes:core/v1:Service")) {
          assert.deepEqual(inputsOf(service).spec.ports, [{ name: "http", port: 5002, targetPort: "http", protocol: "TCP" }]);
        }
        // The probes are the kubelet's, on the pod: no route of the entry carries them.
        for (const route of Object.values(routesOf(r))) {
          assert.ok(!JSON.stringify(route.spec).includes("9464"), "no route to the metrics port");
        }
      });
    }
  });

  describe("cluster (the default)", () => {
    it("a ClusterIP Service, nothing public, the in-cluster endpoint and the port-forward", async () => {
      const r = await run({});
      assert.equal(serviceOf(r).spec.type, "ClusterIP");
      assert.equal(serviceOf(r).spec.loadBalancerSourceRanges, undefined);
      assert.equal(serviceOf(r).metadata.annotations, undefined, "no load balancer, no idle timeout");
      assert.deepEqual(entryTypesOf(r), []);
      assert.equal(r.outputs.endpoint, "http://adf-webhook-api.adf-webhook.svc.cluster.local:5002");
      assert.equal(r.outputs.webhookUrl, "http://localhost:5002/helloworld");
    });
  });

  describe("loadbalancer", () => {
    it("a LoadBalancer Service on 5002, restricted to the configured source ranges; endpoint by its IP", async () => {
      const r = await run({ exposure: "loadbalancer", allowedSourceRanges: "203.0.113.0/24,2001:db8::/32" });
      assert.equal(serviceOf(r).spec.type, "LoadBalancer");
      assert.deepEqual(serviceOf(r).spec.loadBalancerSourceRanges, ["203.0.113.0/24", "2001:db8::/32"]);
      assert.deepEqual(entryTypesOf(r), []);
      assert.equal(r.outputs.endpoint, `http://${LB_IP}:5002`);
      assert.equal(r.outputs.webhookUrl, `http://${LB_IP}:5002/helloworld`);
    });

    it("open to all when no ranges are set; with allowPlainHttp, basic auth is deployed as asked", async () => {
      const r = await run({ exposure: "loadbalancer", allowPlainHttp: "true", authMode: "basic", basicAuthUsername: "adf" }, { basicAuthPassword: "pw" });
      assert.equal(serviceOf(r).spec.loadBalancerSourceRanges, undefined);
      assert.equal(r.outputs.endpoint, `http://${LB_IP}:5002`);
    });

    it("the probes' paths are public on its port (a Service cannot filter paths), and Pulumi.dev.yaml says so", async () => {
      const r = await run({ exposure: "loadbalancer" });
      const container = inputsOf(r.one("kubernetes:apps/v1:Deployment")).spec.template.spec.containers[0];
      const probed = ["startupProbe", "livenessProbe", "readinessProbe"].map((probe) => container[probe].httpGet);
      // The Service carries the very port the kubelet probes: whoever reaches the IP reaches the probes.
      for (const { port } of probed) assert.equal(port, serviceOf(r).spec.ports[0].targetPort);
      const dev = fs.readFileSync(path.join(import.meta.dirname, "..", "..", "Pulumi.dev.yaml"), "utf8");
      const comment = /^ *# {3}loadbalancer {2}[\s\S]*?(?=^ *# {3}https)/m.exec(dev)?.[0] ?? "";
      for (const { path: probePath } of probed) assert.ok(comment.includes(probePath), `Pulumi.dev.yaml's loadbalancer comment names ${probePath} as public`);
      assert.match(comment, /public/);
    });

    it("Azure's idle timeout outlasts a silent Web activity call: jobTimeoutMs + 30 s in whole minutes, within 4-100", async () => {
      // Azure drops a flow idle for 4 minutes by default; the API sends nothing while a job runs.
      assert.deepEqual(serviceOf(await run({ exposure: "loadbalancer" })).metadata.annotations, IDLE);
      for (const [jobTimeoutMs, minutes] of [
        ["1", "4"],
        ["210000", "4"],
        ["210001", "5"],
        ["5970000", "100"],
        ["604800000", "100"],
      ]) {
        const service = serviceOf(await run({ exposure: "loadbalancer", jobTimeoutMs }));
        assert.equal(service.metadata.annotations[AZURE_LB_IDLE_TIMEOUT_ANNOTATION], minutes, `jobTimeoutMs ${jobTimeoutMs}`);
      }
    });
  });

  describe("https on target new, by default: Envoy Gateway, cert-manager, Let's Encrypt, an Azure DNS label", () => {
    let r: Run;
    before(async () => {
      r = await run(ACME);
    });

    it("creates the entry: three pinned Helm releases, a GatewayClass, a Gateway, two routes and an Issuer", () => {
      assert.deepEqual(
        entryTypesOf(r),
        ["adf-webhook-aks:exposure:HttpsEntry", RELEASE, RELEASE, RELEASE, GATEWAY_CLASS, GATEWAY, HTTP_ROUTE, HTTP_ROUTE, ISSUER].sort(),
      );
      // The API's own Service stays inside the cluster: the Gateway's Service is the public one.
      assert.equal(serviceOf(r).spec.type, "ClusterIP");
      for (const x of r.resources.filter((x) => ENTRY_TYPES.includes(x.type) && x.type.startsWith("kubernetes:"))) {
        assert.match(String(x.provider), /pulumi:providers:kubernetes::k8s::/, `${x.name} uses the cluster's provider`);
      }
    });

    it("the Helm releases: pinned charts and versions, CRDs handled, each in its namespace", () => {
      const byName = releasesOf(r);
      assert.deepEqual(Object.keys(byName).sort(), ["cert-manager", "envoy-gateway", "gateway-api-crds"]);
      const crds = byName["gateway-api-crds"];
      assert.equal(crds.chart, "oci://docker.io/envoyproxy/gateway-crds-helm");
      assert.equal(crds.version, "v1.9.0");
      assert.equal(crds.namespace, "envoy-gateway-system");
      assert.deepEqual(crds.values, { crds: { gatewayAPI: { enabled: true, channel: "standard" }, envoyGateway: { enabled: true } } });
      const eg = byName["envoy-gateway"];
      assert.equal(eg.chart, "oci://docker.io/envoyproxy/gateway-helm");
      assert.equal(eg.version, crds.version, "the controller and its CRDs come from the same release");
      assert.equal(eg.skipCrds, true);
      assert.deepEqual(eg.values.crds, { enabled: false });
      // The proxies' defaults (merged by the chart into the EnvoyGateway config): two pods and a PDB.
      assert.deepEqual(eg.values.config.envoyGateway.envoyProxy, {
        provider: { type: "Kubernetes", kubernetes: { envoyDeployment: { replicas: 2 }, envoyPDB: { minAvailable: 1 } } },
      });
      assert.deepEqual(Object.keys(eg.values).sort(), ["config", "crds"]);
      const cm = byName["cert-manager"];
      assert.equal(cm.chart, "cert-manager");
      assert.deepEqual(cm.repositoryOpts, { repo: "https://charts.jetstack.io" });
      assert.equal(cm.version, "v1.21.1");
      assert.equal(cm.namespace, "cert-manager");
      assert.deepEqual(cm.values.crds, { enabled: true, keep: true });
      assert.deepEqual(cm.values.config, { apiVersion: "controller.config.cert-manager.io/v1alpha1", kind: "ControllerConfiguration", gatewayAPI: { enabled: true } });
      for (const release of Object.values(byName)) {
        assert.match(release.version, /^v\d+\.\d+\.\d+$/, "an exact version, never a range");
        assert.equal(release.createNamespace, true);
      }
      assert.deepEqual([GATEWAY_CRDS_CHART.version, ENVOY_GATEWAY_CHART.version, CERT_MANAGER_CHART.version], [crds.version, eg.version, cm.version]);
    });

    it("in order: CRDs, then the controller and cert-manager, then the class, the Issuer, the Gateway, the routes", () => {
      const named = (type: string, name: string) => r.resources.find((x) => x.type === type && x.name === name) as Registration;
      const dependsOn = (x: Registration) => x.options.dependencies.map((urn) => urn.split("::").pop());
      const entry = "adf-webhook-entry";
      assert.deepEqual(dependsOn(named(RELEASE, `${entry}-gateway-crds`)), []);
      assert.deepEqual(dependsOn(named(RELEASE, `${entry}-envoy-gateway`)), [`${entry}-gateway-crds`]);
      // cert-manager watches Gateways only if their CRDs exist when it starts.
      assert.deepEqual(dependsOn(named(RELEASE, `${entry}-cert-manager`)), [`${entry}-gateway-crds`]);
      assert.ok(dependsOn(named(GATEWAY_CLASS, `${entry}-gateway-class`)).includes(`${entry}-envoy-gateway`));
      assert.ok(dependsOn(named(ISSUER, `${entry}-issuer`)).includes(`${entry}-cert-manager`));
      const gateway = dependsOn(named(GATEWAY, `${entry}-gateway`));
      for (const before of [`${entry}-gateway-class`, `${entry}-issuer`, `${entry}-gateway-crds`, "adf-webhook-ns"]) assert.ok(gateway.includes(before), before);
      for (const route of ["https-redirect", "api"]) {
        const deps = dependsOn(named(HTTP_ROUTE, `${entry}-${route}`));
        assert.ok(deps.includes(`${entry}-gateway`) && deps.includes("adf-webhook-service"), `${route}: ${deps.join(", ")}`);
      }
    });

    it("the GatewayClass is Envoy Gateway's", () => {
      assert.equal(inputsOf(r.one(GATEWAY_CLASS)).spec.controllerName, ENVOY_GATEWAY_CONTROLLER);
    });

    it("the Gateway: HTTP :80 and HTTPS :443 on the DNS label's host, the certificate from the Issuer, the label on its Service", () => {
      const gateway = inputsOf(r.one(GATEWAY));
      assert.equal(gateway.metadata.name, "adf-webhook-api");
      assert.equal(gateway.metadata.namespace, "adf-webhook");
      assert.deepEqual(gateway.metadata.annotations, { "cert-manager.io/issuer": "adf-webhook-api-letsencrypt" });
      assert.equal(gateway.spec.gatewayClassName, (r.one(GATEWAY_CLASS).state as any).metadata.name);
      // The idle timeout reaches the entry's Service through the Gateway, as the label does.
      assert.deepEqual(gateway.spec.infrastructure, { annotations: { [AZURE_DNS_LABEL_ANNOTATION]: LABEL, ...IDLE } });
      assert.deepEqual(
        gateway.spec.listeners.map((l: any) => [l.name, l.protocol, l.port, l.hostname]),
        [
          ["http", "HTTP", 80, DEFAULT_HOST],
          ["https", "HTTPS", 443, DEFAULT_HOST],
        ],
      );
      assert.deepEqual(gateway.spec.listeners[1].tls, { mode: "Terminate", certificateRefs: [{ kind: "Secret", group: "", name: "adf-webhook-api-tls" }] });
      for (const listener of gateway.spec.listeners) assert.deepEqual(listener.allowedRoutes, { namespaces: { from: "Same" } });
    });

    it("plain HTTP only redirects to https; HTTPS routes to the API's job port, outlasting JOB_TIMEOUT_MS", () => {
      const { "adf-webhook-api-https-redirect": redirect, "adf-webhook-api-api": api } = routesOf(r);
      assert.deepEqual(redirect.spec.parentRefs, [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "adf-webhook-api", sectionName: "http" }]);
      assert.deepEqual(redirect.spec.hostnames, [DEFAULT_HOST]);
      assert.deepEqual(redirect.spec.rules, [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }]);
      assert.deepEqual(api.spec.parentRefs, [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "adf-webhook-api", sectionName: "https" }]);
      assert.deepEqual(api.spec.hostnames, [DEFAULT_HOST]);
      assert.deepEqual(api.spec.rules, [
        {
          // The probes and /metrics, asked for from outside, reach the API as a path it answers 404.
          matches: [{ path: { type: "Exact", value: "/healthz" } }, { path: { type: "Exact", value: "/readyz" } }, { path: { type: "Exact", value: "/metrics" } }],
          filters: [{ type: "URLRewrite", urlRewrite: { path: { type: "ReplaceFullPath", replaceFullPath: "/not-public" } } }],
          backendRefs: [{ group: "", kind: "Service", name: "adf-webhook-api", port: 5002 }],
        },
        {
          matches: [{ path: { type: "PathPrefix", value: "/" } }],
          backendRefs: [{ group: "", kind: "Service", name: "adf-webhook-api", port: 5002 }],
          // JOB_TIMEOUT_MS 600 000 + 30 s.
          timeouts: { request: "10m30s" },
        },
      ]);
    });

    it("every path the kubelet probes is one the public entry keeps cluster-internal, and the API serves none at /not-public", async () => {
      const container = inputsOf(r.one("kubernetes:apps/v1:Deployment")).spec.template.spec.containers[0];
      const probed = ["startupProbe", "livenessProbe", "readinessProbe"].map((probe) => container[probe].httpGet.path);
      for (const path of probed) assert.ok((CLUSTER_INTERNAL_PATHS as readonly string[]).includes(path), `${path} is probed but routed in public`);
      // The API itself, as the entry would reach it.
      const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
      const app = createApp({ config: loadConfig({}, []), logger: createLogger("silent", sink) });
      for (const path of probed) assert.equal((await request(app.callback()).get(path)).status, 200, `${path} is what the kubelet probes`);
      const hidden = await request(app.callback()).get(NOT_PUBLIC_PATH);
      assert.equal(hidden.status, 404);
      assert.equal(hidden.body.error.code, "not_found");
    });

    it("the Issuer: Let's Encrypt production, HTTP-01 through the Gateway's HTTP listener", () => {
      const issuer = inputsOf(r.one(ISSUER));
      assert.equal(issuer.metadata.name, "adf-webhook-api-letsencrypt");
      assert.equal(issuer.metadata.namespace, "adf-webhook");
      assert.deepEqual(issuer.spec, {
        acme: {
          email: "ops@example.com",
          server: ACME_SERVERS.production,
          privateKeySecretRef: { name: "adf-webhook-api-letsencrypt-account-key" },
          solvers: [
            {
              http01: {
                gatewayHTTPRoute: {
                  parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "adf-webhook-api", namespace: "adf-webhook", sectionName: "http" }],
                },
              },
            },
          ],
        },
      });
    });

    it("outputs https://<label>.<location>.cloudapp.azure.com, the label derived from the subscription", () => {
      assert.ok(r.calls.some((c) => c.token === "azure-native:authorization:getClientConfig"));
      assert.equal(r.outputs.endpoint, `https://${DEFAULT_HOST}`);
      assert.equal(r.outputs.webhookUrl, `https://${DEFAULT_HOST}/helloworld`);
    });
  });

  describe("https, other shapes", () => {
    it("the user's host name and certificate, the cluster's gateway class, source ranges: nothing installed", async () => {
      const r = await run({
        ...EXISTING,
        exposure: "https",
        hostname: "adf.example.com",
        tlsSecretName: "adf-tls",
        gatewayClassName: "approuting-istio",
        allowedSourceRanges: "203.0.113.0/24,198.51.100.0/24",
        // The default push (registryAuth entra) reads the tenant from getClientConfig too.
        registryAuth: "docker-login",
      });
      assert.deepEqual(entryTypesOf(r), ["adf-webhook-aks:exposure:HttpsEntry", GATEWAY, HTTP_ROUTE, HTTP_ROUTE].sort());
      const gateway = inputsOf(r.one(GATEWAY));
      assert.equal(gateway.spec.gatewayClassName, "approuting-istio");
      assert.equal(gateway.metadata.annotations, undefined, "no cert-manager: the certificate is the user's");
      assert.deepEqual(gateway.spec.infrastructure, { annotations: { [AZURE_ALLOWED_IP_RANGES_ANNOTATION]: "203.0.113.0/24,198.51.100.0/24", ...IDLE } });
      assert.deepEqual(gateway.spec.listeners[1].tls.certificateRefs, [{ kind: "Secret", group: "", name: "adf-tls" }]);
      assert.deepEqual(gateway.spec.listeners.map((l: any) => l.hostname), ["adf.example.com", "adf.example.com"]);
      assert.ok(!r.calls.some((c) => c.token === "azure-native:authorization:getClientConfig"), "no DNS label to derive");
      assert.equal(r.outputs.endpoint, "https://adf.example.com");
    });

    it("the user's host name with a DNS label too (for a CNAME), staging ACME, the cluster's cert-manager", async () => {
      const r = await run({ ...EXISTING, ...ACME, hostname: "adf.example.com", dnsLabel: "adf-demo", acmeServer: "staging", installCertManager: "false" });
      assert.deepEqual(Object.keys(releasesOf(r)).sort(), ["envoy-gateway", "gateway-api-crds"]);
      assert.equal(inputsOf(r.one(ISSUER)).spec.acme.server, ACME_SERVERS.staging);
      assert.deepEqual(inputsOf(r.one(GATEWAY)).spec.infrastructure, { annotations: { [AZURE_DNS_LABEL_ANNOTATION]: "adf-demo", ...IDLE } });
      assert.equal(r.outputs.endpoint, "https://adf.example.com");
    });

    it("target existing: the DNS label's host is in the cluster's region, whatever the stack's location says", async () => {
      const r = await run({ ...EXISTING, ...ACME, location: "northeurope" });
      assert.notEqual(EXISTING_CLUSTER_LOCATION, "northeurope");
      const host = `${LABEL}.${EXISTING_CLUSTER_LOCATION}.cloudapp.azure.com`;
      assert.equal(r.outputs.endpoint, `https://${host}`);
      assert.deepEqual(inputsOf(r.one(GATEWAY)).spec.listeners.map((l: any) => l.hostname), [host, host]);
    });

    it("kubeconfig with an explicit DNS label and region: no Azure call", async () => {
      const r = await run({ ...KUBE, ...ACME, dnsLabel: "adf-demo", location: "uksouth" }, KUBE_SECRETS);
      assert.deepEqual(r.calls, []);
      assert.equal(r.outputs.endpoint, "https://adf-demo.uksouth.cloudapp.azure.com");
    });

    it("a longer JOB_TIMEOUT_MS lengthens the route's timeout and the load balancer's idle timeout (at most Azure's 100 minutes)", async () => {
      const r = await run({ ...ACME, jobTimeoutMs: String(7 * 86_400_000) });
      assert.deepEqual(routesOf(r)["adf-webhook-api-api"].spec.rules[1].timeouts, { request: "168h30s" });
      assert.equal(inputsOf(r.one(GATEWAY)).spec.infrastructure.annotations[AZURE_LB_IDLE_TIMEOUT_ANNOTATION], "100");
      const short = await run({ ...ACME, jobTimeoutMs: "1500000" });
      assert.equal(inputsOf(short.one(GATEWAY)).spec.infrastructure.annotations[AZURE_LB_IDLE_TIMEOUT_ANNOTATION], "26");
    });

    it("the DNS label's zone is azureCloud's: Azure Government and Azure China have their own", async () => {
      for (const [azureCloud, location, zone] of [
        ["public", "westeurope", "cloudapp.azure.com"],
        ["usgovernment", "usgovvirginia", "cloudapp.usgovcloudapi.net"],
        ["china", "chinanorth3", "cloudapp.chinacloudapi.cn"],
      ]) {
        const r = await run({ ...ACME, azureCloud, location });
        const host = `${LABEL}.${location}.${zone}`;
        assert.equal(r.outputs.endpoint, `https://${host}`, azureCloud);
        assert.deepEqual(inputsOf(r.one(GATEWAY)).spec.listeners.map((l: any) => l.hostname), [host, host]);
      }
      const own = await run({ ...ACME, azureCloud: "china", hostname: "adf.example.cn" });
      assert.equal(own.outputs.endpoint, "https://adf.example.cn", "the user's own name is kept as it is");
    });
  });

  describe("in a preview (outputs of new resources unknown)", () => {
    it("https: the same entry is planned, and the endpoint is known from config and the subscription", async () => {
      const applied = await run(ACME);
      const preview = await run(ACME, {}, { preview: true });
      assert.deepEqual(entryTypesOf(preview), entryTypesOf(applied));
      assert.deepEqual(inputsOf(preview.one(GATEWAY)).spec.listeners, inputsOf(applied.one(GATEWAY)).spec.listeners);
      assert.deepEqual(releasesOf(preview), releasesOf(applied));
      assert.equal(preview.outputs.endpoint, `https://${DEFAULT_HOST}`);
    });

    it("loadbalancer: the endpoint waits for the address instead of failing", async () => {
      const preview = await run({ exposure: "loadbalancer" }, {}, { preview: true });
      assert.equal(preview.outputs.endpoint, UNKNOWN);
      assert.equal(serviceOf(preview).spec.type, "LoadBalancer");
    });
  });

  it("Gateway API durations", () => {
    assert.equal(gatewayDuration(630_000), "10m30s");
    assert.equal(gatewayDuration(1), "1s");
    assert.equal(gatewayDuration(3_600_000), "1h");
    assert.equal(gatewayDuration(3_661_001), "1h1m2s");
    assert.match(gatewayDuration(7 * 86_400_000 + 30_000), /^([0-9]{1,5}(h|m|s|ms)){1,4}$/);
  });
});
