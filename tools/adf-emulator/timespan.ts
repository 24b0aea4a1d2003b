/** Time spans as ADF writes them (`d.hh:mm:ss`), and durations as people read them. */

const TIMESPAN = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/;

/** Parses `hh:mm:ss`, `d.hh:mm:ss` or either with fractional seconds (`00:00:00.5`) into ms, as .NET's TimeSpan. */
export function parseTimespan(text: string): number {
  const m = TIMESPAN.exec(text.trim());
  if (!m) throw new RangeError(`"${text}" is not a timespan: use hh:mm:ss or d.hh:mm:ss (e.g. 00:10:00, 1.00:00:00, 00:00:01.5)`);
  const [, d, h, min, s, frac] = m;
  const days = Number(d ?? 0);
  const hours = Number(h);
  const minutes = Number(min);
  const seconds = Number(s);
  if (hours > 23 || minutes > 59 || seconds > 59) {
    throw new RangeError(`"${text}" is not a timespan: hours must be 0-23, minutes and seconds 0-59`);
  }
  const fraction = frac ? Number(`0.${frac}`) : 0;
  const ms = Math.round((((days * 24 + hours) * 60 + minutes) * 60 + seconds + fraction) * 1000);
  if (ms <= 0) throw new RangeError(`"${text}" is not a usable timeout: it must be longer than zero`);
  return ms;
}

/** Formats ms back into ADF's timespan notation (`00:10:00`, `1.02:03:04`, `00:00:01.5`). */
export function formatTimespan(ms: number): string {
  const totalSeconds = Math.floor(ms / 1000);
  const fraction = ms % 1000;
  const days = Math.floor(totalSeconds / 86_400);
  const pad = (n: number) => String(n).padStart(2, "0");
  const hms = `${pad(Math.floor(totalSeconds / 3600) % 24)}:${pad(Math.floor(totalSeconds / 60) % 60)}:${pad(totalSeconds % 60)}`;
  const frac = fraction ? `.${String(fraction).padStart(3, "0").replace(/0+$/, "")}` : "";
  return `${days ? `${days}.` : ""}${hms}${frac}`;
}

/** A duration for people: `12 ms`, `1.53 s`, `1 min 30.5 s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms - minutes * 60_000) / 100) / 10;
  return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
}
