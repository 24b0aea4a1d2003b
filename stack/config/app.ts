import { z } from "zod";

import { trueOrFalse, wholeNumber } from "../../api/src/settings.js";
import type { TargetKind } from "./target.js";
import { dnsLabel, evenWithOtherProblems, quantity, refused, unknownChoice } from "./values.js";

/**
 * The API's pods: their namespace and name, how many, their resources, and the autoscaler. With target
 * containerapps: the Container App's name, its replicas and its scale rule (namespace and the pods'
 * requests and limits are Kubernetes' only; docs/containerapps.md).
 */

/** The pod count, with the HPA on or off: one range. */
const replicas = wholeNumber(1, 100);

/** The HorizontalPodAutoscaler's keys mean something only with hpaEnabled true. */
const autoscaler = z.discriminatedUnion(
  "hpaEnabled",
  [
    z.object({ hpaEnabled: z.literal("false").optional() }),
    z.object({
      hpaEnabled: z.literal("true"),
      // Unset: replicas, and the larger of 5 and the minimum.
      hpaMinReplicas: replicas.optional(),
      hpaMaxReplicas: replicas.optional(),
      hpaCpuUtilization: wholeNumber(1, 100).prefault("70"),
    }),
  ],
  unknownChoice(trueOrFalse),
);

/** A Container App's name: 2 to 32 characters, lower-case letters, digits and '-', a letter first, no "--". */
const containerAppName = z
  .string()
  .regex(/^(?!.*--)[a-z][a-z0-9-]{0,30}[a-z0-9]$/, "must be a Container App name with target containerapps: 2 to 32 lower-case letters, digits or '-', a letter first, a letter or digit last, no '--'");

export function appSchema(targetKind: TargetKind | undefined) {
  return z
    .object({
      namespace: dnsLabel.prefault("adf-webhook"),
      appName: (targetKind === "containerapps" ? containerAppName : dnsLabel).prefault("adf-webhook-api"),
      replicas: replicas.prefault("2"),
      cpuRequest: quantity.prefault("100m"),
      cpuLimit: quantity.prefault("1"),
      memoryRequest: quantity.prefault("128Mi"),
      memoryLimit: quantity.prefault("256Mi"),
      fsGroup: targetKind === "containerapps" ? refused("applies to Kubernetes pods only; a Container App's files are the image user's (1000)") : wholeNumber(1, 65535).optional(),
    })
    .and(autoscaler)
    .superRefine((keys, ctx) => {
      if (keys.hpaEnabled !== "true") return;
      const min = keys.hpaMinReplicas ?? keys.replicas;
      if (typeof min === "number" && typeof keys.hpaMaxReplicas === "number" && keys.hpaMaxReplicas < min) {
        ctx.addIssue({ code: "custom", path: ["hpaMaxReplicas"], message: `must be at least hpaMinReplicas (${min})` });
      }
    }, evenWithOtherProblems)
    .transform((keys) => {
      let hpa: { minReplicas: number; maxReplicas: number; cpuUtilization: number } | undefined;
      if (keys.hpaEnabled === "true") {
        const minReplicas = keys.hpaMinReplicas ?? keys.replicas;
        hpa = { minReplicas, maxReplicas: keys.hpaMaxReplicas ?? Math.max(5, minReplicas), cpuUtilization: keys.hpaCpuUtilization };
      }
      return {
        name: keys.appName,
        namespace: keys.namespace,
        replicas: keys.replicas,
        resources: { cpuRequest: keys.cpuRequest, cpuLimit: keys.cpuLimit, memoryRequest: keys.memoryRequest, memoryLimit: keys.memoryLimit },
        fsGroup: keys.fsGroup,
        hpa,
      };
    });
}

export type AppConfig = z.output<ReturnType<typeof appSchema>>;
