import * as fs from "node:fs";
import * as path from "node:path";

import { answers200 } from "./probe.js";
import { startDaemon } from "./processes.js";
import { REGISTRY } from "./network.js";
import { paths } from "./state.js";

/**
 * An OCI registry on loopback (Debian's docker-registry, the CNCF distribution registry 2.8): the stack
 * pushes the API's image here, the node pulls it from here by digest, and the base image's stand-in is
 * offered here. Plain HTTP: Docker and containerd treat 127.0.0.0/8 registries as insecure by default.
 */
export async function startRegistry(): Promise<void> {
  fs.mkdirSync(paths.registry, { recursive: true });
  const config = path.join(paths.registry, "config.yml");
  fs.writeFileSync(
    config,
    [
      "version: 0.1",
      "log: { level: warn }",
      `storage: { filesystem: { rootdirectory: ${path.join(paths.registry, "data")} }, delete: { enabled: true } }`,
      `http: { addr: "${REGISTRY}" }`,
      "",
    ].join("\n"),
  );
  await startDaemon("registry", "/usr/bin/docker-registry", ["serve", config], () => answers200(`http://${REGISTRY}/v2/`));
}

/** The digest the registry serves for `repository:tag`: what a pod that pulls it really runs. */
export async function servedDigest(repository: string, tag: string): Promise<string> {
  const res = await fetch(`http://${REGISTRY}/v2/${repository}/manifests/${tag}`, {
    method: "HEAD",
    headers: { Accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json" },
  });
  const digest = res.headers.get("docker-content-digest");
  if (!res.ok || !digest) throw new Error(`the registry at ${REGISTRY} serves no ${repository}:${tag} (HTTP ${res.status})`);
  return digest;
}
