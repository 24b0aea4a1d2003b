import { z } from "zod";

import { trueOrFalse, wholeNumber } from "../../api/src/settings.js";
import { dnsLabel, evenWithOtherProblems, quantity, unknownChoice } from "./values.js";

/** The API's pods: their namespace and name, how many, their resources, and the autoscaler. */

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

export const appSchema = z
  .object({
    namespace: dnsLabel.prefault("adf-webhook"),
    appName: dnsLabel.prefault("adf-webhook-api"),
    replicas: replicas.prefault("2"),
    cpuRequest: quantity.prefault("100m"),
    cpuLimit: quantity.prefault("1"),
    memoryRequest: quantity.prefault("128Mi"),
    memoryLimit: quantity.prefault("256Mi"),
    fsGroup: wholeNumber(1, 65535).optional(),
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

export type AppConfig = z.output<typeof appSchema>;
