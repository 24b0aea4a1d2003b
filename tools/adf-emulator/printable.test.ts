import assert from "node:assert/strict";

import { printableLine, printableText } from "./printable.js";

describe("ADF emulator: printable text", () => {
  it("shows every control character as a visible escape, keeping tab, and newline where text spans lines", () => {
    assert.equal(printableLine("a\x1b[1A\x1b[2Kb\x07\r\n\tc"), "a\\x1b[1A\\x1b[2Kb\\x07\\x0d\\x0a\tc");
    assert.equal(printableText("a\x1b[1A\nb\tc"), "a\\x1b[1A\nb\tc");
    assert.equal(printableLine("\x00\x7f\x80\x9b\x9f"), "\\x00\\x7f\\x80\\x9b\\x9f", "NUL, DEL and C1 (U+009B is CSI)");
    assert.equal(printableLine("\u202egnp.exe \u2066x\u2069 \u200e\u200f\u061c \u2028\u2029"), "\\u202egnp.exe \\u2066x\\u2069 \\u200e\\u200f\\u061c \\u2028\\u2029");
  });

  it("leaves everything else as it is, non-Latin text and emoji included", () => {
    const text = 'Hello, "world" \\ 100 % — Grüße, こんにちは, 🙂 ¡ÿ';
    assert.equal(printableLine(text), text);
    assert.equal(printableText(text), text);
  });
});
