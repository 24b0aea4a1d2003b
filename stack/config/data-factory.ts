import { z } from "zod";

import { commaList, trueOrFalse } from "../../api/src/settings.js";
import type { ExposureConfig } from "./exposure.js";
import type { TargetKind } from "./target.js";
import { evenWithOtherProblems, required, unknownChoice } from "./values.js";

/**
 * The optional Azure Data Factory with a sample pipeline that calls the API (`dataFactory` and the keys
 * that go with it; they mean nothing while it is off).
 */

export interface DataFactoryContext {
  targetKind: TargetKind | undefined;
  /** The stack's location (undefined when the target's keys were refused). */
  location: string | undefined;
  exposure: ExposureConfig | undefined;
  /** authMode and entraAllowedCallers, as typed. */
  authMode: unknown;
  entraAllowedCallers: unknown;
}

export function dataFactorySchema({ targetKind, location, exposure, authMode, entraAllowedCallers }: DataFactoryContext) {
  const callers = typeof entraAllowedCallers === "string" ? commaList.parse(entraAllowedCallers) : [];
  return z.discriminatedUnion(
    "dataFactory",
    [
      z
        .object({ dataFactory: z.literal("false").optional() })
        .superRefine((_, ctx) => {
          // Without a factory, no managed identity is added to the callers: a token of the tenant for the
          // audience is not enough on its own.
          if (authMode === "entra" && callers.length === 0) {
            ctx.addIssue({ code: "custom", path: ["entraAllowedCallers"], message: "is required when authMode is entra and dataFactory is off (the object ids allowed to call)" });
          }
        })
        .transform(() => undefined),
      z
        .object({
          dataFactory: z.literal("true"),
          dataFactoryName: z.string().optional(),
          // Unset: the group the stack creates (target new) or clusterResourceGroup (existing), see program.ts.
          dataFactoryResourceGroup:
            targetKind === "kubeconfig"
              ? required("when dataFactory is on with target kubeconfig (an existing resource group for the factory)")
              : z.string().optional(),
          dataFactoryLocation: z.string().optional(),
        })
        .superRefine((_, ctx) => {
          if (exposure?.mode !== "cluster") return;
          ctx.addIssue({
            code: "custom",
            path: ["dataFactory"],
            message: "the sample pipeline calls the API from Azure and needs a public endpoint: set exposure to https (or loadbalancer)",
          });
        }, evenWithOtherProblems)
        .transform((keys) => ({
          name: keys.dataFactoryName,
          resourceGroupName: keys.dataFactoryResourceGroup,
          // Unset: the stack's location (the key, whatever the cluster's region).
          location: keys.dataFactoryLocation ?? location ?? "",
        })),
    ],
    unknownChoice(trueOrFalse),
  );
}

export type DataFactoryConfig = NonNullable<z.output<ReturnType<typeof dataFactorySchema>>>;
