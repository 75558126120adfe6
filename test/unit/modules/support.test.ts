/**
 * The pure helpers under the file modules: modes, shlex splitting, Python regex translation,
 * the probe's parser (round trip through formatFileProbe), validate's quoting, and the
 * lineinfile/blockinfile algorithms on cases from Ansible's documentation.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { parseMode } from "../../../scripts/lib/modules/support/mode.ts";
import { splitArgs } from "../../../scripts/lib/modules/support/shlex.ts";
import { expandTemplate, pyRegex } from "../../../scripts/lib/modules/support/pyregex.ts";
import { formatFileProbe, parseFileProbe, planAttributes, validateCommand, writeFileCommand } from "../../../scripts/lib/modules/remote-file.ts";
import { absentLines, presentLines } from "../../../scripts/lib/modules/lineinfile.ts";
import { editBlock } from "../../../scripts/lib/modules/blockinfile.ts";
import { checksumFromFile, urlFilename } from "../../../scripts/lib/modules/get_url.ts";
import { globExists } from "../../../scripts/lib/modules/support/run-command.ts";

describe("parseMode", () => {
  const cases: Array<[string | number, string | undefined, string]> = [
    ["0644", undefined, "0644"],
    ["644", undefined, "0644"],
    ["0o755", undefined, "0755"],
    [420, undefined, "0644"], // YAML 1.1 reads 0644 as 420
    [644, undefined, "1204"], // ...and 644 as decimal, exactly as Ansible then applies it
    ["u=rw,g=r,o=r", undefined, "0644"],
    ["u+x", "0644", "0744"],
    ["go-rwx", "0755", "0700"],
    ["a+X", "0644", "0644"],
    ["u=rwx,g=rxs,o=", undefined, "2750"],
    ["+t", "0777", "1777"],
  ];
  for (const [input, current, want] of cases) {
    test(`${JSON.stringify(input)}${current ? ` on ${current}` : ""} -> ${want}`, () => assert.equal(parseMode(input, current), want));
  }
  test("X adds execute on directories", () => assert.equal(parseMode("a+X", "0644", true), "0755"));
  test("rejects nonsense", () => assert.throws(() => parseMode("rw-r--r--"), /Invalid mode/));
  test("rejects numbers above 07777", () => assert.throws(() => parseMode(99999), /Invalid mode/));
});

describe("splitArgs (shlex)", () => {
  test("quotes and escapes", () => assert.deepEqual(splitArgs(`echo "a b" 'c d' e\\ f "x\\"y" ''`), ["echo", "a b", "c d", "e f", 'x"y', ""]));
  test("nothing is expanded", () => assert.deepEqual(splitArgs("ls $HOME *.txt | wc"), ["ls", "$HOME", "*.txt", "|", "wc"]));
  test("unclosed quote is a user error", () => assert.throws(() => splitArgs(`echo "x`), /Unclosed "/));
});

describe("Python regex translation", () => {
  test("named groups and backreferences", () => {
    const { regex } = pyRegex("^(?P<key>\\w+)=(?P=key)$");
    assert.ok(regex.test("a=a"));
    assert.ok(!regex.test("a=b"));
  });
  test("inline flags at the start", () => {
    assert.ok(pyRegex("(?i)^port").regex.test("Port 22"));
    assert.equal(pyRegex("(?m)^x").multiline, true);
  });
  test("\\A and \\Z", () => {
    const { regex } = pyRegex("\\Aab\\Z");
    assert.ok(regex.test("ab"));
    assert.ok(!regex.test("ab\n"));
  });
  test("unsupported constructs are refused", () => {
    assert.throws(() => pyRegex("a++"), /Unsupported/);
    assert.throws(() => pyRegex("(?>a)"), /Unsupported/);
  });
  test("templates: \\1, \\g<1>, \\g<name>, unmatched group is empty", () => {
    const m = /(?<k>a)(b)?(c)/.exec("ac")!;
    assert.equal(expandTemplate("\\1-\\g<3>-\\g<k>-[\\2]\\n", m), "a-c-a-[]\n");
    assert.throws(() => expandTemplate("\\9", m), /invalid group reference/);
  });
});

describe("file probe", () => {
  test("round trip, content with anything in it", () => {
    const content = "line\nf.stat fake|0|x\n\u0000binary?";
    const text = "noise before\n" + formatFileProbe({ content: "text with f.absent\nand more\n", mode: "0600", owner: "pi", uid: 1000 }, "f") + formatFileProbe({ content: Buffer.from(content) }, "g");
    const f = parseFileProbe(text, "f");
    assert.equal(f.exists, true);
    assert.equal(f.type, "file");
    assert.equal(f.mode, "0600");
    assert.equal(f.owner, "pi");
    assert.equal(f.uid, 1000);
    assert.equal(f.content, "text with f.absent\nand more\n");
    assert.match(f.sha1 ?? "", /^[0-9a-f]{40}$/);
    const g = parseFileProbe(text, "g");
    assert.ok(g.content instanceof Uint8Array, "binary content stays bytes");
    assert.equal(Buffer.from(g.content as Uint8Array).toString(), content);
  });
  test("absent and links", () => {
    assert.equal(parseFileProbe("f.absent\n").exists, false);
    const l = parseFileProbe(formatFileProbe({ type: "link", linkTarget: "../x y" }));
    assert.equal(l.type, "link");
    assert.equal(l.linkTarget, "../x y");
  });
  test("attribute planning names every change", () => {
    const st = parseFileProbe(formatFileProbe({ mode: "0644", owner: "root", group: "root", uid: 0, gid: 0 }));
    const a = planAttributes(st, { mode: "0600", owner: 0, group: "pi" });
    assert.deepEqual(a.changes, ["mode changed 0644 -> 0600", "group changed root -> pi"]);
  });
});

describe("atomic write command", () => {
  test("validate is split and quoted, %s becomes the temp file", () => {
    assert.equal(validateCommand("visudo -cf %s"), `visudo -cf "$t"`);
    assert.equal(validateCommand("sh -c 'test -s %s; echo $x'"), `sh -c 'test -s '"$t"'; echo $x'`);
    assert.throws(() => validateCommand("visudo -c"), /must contain %s/);
  });
  test("secrets: the same path as plain content, only a new file's mode differs", () => {
    const secret = writeFileCommand("/etc/k3s/token", { secret: true });
    const plain = writeFileCommand("/etc/k3s/token");
    assert.ok(secret.includes(`chmod --reference="$p" "$t"`), "an existing file keeps its mode, secret or not");
    assert.ok(!secret.includes("0666 & ~m") && plain.includes("0666 & ~m"), "a new secret file stays 0600");
    const same = (cmd: string) => cmd.split("\n").filter((l) => !l.includes("0666 & ~m") && l !== "fi");
    assert.deepEqual(same(secret), same(plain));
  });
  test("chmod/chown before the rename, rename last", () => {
    const cmd = writeFileCommand("/a b/c'd", { mode: "0640", owner: "pi", group: "adm", backup: true });
    assert.ok(cmd.includes(`p='/a b/c'\\''d'`));
    const order = ["mktemp", "read -r n h", "cat >", "sha1sum", "chown -- pi:adm", "chmod 0640", "cp -p", "sync --", "mv -f"].map((s) => cmd.indexOf(s));
    assert.deepEqual([...order].sort((x, y) => x - y), order, cmd);
    assert.ok(order.every((i) => i >= 0));
  });
});

describe("lineinfile algorithm (Ansible's)", () => {
  const present = (before: string, args: Record<string, unknown>) => presentLines(before, { path: "/f", ...args } as never);
  test("regexp replaces the last match", () => assert.deepEqual(present("a=1\nb\na=2\n", { regexp: "^a=", line: "a=9" }), { after: "a=1\nb\na=9\n", msg: "line replaced" }));
  test("exact line present: nothing", () => assert.deepEqual(present("x\ny\n", { line: "x" }), { after: "x\ny\n", msg: "" }));
  test("regexp misses but the line exists: nothing (no duplicate)", () => assert.equal(present("x\n", { regexp: "^nomatch", line: "x" }).msg, ""));
  test("insertafter the LAST match", () => assert.equal(present("[a]\n[a]\nz\n", { insertafter: "^\\[a\\]", line: "k" }).after, "[a]\n[a]\nk\nz\n"));
  test("insertafter firstmatch", () => assert.equal(present("[a]\n[a]\nz\n", { insertafter: "^\\[a\\]", line: "k", firstmatch: true }).after, "[a]\nk\n[a]\nz\n"));
  test("insertafter: already right after the anchor", () => assert.equal(present("[a]\nk\n", { insertafter: "^\\[a\\]", line: "k" }).msg, ""));
  test("insertbefore: before the last match", () => assert.equal(present("x\n[b]\n", { insertbefore: "^\\[b\\]", line: "k" }).after, "x\nk\n[b]\n"));
  test("empty file", () => assert.equal(present("", { line: "k" }).after, "k\n"));
  test("absent counts lines", () => assert.deepEqual(absentLines("a\nb\na\n", { path: "/f", line: "a" } as never), { after: "b\n", msg: "2 line(s) removed", found: 2 }));
});

describe("blockinfile algorithm (Ansible's)", () => {
  const edit = (before: string | undefined, args: Record<string, unknown>) => editBlock(before, { path: "/f", ...args } as never);
  test("re-run is a no-op", () => {
    const once = edit("a\n", { block: "x\ny" }).after;
    assert.deepEqual(edit(once, { block: "x\ny" }), { after: once, msg: "" });
  });
  test("empty block removes the block", () => assert.equal(edit("a\n# BEGIN ANSIBLE MANAGED BLOCK\nx\n# END ANSIBLE MANAGED BLOCK\n", { block: "" }).after, "a\n"));
  test("missing file is created with the block", () => assert.deepEqual(edit(undefined, { block: "x" }), { after: "# BEGIN ANSIBLE MANAGED BLOCK\nx\n# END ANSIBLE MANAGED BLOCK\n", msg: "File created" }));
  test("insertbefore a regex that does not match appends at the end", () => assert.equal(edit("a\n", { block: "x", insertbefore: "^nope" }).after, "a\n# BEGIN ANSIBLE MANAGED BLOCK\nx\n# END ANSIBLE MANAGED BLOCK\n"));
  test("(?m) insertafter searches the whole text, block goes after the matched line", () => assert.equal(edit("a\nb\n", { block: "x", insertafter: "(?m)^a$" }).after, "a\n# BEGIN ANSIBLE MANAGED BLOCK\nx\n# END ANSIBLE MANAGED BLOCK\nb\n"));
  test("prepend_newline and append_newline", () => assert.equal(edit("a\nb\n", { block: "x", insertafter: "^a", prepend_newline: true, append_newline: true }).after, "a\n\n# BEGIN ANSIBLE MANAGED BLOCK\nx\n# END ANSIBLE MANAGED BLOCK\n\nb\n"));
});

describe("get_url helpers", () => {
  test("url file name", () => {
    assert.equal(urlFilename("https://github.com/k3s-io/k3s/releases/download/v1.30.0%2Bk3s1/k3s-arm64?x=1"), "k3s-arm64");
    assert.equal(urlFilename("https://example.org/"), "index.html");
  });
  test("checksum files", () => {
    const sums = "aaa  other.bin\nBBB *k3s-arm64\nccc  ./k3s\n";
    assert.equal(checksumFromFile(sums, "k3s-arm64"), "bbb");
    assert.equal(checksumFromFile(sums, "k3s"), "ccc");
    assert.equal(checksumFromFile("deadbeef\n", "anything"), "deadbeef");
    assert.equal(checksumFromFile(sums, "missing"), undefined);
  });
});

describe("creates/removes globs", () => {
  test("the pattern is only ever a quoted value, expanded from a variable", () => {
    assert.equal(globExists("/opt/my app/*.conf", "t"), `g='/opt/my app/*.conf'; IFS=''; set +f; for f in $g; do [ -e "$f" ] && { echo t; break; }; done`);
    assert.ok(globExists("/x/[$(reboot)]'`", "t").startsWith(`g='/x/[$(reboot)]'\\''\`'; `));
  });
});
