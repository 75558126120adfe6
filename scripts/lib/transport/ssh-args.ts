/**
 * Parses the ssh command-line options Ansible users put in ansible_ssh_common_args and
 * ansible_ssh_extra_args: `-o Key=Value` (also `-oKey=Value`, `-o "Key Value"`), `-i file`,
 * `-p port`, `-l user`, `-J jump`, `-F configfile`. Other flags are ignored (they tune the
 * OpenSSH client we do not run). First value wins per option, as in ssh.
 */

/** What the arguments ask for. Option names are lower-case ssh_config keywords. */
export interface SshArgs {
  options: Map<string, string>;
  identityFiles: string[];
  knownHostsFiles: string[];
  port?: number;
  user?: string;
  jump?: string;
  configFile?: string;
  /** -W host:port (stdio forwarding, what a ProxyCommand runs): read only to refuse it. */
  stdioForward?: string;
}

/** Splits a string into words with POSIX-shell-like quoting ('...', "...", backslash). */
export function shellWords(text: string): string[] {
  const out: string[] = [];
  let current = "";
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`Unterminated ' in ssh arguments: ${text}`);
      current += text.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === "\\" && j + 1 < text.length) j++;
        current += text[j];
      }
      if (j >= text.length) throw new Error(`Unterminated " in ssh arguments: ${text}`);
      i = j;
      inWord = true;
    } else if (c === "\\" && i + 1 < text.length) {
      current += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(current);
      current = "";
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (inWord) out.push(current);
  return out;
}

/** Flags of ssh that take a value (so the value is not mistaken for a flag). */
const WITH_VALUE = new Set("BbcDEeFIiJLlmOoPpQRSWw".split(""));

/** Parses ssh arguments (one string, as in the inventory). */
export function parseSshArgs(text: string | undefined): SshArgs {
  const result: SshArgs = { options: new Map(), identityFiles: [], knownHostsFiles: [] };
  if (!text || !text.trim()) return result;
  const argv = shellWords(text);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("-") || arg.length < 2) continue;
    const flag = arg[1];
    let value: string | undefined;
    if (WITH_VALUE.has(flag)) {
      value = arg.length > 2 ? arg.slice(2) : argv[++i];
      if (value === undefined) break;
    }
    switch (flag) {
      case "o": {
        const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(value!);
        if (!m) break;
        const key = m[1].toLowerCase();
        const v = m[2].trim();
        if (key === "identityfile") result.identityFiles.push(v);
        else if (key === "userknownhostsfile") result.knownHostsFiles.push(...shellWords(v));
        else if (!result.options.has(key)) result.options.set(key, v);
        break;
      }
      case "i":
        result.identityFiles.push(value!);
        break;
      case "p":
        result.port ??= Number(value);
        break;
      case "l":
        result.user ??= value;
        break;
      case "J":
        result.jump ??= value;
        break;
      case "F":
        result.configFile ??= value;
        break;
      case "W":
        result.stdioForward ??= value;
        break;
    }
  }
  const port = result.options.get("port");
  if (result.port === undefined && port) result.port = Number(port);
  const user = result.options.get("user");
  if (result.user === undefined && user) result.user = user;
  const jump = result.options.get("proxyjump");
  if (result.jump === undefined && jump) result.jump = jump;
  if (result.port !== undefined && !(Number.isInteger(result.port) && result.port > 0 && result.port < 65536)) {
    throw new Error(`invalid port in ssh arguments: ${text}`);
  }
  return result;
}
