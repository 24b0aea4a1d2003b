/**
 * JSON with every object's keys in sorted order, so equal values always give equal text: a value's
 * meaning, not the order its keys were written in (which no provider or the engine cares about).
 */
export function canonicalJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, item: unknown) => sortedKeys(item), indent);
}

function sortedKeys(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
