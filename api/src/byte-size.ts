/**
 * Sizes as the settings write them (`896kb`, `1mb`, `1048576`): k, m and g are powers of 1024, as
 * co-body's limits count them. The settings schema (settings.ts) reads them with it, for the API and the stack alike.
 */

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i;

/** The size in whole bytes, or undefined when `text` is not a size. */
export function parseByteSize(text: string): number | undefined {
  const match = SIZE.exec(text);
  if (!match) return undefined;
  const [, amount, unit = "b"] = match;
  return Math.floor(Number(amount) * BYTE_UNITS[unit.toLowerCase()]!);
}
