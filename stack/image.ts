import * as path from "node:path";

import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

import type { RegistryInfo } from "./azure";
import type { ImageConfig } from "./config";

/** The repository root, from this file's place in it: the build works whatever the current directory. */
export const REPOSITORY_ROOT = path.resolve(__dirname, "..");
/** The build context: the API's folder, and nothing else of the repository. */
export const API_CONTEXT = path.join(REPOSITORY_ROOT, "api");
export const API_DOCKERFILE = path.join(API_CONTEXT, "Dockerfile");
/** AKS node pools run linux/amd64; building for it explicitly keeps Apple-silicon workstations honest. */
export const IMAGE_PLATFORM = "linux/amd64";

/**
 * Builds `api/` and pushes it to the registry. Use `repoDigest` (repository@sha256:...) downstream:
 * it changes exactly when the pushed image changes, so a change in `api/` rolls the pods and
 * nothing else does.
 */
export function buildApiImage(registry: RegistryInfo, image: ImageConfig, opts?: pulumi.CustomResourceOptions): docker.Image {
  return new docker.Image(
    "api-image",
    {
      imageName: pulumi.interpolate`${registry.server}/${image.repository}:${image.tag}`,
      build: {
        context: API_CONTEXT,
        dockerfile: API_DOCKERFILE,
        platform: IMAGE_PLATFORM,
      },
      // Without credentials the push uses the host's docker login (`az acr login --name <acr>`).
      registry: registry.credentials
        ? {
            server: registry.server,
            username: registry.credentials.username,
            password: pulumi.secret(registry.credentials.password),
          }
        : undefined,
    },
    opts,
  );
}
