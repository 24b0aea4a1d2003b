import * as assert from "node:assert/strict";

import { defaultDnsLabel } from "../exposure/index.js";
import { configOf, refusedWith as refuses } from "../testing/config.js";
import { ACME_SERVERS, AZURE_DNS_LABEL, isCidr } from "./exposure.js";

const KUBE = { target: "kubeconfig", registryServer: "localhost:5001" };
const KUBE_SECRETS = { kubeconfig: "apiVersion: v1\nkind: Config\n" };
const EXISTING = { target: "existing", registryName: "myacr", registryResourceGroup: "rg", clusterName: "aks", clusterResourceGroup: "rg" };
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const ENTRA = { authMode: "entra", entraTenantId: TENANT, entraAudience: "api://adf-webhook", entraAllowedCallers: TENANT };
const BASIC = { authMode: "basic", basicAuthUsername: "adf" };
const BASIC_SECRETS = { basicAuthPassword: "s3cret" };
const ACME = { exposure: "https", acmeEmail: "ops@example.com" };

describe("stack config: exposure", () => {
  it("defaults to cluster (a ClusterIP Service only)", () => {
    assert.deepEqual(configOf({}).exposure, { mode: "cluster" });
  });

  it("refuses the old serviceType key, whatever its value, with an error that names exposure", () => {
    for (const value of ["ClusterIP", "LoadBalancer", "NodePort"]) {
      const message = refuses({ serviceType: value }, "serviceType", /was replaced by exposure: .*set exposure to cluster \(was ClusterIP\), loadbalancer/);
      assert.match(message, new RegExp(`\\(got "${value}"\\)`));
    }
    refuses({ exposure: "public" }, "exposure", /must be one of cluster, loadbalancer, https \(got "public"\)/);
  });

  describe("loadbalancer", () => {
    it("is plain HTTP, optionally restricted to source ranges (IPv4 and IPv6 CIDRs, bare addresses)", () => {
      assert.deepEqual(configOf({ exposure: "loadbalancer" }).exposure, { mode: "loadbalancer", allowedSourceRanges: undefined, allowPlainHttp: false });
      assert.deepEqual(configOf({ exposure: "loadbalancer", allowedSourceRanges: " 203.0.113.0/24, 2001:db8::/32 ,198.51.100.7" }).exposure, {
        mode: "loadbalancer",
        allowedSourceRanges: ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"],
        allowPlainHttp: false,
      });
    });

    it("refuses authMode basic or entra over plain HTTP, saying why, unless allowPlainHttp is true", () => {
      const basic = refuses({ exposure: "loadbalancer", ...BASIC }, "exposure", /plain HTTP, so with authMode basic every call would carry the Basic password in clear/, BASIC_SECRETS);
      assert.match(basic, /use exposure https, or set allowPlainHttp true/);
      refuses({ exposure: "loadbalancer", ...ENTRA }, "exposure", /with authMode entra every call would carry the Entra bearer token in clear/);
      assert.equal(configOf({ exposure: "loadbalancer", allowPlainHttp: "true", ...BASIC }, BASIC_SECRETS).exposure.mode, "loadbalancer");
      assert.equal(configOf({ exposure: "loadbalancer", allowPlainHttp: "true", ...ENTRA }).exposure.mode, "loadbalancer");
      refuses({ exposure: "loadbalancer", allowPlainHttp: "false", ...BASIC }, "exposure", /allowPlainHttp/, BASIC_SECRETS);
    });

    it("refuses bad source ranges", () => {
      refuses({ exposure: "loadbalancer", allowedSourceRanges: "10.0.0.0/33,example.com,10.0.0.0/8" }, "allowedSourceRanges", /CIDRs .*\(10\.0\.0\.0\/33 is not one\); .*\(example\.com is not one\) \(got "10\.0\.0\.0\/33,example\.com,10\.0\.0\.0\/8"\)/);
    });
  });

  describe("https", () => {
    it("by default: an Azure DNS label in the stack's region, Let's Encrypt production, Envoy Gateway and cert-manager installed", () => {
      assert.deepEqual(configOf(ACME).exposure, {
        mode: "https",
        allowedSourceRanges: undefined,
        https: {
          hostname: undefined,
          dnsLabel: undefined,
          useDnsLabel: true,
          certificate: { kind: "acme", email: "ops@example.com", server: ACME_SERVERS.production, installCertManager: true },
          gatewayClassName: undefined,
        },
      });
      const https = configOf({ ...EXISTING, ...ACME, dnsLabel: "adf-demo", acmeServer: "staging", installCertManager: "false" }).exposure;
      assert.ok(https.mode === "https");
      assert.equal(https.https.dnsLabel, "adf-demo");
      assert.deepEqual(https.https.certificate, { kind: "acme", email: "ops@example.com", server: ACME_SERVERS.staging, installCertManager: false });
    });

    it("the user's host name (lower-cased) and no DNS label, unless one is asked for too", () => {
      const own = configOf({ ...ACME, hostname: "ADF.Example.com" }).exposure;
      assert.ok(own.mode === "https");
      assert.equal(own.https.hostname, "adf.example.com");
      assert.equal(own.https.useDnsLabel, false);
      const both = configOf({ ...ACME, hostname: "adf.example.com", dnsLabel: "adf-demo" }).exposure;
      assert.ok(both.mode === "https" && both.https.useDnsLabel);
    });

    it("a certificate of the user's, with source ranges and the cluster's own gateway class", () => {
      const https = configOf({ ...EXISTING, exposure: "https", tlsSecretName: "adf-tls", gatewayClassName: "approuting-istio", allowedSourceRanges: "203.0.113.0/24" }).exposure;
      assert.deepEqual(https, {
        mode: "https",
        allowedSourceRanges: ["203.0.113.0/24"],
        https: {
          hostname: undefined,
          dnsLabel: undefined,
          useDnsLabel: true,
          certificate: { kind: "secret", secretName: "adf-tls" },
          gatewayClassName: "approuting-istio",
        },
      });
    });

    it("needs a certificate source, exactly one", () => {
      refuses({ exposure: "https" }, "acmeEmail", /is required when exposure is https: .*or set tlsSecretName/);
      refuses({ ...ACME, tlsSecretName: "adf-tls" }, "tlsSecretName", /and acmeEmail are two ways to get the certificate: set one of them/);
      refuses({ exposure: "https", acmeEmail: "ops" }, "acmeEmail", /must be an e-mail address/);
      refuses({ exposure: "https", tlsSecretName: "Bad_Name" }, "tlsSecretName", /must be a Kubernetes Secret name/);
      refuses({ exposure: "https", tlsSecretName: "adf-tls", acmeServer: "staging" }, "acmeServer", /applies to acmeEmail/);
      refuses({ exposure: "https", tlsSecretName: "adf-tls", installCertManager: "false" }, "installCertManager", /applies to acmeEmail/);
      refuses({ ...ACME, acmeServer: "zerossl" }, "acmeServer", /must be one of production, staging/);
    });

    it("installCertManager false only where a cert-manager can already run: never on the cluster of target new", () => {
      refuses({ ...ACME, installCertManager: "false" }, "installCertManager", /the cluster of target new has none, so no certificate would ever be issued/);
      for (const target of [EXISTING, { ...KUBE, hostname: "adf.example.com" }]) {
        const https = configOf({ ...target, ...ACME, installCertManager: "false" }, KUBE_SECRETS).exposure;
        assert.ok(https.mode === "https" && https.https.certificate.kind === "acme" && !https.https.certificate.installCertManager);
      }
    });

    it("refuses source ranges with Let's Encrypt, which validates from addresses it does not publish", () => {
      const message = refuses({ ...ACME, allowedSourceRanges: "203.0.113.0/24" }, "allowedSourceRanges", /port 80 included.*HTTP-01.*neither issued nor renewed.*tlsSecretName/);
      // The message says exactly where the key applies, and both places accept it.
      assert.match(message, /applies to exposure loadbalancer, and exposure https with tlsSecretName \(not with acmeEmail\) only/);
      assert.ok(configOf({ exposure: "loadbalancer", allowedSourceRanges: "203.0.113.0/24" }).exposure.mode === "loadbalancer");
      assert.ok(configOf({ exposure: "https", tlsSecretName: "adf-tls", allowedSourceRanges: "203.0.113.0/24" }).exposure.mode === "https");
    });

    it("host names and DNS labels are checked", () => {
      for (const hostname of ["*.example.com", "203.0.113.7", "adf", "adf_1.example.com", "-adf.example.com"]) {
        refuses({ ...ACME, hostname }, "hostname", /must be a fully qualified DNS name/);
      }
      for (const dnsLabel of ["1adf", "ab", "adf-", "ADF", "a".repeat(64)]) refuses({ ...ACME, dnsLabel }, "dnsLabel", /3 to 63 lower-case letters/);
    });

    it("target kubeconfig: a host name is required (or an explicit DNS label for an AKS cluster)", () => {
      refuses({ ...KUBE, ...ACME }, "hostname", /is required when exposure is https with target kubeconfig/, KUBE_SECRETS);
      assert.equal(configOf({ ...KUBE, ...ACME, hostname: "adf.example.com" }, KUBE_SECRETS).exposure.mode, "https");
      const aks = configOf({ ...KUBE, ...ACME, dnsLabel: "adf-demo", location: "uksouth" }, KUBE_SECRETS).exposure;
      assert.ok(aks.mode === "https" && aks.https.useDnsLabel);
    });

    it("gatewayClassName is for a cluster that has one (existing or kubeconfig), never a new one", () => {
      refuses({ ...ACME, gatewayClassName: "eg" }, "gatewayClassName", /the cluster of target new has none/);
      refuses({ ...EXISTING, ...ACME, gatewayClassName: "Bad Class" }, "gatewayClassName", /must be a Kubernetes object name/);
      const kube = configOf({ ...KUBE, ...ACME, hostname: "adf.example.com", gatewayClassName: "traefik" }, KUBE_SECRETS).exposure;
      assert.ok(kube.mode === "https" && kube.https.gatewayClassName === "traefik");
    });

    it("with authMode basic or entra: no allowPlainHttp needed (and it is refused: it means loadbalancer)", () => {
      assert.equal(configOf({ ...ACME, ...BASIC }, BASIC_SECRETS).exposure.mode, "https");
      assert.equal(configOf({ ...ACME, ...ENTRA }).exposure.mode, "https");
      refuses({ ...ACME, allowPlainHttp: "true" }, "allowPlainHttp", /applies to exposure loadbalancer only \(exposure is https\)/);
    });
  });

  it("keys of one mode are refused in another, each named", () => {
    const message = refuses(
      { hostname: "adf.example.com", acmeEmail: "ops@example.com", tlsSecretName: "t", gatewayClassName: "g", dnsLabel: "adf-x", acmeServer: "staging", installCertManager: "true", allowPlainHttp: "true", allowedSourceRanges: "203.0.113.0/24" },
      "hostname",
      /applies to exposure https only \(exposure is cluster\)/,
    );
    for (const key of ["acmeEmail", "tlsSecretName", "gatewayClassName", "dnsLabel", "acmeServer", "installCertManager"]) {
      assert.match(message, new RegExp(`- ${key}: applies to exposure https only`));
    }
    assert.match(message, /- allowPlainHttp: applies to exposure loadbalancer only/);
    assert.match(message, /- allowedSourceRanges: restricts a public entry, so it applies to exposure loadbalancer, and exposure https with tlsSecretName \(not with acmeEmail\) only/);
    refuses({ exposure: "loadbalancer", hostname: "adf.example.com" }, "hostname", /applies to exposure https only \(exposure is loadbalancer\)/);
  });

  it("dataFactory needs a public entry: https or loadbalancer", () => {
    refuses({ dataFactory: "true" }, "dataFactory", /needs a public endpoint: set exposure to https \(or loadbalancer\)/);
    assert.ok(configOf({ ...ACME, dataFactory: "true" }).dataFactory);
    assert.ok(configOf({ exposure: "loadbalancer", dataFactory: "true" }).dataFactory);
  });

  it("CIDRs", () => {
    for (const ok of ["0.0.0.0/0", "203.0.113.0/24", "198.51.100.7", "198.51.100.7/32", "2001:db8::/32", "::/0", "2001:db8::1"]) assert.ok(isCidr(ok), ok);
    for (const bad of ["203.0.113.0/33", "2001:db8::/129", "203.0.113/24", "203.0.113.0/", "203.0.113.0/24/1", "example.com", "", "10.0.0.0/-1"]) {
      assert.ok(!isCidr(bad), bad);
    }
  });

  it("the default DNS label: stable, valid for Azure, different per subscription and stack", () => {
    const label = defaultDnsLabel("adf-webhook-api", "sub-1", "adf-webhook-aks", "dev");
    assert.match(label, /^adf-webhook-api-[0-9a-f]{8}$/);
    assert.equal(label, defaultDnsLabel("adf-webhook-api", "sub-1", "adf-webhook-aks", "dev"));
    assert.notEqual(label, defaultDnsLabel("adf-webhook-api", "sub-2", "adf-webhook-aks", "dev"));
    assert.notEqual(label, defaultDnsLabel("adf-webhook-api", "sub-1", "adf-webhook-aks", "prod"));
    for (const name of ["a".repeat(63), "9lives", "x", `${"a".repeat(53)}-b`]) {
      assert.match(defaultDnsLabel(name, "s", "p", "s"), AZURE_DNS_LABEL, name);
    }
  });
});
