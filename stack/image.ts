import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

import type { RegistryInfo } from "./platform.js";
import type { ImageConfig } from "./config/image.js";

/**
 * The build context, the API's folder and nothing else of the repository, relative to the program's
 * directory. The docker provider stores these strings in state and diffs them, so they must read the
 * same on every machine: never absolute, always `/`. Pulumi starts the program and its providers in
 * the program's directory, `stack/` (Pulumi.yaml `main: stack/`), and the provider resolves both
 * paths against its working directory (see docs/deploy.md, "A second machine").
 */
export const API_CONTEXT = "../api";
export const API_DOCKERFILE = "../api/Dockerfile";
/** Where Pulumi runs the program: the directory of Pulumi.yaml's `main`, relative to the repository root. */
export const PROGRAM_DIRECTORY = "stack";
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
        // Only when set, so a stack without it keeps its recorded build inputs (and its image) as they were.
        ...(image.baseImage !== undefined && { args: { NODE_IMAGE: image.baseImage } }),
        ...(image.buildNetwork !== undefined && { network: image.buildNetwork }),
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
