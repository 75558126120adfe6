/**
 * Templates nested in list and dict variables render when the variable is used, wherever: a
 * {% for %}, a filter (to_json, join, map), an index, a lookup, dict methods (Ansible templates
 * a variable whole on access, recursively).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Templar } from "../../../scripts/lib/template/templar.ts";
import { createHostvars } from "../../../scripts/lib/template/hostvars.ts";

const vars = {
  ntp_area: "",
  ntp_servers: ["0{{ '.' + ntp_area if ntp_area else '' }}.pool.ntp.org iburst", "1.{{ ntp_domain }} iburst"],
  ntp_domain: "pool.ntp.org",
  sysctl: { "net.ipv4.ip_forward": "{{ 1 if forward else 0 }}", nested: { list: ["{{ ntp_domain | upper }}"] } },
  forward: true,
};

test("the NTP role's servers: pool 0.pool.ntp.org iburst", () => {
  const t = new Templar(vars);
  assert.equal(t.renderText("{% for s in ntp_servers %}pool {{ s }}\n{% endfor %}", "ntp.conf.j2"), "pool 0.pool.ntp.org iburst\npool 1.pool.ntp.org iburst\n");
});

test("through filters, indexes, lookups and dict methods", () => {
  const t = new Templar(vars);
  assert.equal(t.render("{{ ntp_servers | to_json }}"), '["0.pool.ntp.org iburst", "1.pool.ntp.org iburst"]');
  assert.equal(t.render("{{ ntp_servers | join(',') }}"), "0.pool.ntp.org iburst,1.pool.ntp.org iburst");
  assert.match(String(t.render("{{ sysctl | to_yaml }}")), /net\.ipv4\.ip_forward: 1\n[\s\S]*POOL\.NTP\.ORG/);
  assert.equal(t.render("{{ sysctl.nested.list[0] }}"), "POOL.NTP.ORG");
  assert.deepEqual(t.render("{{ query('items', ntp_servers) }}"), ["0.pool.ntp.org iburst", "1.pool.ntp.org iburst"]);
  assert.equal(t.render("{% for k, v in sysctl.items() %}{{ k }}={{ v }};{% endfor %}"), "net.ipv4.ip_forward=1;nested={'list': ['POOL.NTP.ORG']};");
  assert.deepEqual(t.render("{{ sysctl | dict2items | map(attribute='value') | list }}"), [1, { list: ["POOL.NTP.ORG"] }]);
});

test("another host's nested templates render in that host's context", () => {
  const hv = createHostvars(["pi-1"], () => ({ ...vars, ntp_area: "europe" }));
  assert.equal(new Templar({ ...vars, hostvars: hv }).render("{{ hostvars['pi-1'].ntp_servers | first }}"), "0.europe.pool.ntp.org iburst");
});

test("a nested template that refers to its own variable is a recursion error, not a hang", () => {
  assert.throws(() => new Templar({ l: ["{{ l | length }}"] }).render("{{ l | to_json }}"), /Recursive loop detected in variable "l"/);
});

test("values without templates are returned as they are (no copy)", () => {
  const list = [{ a: 1 }, "plain"];
  const t = new Templar({ list });
  assert.equal(t.lookup("list"), list);
});
