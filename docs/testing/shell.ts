/**
 * Just enough of POSIX shell syntax to read the commands in the guides' fenced blocks: quotes, `\`
 * escapes and line continuations, `$(...)`, `${...}`, `$VAR` and backticks (a word holding one is
 * `dynamic`: its value is only known when it runs), comments, `&&`, `||`, `;`, `|`, `&`, subshell
 * parentheses and redirections (their targets dropped). Nothing is expanded or run.
 */

export interface Word {
  /** The word with quotes and escapes removed; substitutions kept as written. */
  text: string;
  /** It holds a substitution or a variable, so its value is decided when it runs. */
  dynamic: boolean;
}

export interface Command {
  words: Word[];
  /** 1-based line of the command's first word, in the source given to `parseShell` plus `firstLine - 1`. */
  line: number;
}

/** The commands of a shell script, in order. */
export function parseShell(source: string, firstLine = 1): Command[] {
  const commands: Command[] = [];
  let words: Word[] = [];
  let text = "";
  let dynamic = false;
  let inWord = false;
  let dropNext = false; // the next word is a redirection's target
  let line = firstLine;
  let commandLine = line;
  let i = 0;

  const endWord = () => {
    if (!inWord) return;
    if (dropNext) dropNext = false;
    else words.push({ text, dynamic });
    text = "";
    dynamic = false;
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push({ words, line: commandLine });
    words = [];
  };
  const startWord = () => {
    if (!inWord) {
      if (words.length === 0 && !dropNext) commandLine = line;
      inWord = true;
    }
  };
  /** From an opening `(` (at `open`), the index just past its matching `)`; quotes inside respected. */
  const skipBalanced = (open: number): number => {
    let depth = 0;
    let j = open;
    while (j < source.length) {
      const c = source[j];
      if (c === "\n") line++;
      if (c === "\\") {
        if (source[j + 1] === "\n") line++;
        j++;
      } else if (c === "'") {
        const end = source.indexOf("'", j + 1);
        j = end < 0 ? source.length : end;
      } else if (c === '"') {
        j++;
        while (j < source.length && source[j] !== '"') j += source[j] === "\\" ? 2 : 1;
      } else if (c === "(") depth++;
      else if (c === ")" && --depth === 0) return j + 1;
      j++;
    }
    return source.length;
  };
  /** A `$` expansion at `i`: appended as written, the word marked dynamic; returns the index after it. */
  const expansion = (at: number): number => {
    const next = source[at + 1];
    let end: number;
    if (next === "(") end = skipBalanced(at + 1);
    else if (next === "{") end = source.indexOf("}", at) < 0 ? source.length : source.indexOf("}", at) + 1;
    else {
      const name = /^([A-Za-z_]\w*|[0-9#?@*$!-])/.exec(source.slice(at + 1));
      if (!name) {
        text += "$";
        return at + 1;
      }
      end = at + 1 + name[0].length;
    }
    text += source.slice(at, end);
    dynamic = true;
    return end;
  };
  const backtick = (at: number): number => {
    const end = source.indexOf("`", at + 1);
    const stop = end < 0 ? source.length : end + 1;
    line += (source.slice(at, stop).match(/\n/g) ?? []).length;
    text += source.slice(at, stop);
    dynamic = true;
    return stop;
  };

  while (i < source.length) {
    const c = source[i];
    if (c === "\\") {
      if (source[i + 1] === "\n") {
        // A line continuation: the command goes on on the next line.
        line++;
        i += 2;
        continue;
      }
      startWord();
      text += source[i + 1] ?? "";
      i += 2;
    } else if (c === "'") {
      startWord();
      const end = source.indexOf("'", i + 1);
      const stop = end < 0 ? source.length : end;
      const quoted = source.slice(i + 1, stop);
      line += (quoted.match(/\n/g) ?? []).length;
      text += quoted;
      i = stop + 1;
    } else if (c === '"') {
      startWord();
      i++;
      while (i < source.length && source[i] !== '"') {
        const d = source[i];
        if (d === "\\" && /["\\$`\n]/.test(source[i + 1] ?? "")) {
          if (source[i + 1] === "\n") line++;
          else text += source[i + 1];
          i += 2;
        } else if (d === "$") i = expansion(i);
        else if (d === "`") i = backtick(i);
        else {
          if (d === "\n") line++;
          text += d;
          i++;
        }
      }
      i++;
    } else if (c === "$") {
      startWord();
      i = expansion(i);
    } else if (c === "`") {
      startWord();
      i = backtick(i);
    } else if (c === "#" && !inWord) {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (c === " " || c === "\t") {
      endWord();
      i++;
    } else if (c === "\n") {
      endCommand();
      line++;
      i++;
    } else if (c === ";" || c === "&" || c === "|" || c === "(" || c === ")") {
      endCommand();
      i++;
    } else if (c === ">" || c === "<") {
      // A redirection: a file descriptor number before it is part of it, and its target is no argument.
      if (inWord && /^\d+$/.test(text) && !dynamic) {
        text = "";
        inWord = false;
      } else endWord();
      while (source[i] === ">" || source[i] === "<") i++;
      if (source[i] === "&") {
        i++;
        while (/\d|-/.test(source[i] ?? "")) i++;
      } else dropNext = true;
    } else {
      startWord();
      text += c;
      i++;
    }
  }
  endCommand();
  return commands;
}
