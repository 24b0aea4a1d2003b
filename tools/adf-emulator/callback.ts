/**
 * How ADF reads a Webhook activity's callback body. ADF is a .NET service: field names are matched
 * without regard to case (`statusCode` is `StatusCode`), and a callback with no usable body still
 * completes the activity.
 */
import { isObject, type ActivityResult } from "./activity.js";

/** A field of `body` by name, compared without regard to case (an exact match wins). */
export function field(body: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(body, name)) return body[name];
  const lower = name.toLowerCase();
  const key = Object.keys(body).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : body[key];
}

/**
 * Interprets a callback body (parsed JSON, else its text, else undefined when empty) as ADF does.
 * - Without `reportStatusOnCallBack` any callback succeeds, and the whole body is the output.
 * - With it, `StatusCode` >= 400 fails the activity with `Error.ErrorCode` and `Error.Message`, and
 *   `Output` is the output; each is read only when present, so a body without them (empty, text, or
 *   JSON without those fields) succeeds.
 */
export function interpretCallback(
  body: unknown,
  reportStatusOnCallback: boolean,
): Pick<ActivityResult, "status" | "error" | "output"> {
  if (!reportStatusOnCallback) return { status: "Succeeded", output: body };
  if (!isObject(body)) return { status: "Succeeded" };
  const output = field(body, "Output");
  const raw = field(body, "StatusCode");
  let statusCode = 200;
  if (raw !== undefined && raw !== null) {
    statusCode = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
    if (!Number.isFinite(statusCode)) {
      return {
        status: "Failed",
        output,
        error: { errorCode: "InvalidCallback", message: `The callback's StatusCode ${JSON.stringify(raw)} is not a number.` },
      };
    }
  }
  if (statusCode >= 400) {
    const error = field(body, "Error");
    const errorCode = isObject(error) ? field(error, "ErrorCode") : undefined;
    const message = isObject(error) ? field(error, "Message") : undefined;
    return {
      status: "Failed",
      output,
      error: {
        errorCode: errorCode !== undefined && errorCode !== null ? String(errorCode) : String(statusCode),
        message: message !== undefined && message !== null ? String(message) : `The callback reported StatusCode ${statusCode}.`,
      },
    };
  }
  return { status: "Succeeded", output };
}
