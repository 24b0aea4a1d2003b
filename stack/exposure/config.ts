import { isIP } from "node:net";

/**
 * How the API is reached (the `exposure` stack setting and the keys that go with it), read and
 * validated by `readExposure` as part of stack/config.ts's `loadConfig`.
 */

export type ExposureMode = "cluster" | "loadbalancer" | "https";
export const EXPOSURE_MODES: readonly ExposureMode[] = ["cluster", "loadbalancer", "https"];

/** Let's Encrypt's ACME directories. Staging issues untrusted certificates, without production's rate limits. */
export const ACME_SERVERS = {
  production: "https://acme-v02.api.letsencrypt.org/directory",
  staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;

export type CertificateSource =
  /** cert-manager gets (and renews) a certificate from an ACME CA over HTTP-01. */
  | { kind: "acme"; email: string; server: string; installCertManager: boolean }
  /** A `kubernetes.io/tls` Secret the user keeps in the app's namespace. */
  | { kind: "secret"; secretName: string };

export interface HttpsConfig {
  /** The user's own DNS name; unset = the Azure DNS label's `<label>.<location>.<the cloud's zone>` (cloudapp.azure.com in the public cloud). */
  hostname?: string;
  /** The Azure DNS label to put on the entry's public IP; unset with no hostname = a stable default. */
  dnsLabel?: string;
  /** Whether the entry's public IP gets an Azure DNS label (no hostname, or dnsLabel set). */
  useDnsLabel: boolean;
  /** The stack's `location`: the cluster's region for target new and kubeconfig (target existing looks it up). */
  location: string;
  certificate: CertificateSource;
  /** An existing GatewayClass to use (nothing installed); unset = the stack installs Envoy Gateway. */
  gatewayClassName?: string;
}

export type ExposureConfig =
  | { mode: "cluster" }
  | { mode: "loadbalancer"; allowedSourceRanges?: string[]; allowPlainHttp: boolean }
  | { mode: "https"; allowedSourceRanges?: string[]; https: HttpsConfig };

/** The helpers of loadConfig that readExposure needs: reading a key, and reporting a problem with one. */
export interface ExposureReader {
  raw(key: string): string | undefined;
  bool(key: string, fallback: boolean): boolean;
  oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T;
  list(key: string, check?: (item: string) => boolean, what?: string): string[] | undefined;
  fail(key: string, message: string, got?: string): undefined;
}

export interface ExposureContext {
  targetKind: "new" | "existing" | "kubeconfig";
  location: string;
  authMode: "none" | "basic" | "entra";
}

/** Where allowedSourceRanges can be enforced: on the entry's Service (Azure NSG rules), which covers every port. */
const SOURCE_RANGES_APPLY = "exposure loadbalancer, and exposure https with tlsSecretName (not with acmeEmail)";

/** The keys that mean something with `exposure: https` only. */
const HTTPS_KEYS = ["hostname", "dnsLabel", "acmeEmail", "acmeServer", "tlsSecretName", "gatewayClassName", "installCertManager"] as const;

/** An IPv4 or IPv6 CIDR (`203.0.113.0/24`, `2001:db8::/32`); a bare address counts as /32 or /128. */
export function isCidr(value: string): boolean {
  const [address = "", prefix, extra] = value.split("/");
  if (extra !== undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Azure's rule for a public IP's DNS label: 3 to 63 characters, a letter first, no '-' last. */
export const AZURE_DNS_LABEL = /^[a-z][a-z0-9-]{1,61}[a-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Reads `exposure` and its keys; every problem is reported through `read.fail`, naming its key. */
export function readExposure(read: ExposureReader, context: ExposureContext): ExposureConfig {
  if (read.raw("serviceType") !== undefined) {
    read.fail(
      "serviceType",
      "was replaced by exposure: remove it and set exposure to cluster (was ClusterIP), loadbalancer (was LoadBalancer: plain HTTP on port 5002) or https (HTTPS on port 443 with a trusted certificate)",
      read.raw("serviceType"),
    );
  }
  const mode = read.oneOf("exposure", EXPOSURE_MODES, "cluster");

  const onlyWith = (key: string, what: string, note = "") => {
    if (read.raw(key) !== undefined) read.fail(key, `applies to ${what} only${note}`);
  };
  if (mode !== "https") for (const key of HTTPS_KEYS) onlyWith(key, "exposure https", ` (exposure is ${mode})`);
  if (mode !== "loadbalancer") onlyWith("allowPlainHttp", "exposure loadbalancer", ` (exposure is ${mode})`);

  const allowedSourceRanges = read.list("allowedSourceRanges", isCidr, "IPv4 or IPv6 CIDRs such as 203.0.113.0/24");
  if (mode === "cluster") {
    if (allowedSourceRanges) read.fail("allowedSourceRanges", `restricts a public entry, so it applies to ${SOURCE_RANGES_APPLY} only (exposure cluster has none)`);
    return { mode };
  }

  if (mode === "loadbalancer") {
    const allowPlainHttp = read.bool("allowPlainHttp", false);
    if (context.authMode !== "none" && !allowPlainHttp) {
      const what = context.authMode === "basic" ? "the Basic password" : "the Entra bearer token";
      read.fail(
        "exposure",
        `loadbalancer serves plain HTTP, so with authMode ${context.authMode} every call would carry ${what} in clear across the internet: use exposure https, or set allowPlainHttp true to accept that`,
      );
    }
    return { mode, allowedSourceRanges, allowPlainHttp };
  }

  // --- https ----------------------------------------------------------------------------------------
  const hostname = read.raw("hostname")?.toLowerCase();
  if (hostname !== undefined && (!DNS_NAME.test(hostname) || isIP(hostname) !== 0)) {
    read.fail("hostname", "must be a fully qualified DNS name such as adf.example.com (no wildcard, no IP address)", hostname);
  }
  const dnsLabel = read.raw("dnsLabel");
  if (dnsLabel !== undefined && !AZURE_DNS_LABEL.test(dnsLabel)) {
    read.fail("dnsLabel", "must be 3 to 63 lower-case letters, digits or '-', starting with a letter and not ending with '-'", dnsLabel);
  }
  if (context.targetKind === "kubeconfig" && hostname === undefined && dnsLabel === undefined) {
    read.fail(
      "hostname",
      "is required when exposure is https with target kubeconfig: the stack cannot tell whether the cluster is AKS (for an AKS cluster, set dnsLabel and location instead)",
    );
  }

  const gatewayClassName = read.raw("gatewayClassName");
  if (gatewayClassName !== undefined) {
    if (context.targetKind === "new") {
      read.fail("gatewayClassName", "names a gateway class the cluster already has; the cluster of target new has none: leave it unset and the stack installs Envoy Gateway");
    } else if (!DNS_SUBDOMAIN.test(gatewayClassName)) {
      read.fail("gatewayClassName", "must be a Kubernetes object name", gatewayClassName);
    }
  }

  const acmeEmail = read.raw("acmeEmail");
  const tlsSecretName = read.raw("tlsSecretName");
  let certificate: CertificateSource;
  if (acmeEmail !== undefined && tlsSecretName !== undefined) {
    read.fail("tlsSecretName", "and acmeEmail are two ways to get the certificate: set one of them");
  }
  if (tlsSecretName !== undefined) {
    if (!DNS_SUBDOMAIN.test(tlsSecretName)) read.fail("tlsSecretName", "must be a Kubernetes Secret name", tlsSecretName);
    onlyWith("acmeServer", "acmeEmail (a certificate from Let's Encrypt)");
    onlyWith("installCertManager", "acmeEmail (a certificate from Let's Encrypt)");
    certificate = { kind: "secret", secretName: tlsSecretName };
  } else {
    if (acmeEmail === undefined) {
      read.fail(
        "acmeEmail",
        "is required when exposure is https: Let's Encrypt's expiry notices go there (or set tlsSecretName to a kubernetes.io/tls Secret of your own in the app's namespace)",
      );
    } else if (!EMAIL.test(acmeEmail)) {
      read.fail("acmeEmail", "must be an e-mail address", acmeEmail);
    }
    const server = ACME_SERVERS[read.oneOf("acmeServer", ["production", "staging"] as const, "production")];
    const installCertManager = read.bool("installCertManager", true);
    // A cluster the stack creates has no cert-manager of its own: nothing would ever issue the certificate.
    if (!installCertManager && context.targetKind === "new") {
      read.fail(
        "installCertManager",
        "false expects a cert-manager the cluster already runs; the cluster of target new has none, so no certificate would ever be issued: leave it unset (true), or use tlsSecretName",
      );
    }
    certificate = { kind: "acme", email: acmeEmail ?? "", server, installCertManager };
    if (allowedSourceRanges) {
      read.fail(
        "allowedSourceRanges",
        `applies to ${SOURCE_RANGES_APPLY} only: it restricts every port of the entry, port 80 included, where Let's Encrypt checks the HTTP-01 challenge from addresses it does not publish, so with acmeEmail the certificate could be neither issued nor renewed. Use tlsSecretName with allowedSourceRanges, or leave allowedSourceRanges unset and rely on authMode`,
      );
    }
  }

  return {
    mode,
    allowedSourceRanges,
    https: {
      hostname,
      dnsLabel,
      useDnsLabel: hostname === undefined || dnsLabel !== undefined,
      location: context.location,
      certificate,
      gatewayClassName,
    },
  };
}
