import { z } from "zod";

import { oneOf } from "../../api/src/settings.js";
import type { TargetKind } from "./target.js";
import { refused } from "./values.js";

/** The API's image: where it is pushed, how the push signs in, and the base image it builds on. */

/**
 * How `docker push` signs in to an Azure Container Registry: the deploying identity's Entra token
 * exchanged for an ACR token (entra), the ACR admin user (admin), or the host's docker login.
 */
const acrAuth = oneOf(["entra", "admin", "docker-login"]).prefault("entra");

/** The network modes BuildKit (docker.Image's default builder) accepts for RUN steps; it refuses a named network. */
const BUILD_NETWORKS = ["default", "host", "none"] as const;

export function imageSchema(targetKind: TargetKind | undefined) {
  return z
    .object({
      // A repository inside the registry, e.g. `adf-webhook-api`.
      imageRepository: z.string().regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, "must be a lower-case repository name such as adf-webhook-api").prefault("adf-webhook-api"),
      imageTag: z.string().regex(/^[\w][\w.-]{0,127}$/, "must be a valid image tag").prefault("latest"),
      // The Dockerfile's NODE_IMAGE build argument; unset = the Dockerfile's own pinned default. An image
      // reference: [registry[:port]/]path[:tag][@sha256:digest], no spaces or shell syntax.
      baseImage: z
        .string()
        .regex(
          /^[a-z0-9]+([._:-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/,
          "must be an image reference such as myacr.azurecr.io/library/node:24-bookworm-slim",
        )
        .optional(),
      // The network of the build's RUN steps (docker.Image's build.network); unset = the Docker engine's
      // default. `host` for an engine without a bridge network (the local platform's), where npm ci needs one.
      imageBuildNetwork: oneOf(BUILD_NETWORKS).optional(),
      registryAuth:
        targetKind === "kubeconfig"
          ? refused("applies to an Azure Container Registry only; with target kubeconfig set registryUsername/registryPassword or rely on docker login")
          : acrAuth,
      // Target kubeconfig: the push signs in with it (and registryPassword), else with the host's docker login.
      registryUsername: z.string().optional(),
    })
    .transform(({ imageRepository, imageTag, baseImage, imageBuildNetwork, registryAuth, registryUsername }) => ({
      repository: imageRepository,
      tag: imageTag,
      registryAuth: registryAuth ?? (registryUsername !== undefined ? ("credentials" as const) : ("docker-login" as const)),
      ...(baseImage !== undefined && { baseImage }),
      ...(imageBuildNetwork !== undefined && { buildNetwork: imageBuildNetwork }),
    }));
}

export type ImageConfig = z.output<ReturnType<typeof imageSchema>>;
export type RegistryAuth = ImageConfig["registryAuth"];
