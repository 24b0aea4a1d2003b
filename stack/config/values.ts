import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

import { HOST_LABEL } from "../../api/src/callbacks/addresses.js";

/**
 * The kinds of value the stack's own keys take, besides the API's (whole numbers, true or false, one of a
 * few words, comma-separated lists: api/src/settings.ts, which the stack's keys share).
 */

/** A key that must be set, and when. */
export const required = (when: string) => z.string({ error: `is required ${when}` });

/** A key that means nothing here (another target's or exposure's), refused with why. */
export const refused = (why: string) => z.never({ error: why }).optional();

/** The schemas made by `secret`: what `secretKeys` looks for. */
const secretSchemas = new WeakSet<object>();

/** A secret key (`pulumi config set --secret`): a Pulumi secret, never read in clear and never echoed. */
export const secret = (when = "") => {
  const schema = z.custom<pulumi.Output<string>>((value) => pulumi.Output.isInstance(value), { error: `is required ${when}`.trim() });
  secretSchemas.add(schema);
  return schema;
};

/** The keys of an object schema's shape that are `secret` fields (optional or not). */
export const secretKeys = (shape: Record<string, z.ZodType>): string[] =>
  Object.entries(shape)
    .filter(([, schema]) => secretSchemas.has(schema instanceof z.ZodOptional ? schema.unwrap() : schema))
    .map(([key]) => key);

/** A Kubernetes quantity: 250m, 1, 128Mi, 1Gi. */
export const quantity = z.string().regex(/^\d+(\.\d+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/, "must be a Kubernetes quantity such as 250m, 1, 128Mi or 1Gi");

/** A DNS label (RFC 1123): a namespace or an object name that must be one. */
export const dnsLabel = z.string().regex(HOST_LABEL, "must be a DNS label (lower-case letters, digits and '-')");

/** A DNS subdomain (RFC 1123): most Kubernetes object names. */
export const objectName = (what: string) => z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, `must be a Kubernetes ${what} name`);

/**
 * For a rule between keys: run it even when another key of the object was refused, so that every problem
 * is reported at once (zod skips a refinement after a problem otherwise). A refused key is then still the
 * text that was typed: the rule checks the type of what it reads.
 */
export const evenWithOtherProblems = { when: () => true };

/**
 * A discriminated union's error for a word it has no branch for: the message of `words`, the schema that
 * names the choices (so the choices and their message are stated once).
 */
export const unknownChoice = (words: z.ZodType) => ({ error: (issue: { input?: unknown }) => words.safeParse(issue.input).error?.issues[0]?.message });
