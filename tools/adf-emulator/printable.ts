/**
 * What a server sent, made safe to print on a terminal. An endpoint or a callback controls the error
 * codes, messages, bodies, status texts and headers the emulator prints; written raw, a control
 * sequence in them moves the cursor and rewrites lines already printed (ESC[1A ESC[2K turns "Failed"
 * into "Succeeded"), or reaches the terminal itself (OSC 52 writes the clipboard). So every control
 * character is shown as a visible escape instead: C0 (ESC, BEL, CR…), DEL, C1 (a UTF-8 terminal may
 * read U+009B as CSI), and the Unicode format characters that reorder or break a line (bidi overrides,
 * line and paragraph separators). Tab is kept; newline is kept only where the text may span lines.
 */

const CONTROLS = "\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069";
const IN_TEXT = new RegExp(`[${CONTROLS}]`, "g");
const IN_LINE = new RegExp(`[\\n${CONTROLS}]`, "g");

function visible(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Text for one line: every control character, newline included, as a visible escape (`\x1b`, `\u202e`). */
export function printableLine(text: string): string {
  return text.replace(IN_LINE, visible);
}

/** Text that may span lines: as printableLine, but newlines stay. */
export function printableText(text: string): string {
  return text.replace(IN_TEXT, visible);
}
