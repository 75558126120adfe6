/**
 * Splits a command line into words the way Python's shlex.split (POSIX mode) does, which is
 * what Ansible's command module and `validate:` use: quotes group, backslash escapes, no
 * expansion of any kind. We split, then re-quote every word, so the remote shell never
 * expands anything the user did not mean to be literal.
 */
import { UserError } from "../../errors.ts";

/** @example splitArgs(`echo "a b" 'c'`) // ["echo", "a b", "c"] */
export function splitArgs(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw unclosed(line, "'");
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      inWord = true;
      for (;;) {
        if (i >= line.length) throw unclosed(line, '"');
        const d = line[i];
        if (d === '"') break;
        // Inside double quotes a backslash only escapes these (POSIX shlex).
        if (d === "\\" && i + 1 < line.length && '\\"$`\n'.includes(line[i + 1])) {
          word += line[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      i++;
    } else if (c === "\\") {
      if (i + 1 < line.length) word += line[i + 1];
      inWord = true;
      i += 2;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function unclosed(line: string, quoteChar: string): UserError {
  return new UserError(`Unclosed ${quoteChar} in command ${JSON.stringify(line)}`, {
    hint: "close the quote, or use `argv:` to give the words as a list",
  });
}
