import { isIP } from "node:net";

import { z } from "zod";

import { commaListOf, oneOf, trueOrFalse } from "../../api/src/settings.js";
import type { TargetKind } from "./target.js";
import { evenWithOtherProblems, objectName, refused } from "./values.js";

/**
 * How the API is reached: the `exposure` key and the keys that go with it (docs/exposure.md). A key of
 * another exposure is refused, so a setting never silently means nothing.
 */

/** Let's Encrypt's ACME directories. Staging issues untrusted certificates, without production's rate limits. */
export const ACME_SERVERS = {
  production: "https://acme-v02.api.letsencrypt.org/directory",
  staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;

/** An IPv4 or IPv6 CIDR (`203.0.113.0/24`, `2001:db8::/32`); a bare address counts as /32 or /128. */
export function isCidr(value: string): boolean {
  const [address = "", prefix, extra] = value.split("/");
  if (extra !== undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** Azure's rule for a public IP's DNS label: 3 to 63 characters, a letter first, no '-' last. */
export const AZURE_DNS_LABEL = /^[a-z][a-z0-9-]{1,61}[a-z0-9]$/;
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Where allowedSourceRanges can be enforced: on the entry's Service (Azure NSG rules), which covers every port. */
const SOURCE_RANGES_APPLY = "exposure loadbalancer, and exposure https with tlsSecretName (not with acmeEmail)";

const sourceRanges = commaListOf((item) => (isCidr(item) ? undefined : `must be IPv4 or IPv6 CIDRs such as 203.0.113.0/24 (${item} is not one)`));

/** Container Apps' ingress takes IPv4 CIDRs only (its ipSecurityRestrictions). */
const ipv4SourceRanges = commaListOf((item) => {
  if (!isCidr(item)) return `must be IPv4 CIDRs such as 203.0.113.0/24 (${item} is not one)`;
  if (isIP(item.split("/")[0] ?? "") === 6) {
    return `must be IPv4 CIDRs: Container Apps' ingress takes no IPv6 range (${item}); leave the IPv6 prefixes of a service tag out (docs/containerapps.md)`;
  }
  return undefined;
});

/** The key that exposure replaced, refused whatever its value. */
const serviceType = refused(
  "was replaced by exposure: remove it and set exposure to cluster (was ClusterIP), loadbalancer (was LoadBalancer: plain HTTP on port 5002) or https (HTTPS on port 443 with a trusted certificate)",
);

/** The keys that mean something with the Kubernetes targets' `exposure: https` only, refused elsewhere with why. */
const httpsKeysRefused = (why: string) => {
  const refusal = refused(why);
  return { hostname: refusal, dnsLabel: refusal, acmeEmail: refusal, acmeServer: refusal, tlsSecretName: refusal, gatewayClassName: refusal, installCertManager: refusal };
};

/** Why the https keys are refused with another exposure. */
const httpsOnly = (exposure: string) => `applies to exposure https only (exposure is ${exposure})`;

export interface ExposureContext {
  targetKind: TargetKind | undefined;
  /** authMode, as typed. */
  authMode: unknown;
}

/**
 * Target containerapps: the Container App's own HTTPS ingress, https://<appName>.<the environment's domain>
 * with the environment's certificate; optionally restricted to IPv4 ranges. The Kubernetes entry's keys
 * mean nothing there.
 */
function containerAppsIngressSchema() {
  return z
    .object({
      exposure: z
        .literal("https", { error: "target containerapps is reached through the Container App's own HTTPS ingress: set exposure to https, or leave it unset" })
        .optional(),
      serviceType,
      allowPlainHttp: refused("applies to exposure loadbalancer only; target containerapps serves HTTPS only"),
      allowedSourceRanges: ipv4SourceRanges.optional(),
      ...httpsKeysRefused("applies to the Kubernetes targets' https entry; target containerapps is served by the Container App's own ingress and certificate"),
    })
    .transform(({ allowedSourceRanges }) => ({ mode: "ingress" as const, allowedSourceRanges }));
}

export function exposureSchema({ targetKind, authMode }: ExposureContext) {
  if (targetKind === "containerapps") return containerAppsIngressSchema();
  return z.discriminatedUnion(
    "exposure",
    [
      /** A ClusterIP Service only: kubectl port-forward. */
      z
        .object({
          exposure: z.literal("cluster").optional(),
          serviceType,
          ...httpsKeysRefused(httpsOnly("cluster")),
          allowPlainHttp: refused("applies to exposure loadbalancer only (exposure is cluster)"),
          allowedSourceRanges: refused(`restricts a public entry, so it applies to ${SOURCE_RANGES_APPLY} only (exposure cluster has none)`),
        })
        .transform(() => ({ mode: "cluster" as const })),

      /** A public IP, plain HTTP on the API's port. */
      z
        .object({
          exposure: z.literal("loadbalancer"),
          serviceType,
          ...httpsKeysRefused(httpsOnly("loadbalancer")),
          allowPlainHttp: trueOrFalse.prefault("false"),
          allowedSourceRanges: sourceRanges.optional(),
        })
        .superRefine(({ allowPlainHttp }, ctx) => {
          if ((authMode !== "basic" && authMode !== "entra") || allowPlainHttp === true) return;
          const what = authMode === "basic" ? "the Basic password" : "the Entra bearer token";
          ctx.addIssue({
            code: "custom",
            path: ["exposure"],
            message: `loadbalancer serves plain HTTP, so with authMode ${authMode} every call would carry ${what} in clear across the internet: use exposure https, or set allowPlainHttp true to accept that`,
          });
        }, evenWithOtherProblems)
        .transform(({ allowedSourceRanges, allowPlainHttp }) => ({ mode: "loadbalancer" as const, allowedSourceRanges, allowPlainHttp })),

      /** A public HTTPS entry (Gateway API) with a publicly trusted certificate. */
      z
        .object({
          exposure: z.literal("https"),
          serviceType,
          allowPlainHttp: refused("applies to exposure loadbalancer only (exposure is https)"),
          allowedSourceRanges: sourceRanges.optional(),
          // The user's own DNS name; unset = the Azure DNS label's `<label>.<region>.<the cloud's zone>`.
          hostname: z
            .string()
            .transform((value) => value.toLowerCase())
            .pipe(z.string().refine((value) => DNS_NAME.test(value) && isIP(value) === 0, "must be a fully qualified DNS name such as adf.example.com (no wildcard, no IP address)"))
            .optional(),
          // The Azure DNS label to put on the entry's public IP; unset with no hostname = a stable default.
          dnsLabel: z.string().regex(AZURE_DNS_LABEL, "must be 3 to 63 lower-case letters, digits or '-', starting with a letter and not ending with '-'").optional(),
          // An existing GatewayClass to use (nothing installed); unset = the stack installs Envoy Gateway.
          gatewayClassName:
            targetKind === "new"
              ? refused("names a gateway class the cluster already has; the cluster of target new has none: leave it unset and the stack installs Envoy Gateway")
              : objectName("object").optional(),
          acmeEmail: z.string().regex(EMAIL, "must be an e-mail address").optional(),
          acmeServer: oneOf(Object.keys(ACME_SERVERS) as [keyof typeof ACME_SERVERS]).optional(),
          installCertManager: trueOrFalse.optional(),
          // A `kubernetes.io/tls` Secret the user keeps in the app's namespace.
          tlsSecretName: objectName("Secret").optional(),
        })
        .superRefine((keys, ctx) => {
          const problem = (key: string, message: string) => ctx.addIssue({ code: "custom", path: [key], message });
          if (targetKind === "kubeconfig" && keys.hostname === undefined && keys.dnsLabel === undefined) {
            problem(
              "hostname",
              "is required when exposure is https with target kubeconfig: the stack cannot tell whether the cluster is AKS (for an AKS cluster, set dnsLabel and location instead)",
            );
          }
          if (keys.tlsSecretName !== undefined) {
            if (keys.acmeEmail !== undefined) problem("tlsSecretName", "and acmeEmail are two ways to get the certificate: set one of them");
            for (const key of ["acmeServer", "installCertManager"] as const) {
              if (keys[key] !== undefined) problem(key, "applies to acmeEmail (a certificate from Let's Encrypt) only");
            }
            return;
          }
          if (keys.acmeEmail === undefined) {
            problem(
              "acmeEmail",
              "is required when exposure is https: Let's Encrypt's expiry notices go there (or set tlsSecretName to a kubernetes.io/tls Secret of your own in the app's namespace)",
            );
          }
          // A cluster the stack creates has no cert-manager of its own: nothing would ever issue the certificate.
          if (keys.installCertManager === false && targetKind === "new") {
            problem(
              "installCertManager",
              "false expects a cert-manager the cluster already runs; the cluster of target new has none, so no certificate would ever be issued: leave it unset (true), or use tlsSecretName",
            );
          }
          if (keys.allowedSourceRanges !== undefined) {
            problem(
              "allowedSourceRanges",
              `applies to ${SOURCE_RANGES_APPLY} only: it restricts every port of the entry, port 80 included, where Let's Encrypt checks the HTTP-01 challenge from addresses it does not publish, so with acmeEmail the certificate could be neither issued nor renewed. Use tlsSecretName with allowedSourceRanges, or leave allowedSourceRanges unset and rely on authMode`,
            );
          }
        }, evenWithOtherProblems)
        .transform((keys) => ({
          mode: "https" as const,
          allowedSourceRanges: keys.allowedSourceRanges,
          https: {
            hostname: keys.hostname,
            dnsLabel: keys.dnsLabel,
            /** Whether the entry's public IP gets an Azure DNS label (no hostname, or dnsLabel set). */
            useDnsLabel: keys.hostname === undefined || keys.dnsLabel !== undefined,
            certificate:
              keys.tlsSecretName !== undefined
                ? { kind: "secret" as const, secretName: keys.tlsSecretName }
                : {
                    kind: "acme" as const,
                    email: keys.acmeEmail ?? "",
                    server: ACME_SERVERS[keys.acmeServer ?? "production"],
                    installCertManager: keys.installCertManager ?? true,
                  },
            gatewayClassName: keys.gatewayClassName,
          },
        })),
    ],
    { error: "must be one of cluster, loadbalancer, https" },
  );
}

export type ExposureConfig = z.output<ReturnType<typeof exposureSchema>>;
/** How an API on Kubernetes is reached (every exposure but the Container App's own ingress). */
export type KubernetesExposure = Exclude<ExposureConfig, { mode: "ingress" }>;
export type HttpsConfig = Extract<ExposureConfig, { mode: "https" }>["https"];
