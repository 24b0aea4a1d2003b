import * as fs from "node:fs";
import * as path from "node:path";

import { run } from "./processes.js";
import { HOST, PORTS, SERVICE_API_ADDRESS } from "./network.js";
import { paths } from "./state.js";

/**
 * The cluster's certificates, made with openssl: one CA, the API server's serving certificate, client
 * certificates for the admin (system:masters), the API server's calls to the kubelet and the node, and
 * the service-account signing key. Kept in the state directory; made once per platform.
 */
const file = (name: string) => path.join(paths.pki, name);

async function keyAndCert(name: string, subject: string, options: { ca?: boolean; sans?: string[]; server?: boolean } = {}): Promise<void> {
  if (fs.existsSync(file(`${name}.crt`))) return;
  await run("openssl", ["genrsa", "-out", file(`${name}.key`), "2048"]);
  const ext = [
    options.ca ? "basicConstraints=critical,CA:TRUE" : "basicConstraints=critical,CA:FALSE",
    options.ca ? "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" : "keyUsage=critical,digitalSignature,keyEncipherment",
    ...(options.ca ? [] : [`extendedKeyUsage=${options.server ? "serverAuth" : "clientAuth"}`]),
    ...(options.sans ? [`subjectAltName=${options.sans.join(",")}`] : []),
  ];
  const extFile = file(`${name}.ext`);
  fs.writeFileSync(extFile, ext.join("\n") + "\n");
  if (options.ca) {
    await run("openssl", ["req", "-x509", "-new", "-key", file(`${name}.key`), "-subj", subject, "-days", "30", "-out", file(`${name}.crt`), "-extensions", "v3", "-config", await reqConfig(ext)]);
  } else {
    await run("openssl", ["req", "-new", "-key", file(`${name}.key`), "-subj", subject, "-out", file(`${name}.csr`)]);
    await run("openssl", ["x509", "-req", "-in", file(`${name}.csr`), "-CA", file("ca.crt"), "-CAkey", file("ca.key"), "-CAcreateserial", "-days", "30", "-extfile", extFile, "-out", file(`${name}.crt`)]);
  }
}

async function reqConfig(ext: string[]): Promise<string> {
  const cfg = file("req.cnf");
  fs.writeFileSync(cfg, ["[req]", "distinguished_name=dn", "[dn]", "[v3]", ...ext, ""].join("\n"));
  return cfg;
}

export const NODE_NAME = "platform-node";

export async function makePki(): Promise<void> {
  fs.mkdirSync(paths.pki, { recursive: true, mode: 0o700 });
  await keyAndCert("ca", "/CN=adf-webhook-platform-ca", { ca: true });
  await keyAndCert("apiserver", "/CN=kube-apiserver", {
    server: true,
    sans: [`IP:${HOST}`, "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc", `IP:${SERVICE_API_ADDRESS}`],
  });
  await keyAndCert("admin", "/O=system:masters/CN=platform-admin");
  await keyAndCert("apiserver-kubelet-client", "/O=system:masters/CN=kube-apiserver-kubelet-client");
  await keyAndCert("node", `/O=system:nodes/CN=system:node:${NODE_NAME}`);
  if (!fs.existsSync(file("sa.key"))) {
    await run("openssl", ["genrsa", "-out", file("sa.key"), "2048"]);
    await run("openssl", ["rsa", "-in", file("sa.key"), "-pubout", "-out", file("sa.pub")]);
  }
}

export const pki = {
  ca: file("ca.crt"),
  caKey: file("ca.key"),
  apiserverCert: file("apiserver.crt"),
  apiserverKey: file("apiserver.key"),
  kubeletClientCert: file("apiserver-kubelet-client.crt"),
  kubeletClientKey: file("apiserver-kubelet-client.key"),
  saKey: file("sa.key"),
  saPub: file("sa.pub"),
};

/** A kubeconfig for the API server on loopback, signing in with one of the client certificates above. */
export function writeKubeconfig(target: string, client: "admin" | "node"): void {
  const b64 = (f: string) => fs.readFileSync(f).toString("base64");
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "platform", cluster: { server: `https://${HOST}:${PORTS.apiServer}`, "certificate-authority-data": b64(pki.ca) } }],
    users: [{ name: client, user: { "client-certificate-data": b64(file(`${client}.crt`)), "client-key-data": b64(file(`${client}.key`)) } }],
    contexts: [{ name: "platform", context: { cluster: "platform", user: client } }],
    "current-context": "platform",
  };
  fs.writeFileSync(target, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
}
