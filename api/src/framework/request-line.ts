import { pino } from "pino";

import type { Logger } from "./logging.js";

/** Writes the one log line of a request: `request` with its id, method, route, status and duration. */
export type RequestLineWriter = (level: "info" | "debug", reqId: string, method: string, route: string, status: number, durationMs: number) => void;

// pino's API for "performant integration" (its docs): the logger's own state, by symbol. `msgPrefixSym`
// is there at run time but missing from the type.
const sym = pino.symbols as unknown as Record<string, symbol>;

const FIELDS = ["reqId", "method", "route", "status", "durationMs"] as const;

/** What the line reads of a pino logger, each time (a child's bindings can change after this is made). */
interface PinoInternals {
  [key: symbol]: unknown;
}
const levelPrefix = (logger: PinoInternals, level: number) => (logger[sym.lsCacheSym!] as Record<number, string>)[level]!;
const time = (logger: PinoInternals) => (logger[sym.timeSym!] as () => string)();
const bindings = (logger: PinoInternals) => logger[sym.chindingsSym!] as string;
const lineEnd = (logger: PinoInternals) => logger[sym.endSym!] as string;
const destination = (logger: PinoInternals) => logger[sym.streamSym!] as { write(line: string): void; [key: symbol]: unknown };

/**
 * The request line, byte for byte what `logger[level]({ reqId, method, route, status, durationMs },
 * "request")` writes, made as one template string: pino's generic path (a field object, its keys walked,
 * each checked for serializers, redaction and formatters) was about 15% of a request's cost, for a line
 * whose five fields are always the same plain strings and numbers. Same level, time, bindings and
 * destination as the logger's, so its order among other lines is kept; a test compares the two for
 * arbitrary values (lone surrogates aside, which none of these fields can hold, and which JSON.stringify
 * escapes where pino writes them raw). A logger with pino features this line does not reproduce (a
 * mixin, hooks, a message prefix or key, a multistream, a serializer, redaction or a formatter touching
 * these fields) gets the generic call.
 */
export function requestLineWriter(logger: Logger): RequestLineWriter {
  const internals = logger as unknown as PinoInternals;
  if (!plain(internals)) {
    return (level, reqId, method, route, status, durationMs) => logger[level]({ reqId, method, route, status, durationMs }, "request");
  }
  const { values } = logger.levels;
  const stream = destination(internals);
  return (level, reqId, method, route, status, durationMs) => {
    const num = values[level]!;
    // The logger's level now (tests and operators may change it at run time), as pino's own methods check it.
    if (num < logger.levelVal) return;
    stream.write(
      `${levelPrefix(internals, num)}${time(internals)}${bindings(internals)},"reqId":${JSON.stringify(reqId)},"method":${JSON.stringify(method)},"route":${JSON.stringify(route)},"status":${jsonNumber(status)},"durationMs":${jsonNumber(durationMs)},"msg":"request"${lineEnd(internals)}`,
    );
  };
}

/** Whether the logger uses nothing that would make pino's line differ from this one. */
function plain(logger: PinoInternals): boolean {
  const hooks = logger[sym.hooksSym!] as { streamWrite?: unknown; logMethod?: unknown };
  const { log } = logger[sym.formattersSym!] as { log?: (fields: object) => unknown };
  const serializers = logger[sym.serializersSym!] as Record<string, unknown>;
  const stringifiers = logger[sym.stringifiersSym!] as Record<string, unknown>;
  const sample = { reqId: "r", method: "GET", route: "/", status: 200, durationMs: 1 };
  return (
    logger[sym.mixinSym!] === undefined &&
    logger[sym.msgPrefixSym!] === undefined &&
    logger[sym.messageKeySym!] === "msg" &&
    hooks.streamWrite === undefined &&
    hooks.logMethod === undefined &&
    destination(logger)[sym.needsMetadataGsym!] !== true &&
    FIELDS.every((key) => serializers[key] === undefined && stringifiers[key] === undefined) &&
    (log === undefined || log(sample) === sample)
  );
}

/** A number as pino writes it: non-finite numbers are `null`. */
function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : "null";
}
