/**
 * Merging a k3s server's kubeconfig (/etc/rancher/k3s/k3s.yaml: cluster, user and context all
 * named "default", server https://127.0.0.1:6443) into the user's kubeconfig as ONE named
 * context: our cluster, user and context take the name given, the server address is rewritten,
 * and every other entry (other clusters, users, contexts, preferences, extensions) is left as
 * it was. A merge that changes nothing reports "unchanged" (and the file is not rewritten).
 */
import { parse, stringify } from "yaml";
import { UserError } from "../errors.ts";

type Mapping = Record<string, unknown>;
interface Named {
  name: string;
  [key: string]: unknown;
}

/** The three entries one cluster brings. */
export interface ClusterEntries {
  cluster: Named;
  user: Named;
  context: Named;
}

export type MergeAction = "added" | "updated" | "unchanged";

export interface MergeResult {
  text: string;
  action: MergeAction;
}

function isMapping(v: unknown): v is Mapping {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function namedList(doc: Mapping, key: string, where: string): Named[] {
  const list = doc[key] ?? [];
  if (!Array.isArray(list) || !list.every((e) => isMapping(e) && typeof e.name === "string")) {
    throw new UserError(`${where}: "${key}" is not a list of named entries`, { hint: "Fix the file (kubectl config view shows what kubectl reads) or pass another one with --kubeconfig." });
  }
  return list as Named[];
}

function parseDoc(text: string, where: string): Mapping {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new UserError(`${where} is not valid YAML: ${(e as Error).message.split("\n")[0]}`, { hint: "Fix the file or move it away; it was not changed." });
  }
  if (doc === null || doc === undefined) return {};
  if (!isMapping(doc)) throw new UserError(`${where} is not a kubeconfig (its top level is not a mapping)`, { hint: "Fix the file or move it away; it was not changed." });
  return doc;
}

/** The cluster, user and context of a server's kubeconfig, renamed to `name`, pointing at `server`. */
export function clusterEntries(serverKubeconfig: string, name: string, server: string, where = "the server's kubeconfig"): ClusterEntries {
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(name)) {
    throw new UserError(`The context name "${name}" is not usable`, { hint: "Use letters, digits and . _ @ - (k3s_kubeconfig_context / --context)." });
  }
  if (!/^https:\/\/[^\s/]+$/.test(server)) {
    throw new UserError(`The server address "${server}" is not https://host:port`, { hint: "Give the API address as https://<address>:6443 (k3s_api_address / --server)." });
  }
  const doc = parseDoc(serverKubeconfig, where);
  const contexts = namedList(doc, "contexts", where);
  const current = typeof doc["current-context"] === "string" ? doc["current-context"] : undefined;
  const context = contexts.find((c) => c.name === current) ?? contexts[0];
  const ref = isMapping(context?.context) ? context.context : undefined;
  const cluster = namedList(doc, "clusters", where).find((c) => c.name === ref?.cluster);
  const user = namedList(doc, "users", where).find((u) => u.name === ref?.user);
  if (!context || !ref || !cluster || !user || !isMapping(cluster.cluster)) {
    throw new UserError(`${where} has no complete context (cluster, user and context)`, { hint: "Is k3s running on the server? It writes /etc/rancher/k3s/k3s.yaml at start." });
  }
  return {
    cluster: { ...cluster, name, cluster: { ...cluster.cluster, server } },
    user: { ...user, name },
    context: { ...context, name, context: { ...ref, cluster: name, user: name } },
  };
}

function upsert(list: Named[], entry: Named): "added" | "updated" | "unchanged" {
  const at = list.findIndex((e) => e.name === entry.name);
  if (at < 0) {
    list.push(entry);
    return "added";
  }
  if (JSON.stringify(list[at]) === JSON.stringify(entry)) return "unchanged";
  list[at] = entry;
  return "updated";
}

/**
 * Merges `entries` into the kubeconfig text `existing` (undefined: no file yet). Only the
 * entries named like ours are replaced; current-context is set only when there is none.
 */
export function mergeKubeconfig(existing: string | undefined, entries: ClusterEntries, where = "the kubeconfig"): MergeResult {
  const doc: Mapping = existing === undefined ? {} : parseDoc(existing, where);
  const lists = {
    clusters: namedList(doc, "clusters", where),
    users: namedList(doc, "users", where),
    contexts: namedList(doc, "contexts", where),
  };
  const actions = [upsert(lists.clusters, entries.cluster), upsert(lists.users, entries.user), upsert(lists.contexts, entries.context)];
  const noCurrent = typeof doc["current-context"] !== "string" || doc["current-context"] === "";
  if (actions.every((a) => a === "unchanged") && !noCurrent && existing !== undefined) return { text: existing, action: "unchanged" };
  const out: Mapping = { apiVersion: "v1", kind: "Config", preferences: {}, ...doc, ...lists };
  if (noCurrent) out["current-context"] = entries.context.name;
  // Said of the context: a new one is "added", one whose entries changed "updated".
  const action: MergeAction = actions[2] === "added" ? "added" : "updated";
  return { text: stringify(out), action };
}
