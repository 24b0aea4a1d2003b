/** How ADF reads a Webhook activity's callback body, with or without `reportStatusOnCallBack`. */
import { isObject, type ActivityResult } from "./activity";

/** Interprets a callback body as ADF does, with or without `reportStatusOnCallBack`. */
export function interpretCallback(
  body: unknown,
  reportStatusOnCallback: boolean,
): Pick<ActivityResult, "status" | "error" | "output"> {
  if (!reportStatusOnCallback) return { status: "Succeeded", output: body };
  if (!isObject(body)) {
    return {
      status: "Failed",
      error: { errorCode: "InvalidCallback", message: "With reportStatusOnCallBack the callback body must be a JSON object." },
    };
  }
  const output = body.Output;
  const raw = body.StatusCode;
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
    const error = isObject(body.Error) ? body.Error : {};
    return {
      status: "Failed",
      output,
      error: {
        errorCode: error.ErrorCode !== undefined ? String(error.ErrorCode) : String(statusCode),
        message: error.Message !== undefined ? String(error.Message) : `The callback reported StatusCode ${statusCode}.`,
      },
    };
  }
  return { status: "Succeeded", output };
}
