#!/usr/bin/python3
# k3s STAND-IN for the pi-cluster-runner lab. NOT A REAL k3s: it runs no kubelet, no
# containerd, no pods. It follows the k3s contract our roles rely on (CLI, config files,
# token files, kubeconfig, the supervisor port 6443 with /cacerts and /ping, node registration,
# `k3s kubectl` for nodes, the datastore) so the roles can be proven in the lab, where no real
# k3s binary can be obtained. What it implements and what not: README.md next to this file.
# Python 3 standard library only (plus the `openssl` command, which Debian's ca-certificates
# pulls in). Delivered to nodes as `k3s` / `k3s-arm64` in an air-gap folder written by
# scripts/lib/lab/k3s-standin/airgap.ts.
import base64
import datetime
import fnmatch
import hashlib
import hmac
import http.server
import json
import os
import platform
import re
import secrets
import signal
import socket
import socketserver
import sqlite3
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

# The air-gap writer replaces these two lines (version of the release it imitates, its arch).
STANDIN_VERSION = "v1.31.4+k3s1"
STANDIN_ARCH = None

STANDIN_MARK = "written by the k3s STAND-IN (pi-cluster-runner lab), not by a real k3s"
GO_VERSION = "go1.22.9"
# Tests shorten these two through the environment; on nodes they are k3s's defaults.
HEARTBEAT_SECONDS = float(os.environ.get("K3S_STANDIN_HEARTBEAT_SECONDS", "10"))
# kube-controller-manager's node-monitor-grace-period: no heartbeat for that long -> NotReady.
NODE_GRACE_SECONDS = float(os.environ.get("K3S_STANDIN_NODE_GRACE_SECONDS", "40"))
RETRY_SECONDS = 2
# Tests on the controller point the stand-in's /etc/rancher elsewhere; on nodes it is unset.
ETC_RANCHER = os.environ.get("K3S_STANDIN_ETC_RANCHER", "/etc/rancher")


class Fatal(Exception):
    """Ends the process with k3s's `level=fatal` line and exit code 1."""


# ---------------------------------------------------------------------------------- logging

LOG_FILE = None


def log(level, msg):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = 'time="%s" level=%s msg=%s component=k3s-standin\n' % (now, level, json.dumps(msg))
    sys.stderr.write(line)
    sys.stderr.flush()
    if LOG_FILE:
        with open(LOG_FILE, "a") as f:
            f.write(line)


def marked(text, comment="#"):
    """A file body with the stand-in's header comment."""
    return "%s %s\n%s" % (comment, STANDIN_MARK, text)


# ------------------------------------------------------------------------------------ flags

# name -> (kind, env var, short alias). kind: str | bool | list. From docs/cli/server.md and
# docs/cli/agent.md (k3s-io/docs); every flag is also a config.yaml key.
COMMON_FLAGS = {
    "config": ("str", "K3S_CONFIG_FILE", "c"),
    "debug": ("bool", "K3S_DEBUG", None),
    "v": ("str", None, None),
    "vmodule": ("str", None, None),
    "log": ("str", None, "l"),
    "alsologtostderr": ("bool", None, None),
    "token": ("str", "K3S_TOKEN", "t"),
    "token-file": ("str", "K3S_TOKEN_FILE", None),
    "server": ("str", "K3S_URL", "s"),
    "data-dir": ("str", "K3S_DATA_DIR", "d"),
    "node-name": ("str", "K3S_NODE_NAME", None),
    "with-node-id": ("bool", None, None),
    "node-label": ("list", None, None),
    "node-taint": ("list", None, None),
    "image-credential-provider-bin-dir": ("str", None, None),
    "image-credential-provider-config": ("str", None, None),
    "selinux": ("bool", "K3S_SELINUX", None),
    "lb-server-port": ("str", "K3S_LB_SERVER_PORT", None),
    "protect-kernel-defaults": ("bool", None, None),
    "docker": ("bool", None, None),
    "container-runtime-endpoint": ("str", None, None),
    "default-runtime": ("str", None, None),
    "image-service-endpoint": ("str", None, None),
    "disable-default-registry-endpoint": ("bool", None, None),
    "nonroot-devices": ("bool", None, None),
    "pause-image": ("str", None, None),
    "snapshotter": ("str", None, None),
    "private-registry": ("str", None, None),
    "node-ip": ("list", None, "i"),
    "node-external-ip": ("list", None, None),
    "node-internal-dns": ("list", None, None),
    "node-external-dns": ("list", None, None),
    "resolv-conf": ("str", "K3S_RESOLV_CONF", None),
    "flannel-iface": ("str", None, None),
    "flannel-conf": ("str", None, None),
    "flannel-cni-conf": ("str", None, None),
    "kubelet-arg": ("list", None, None),
    "kube-proxy-arg": ("list", None, None),
    "enable-pprof": ("bool", None, None),
    "rootless": ("bool", None, None),
    "prefer-bundled-bin": ("bool", None, None),
    "vpn-auth": ("str", "K3S_VPN_AUTH", None),
    "vpn-auth-file": ("str", "K3S_VPN_AUTH_FILE", None),
    "bind-address": ("str", None, None),
    "no-flannel": ("bool", None, None),
    "cluster-secret": ("str", "K3S_CLUSTER_SECRET", None),
}
AGENT_ONLY_FLAGS = {
    "disable-apiserver-lb": ("bool", None, None),
}
SERVER_ONLY_FLAGS = {
    "https-listen-port": ("str", None, None),
    "advertise-address": ("str", None, None),
    "advertise-port": ("str", None, None),
    "tls-san": ("list", None, None),
    "tls-san-security": ("bool", None, None),
    "cluster-cidr": ("list", None, None),
    "service-cidr": ("list", None, None),
    "service-node-port-range": ("str", None, None),
    "cluster-dns": ("list", None, None),
    "cluster-domain": ("str", None, None),
    "flannel-backend": ("str", None, None),
    "flannel-ipv6-masq": ("bool", None, None),
    "flannel-external-ip": ("bool", None, None),
    "egress-selector-mode": ("str", None, None),
    "servicelb-namespace": ("str", None, None),
    "write-kubeconfig": ("str", "K3S_KUBECONFIG_OUTPUT", "o"),
    "write-kubeconfig-mode": ("str", "K3S_KUBECONFIG_MODE", None),
    "write-kubeconfig-group": ("str", "K3S_KUBECONFIG_GROUP", None),
    "helm-job-image": ("str", None, None),
    "agent-token": ("str", "K3S_AGENT_TOKEN", None),
    "agent-token-file": ("str", "K3S_AGENT_TOKEN_FILE", None),
    "cluster-init": ("bool", "K3S_CLUSTER_INIT", None),
    "cluster-reset": ("bool", "K3S_CLUSTER_RESET", None),
    "cluster-reset-restore-path": ("str", None, None),
    "kube-apiserver-arg": ("list", None, None),
    "etcd-arg": ("list", None, None),
    "kube-controller-manager-arg": ("list", None, None),
    "kube-scheduler-arg": ("list", None, None),
    "kube-cloud-controller-manager-arg": ("list", None, None),
    "datastore-endpoint": ("str", "K3S_DATASTORE_ENDPOINT", None),
    "datastore-cafile": ("str", "K3S_DATASTORE_CAFILE", None),
    "datastore-certfile": ("str", "K3S_DATASTORE_CERTFILE", None),
    "datastore-keyfile": ("str", "K3S_DATASTORE_KEYFILE", None),
    "etcd-expose-metrics": ("bool", None, None),
    "etcd-disable-snapshots": ("bool", None, None),
    "etcd-snapshot-name": ("str", None, None),
    "etcd-snapshot-schedule-cron": ("str", None, None),
    "etcd-snapshot-retention": ("str", None, None),
    "etcd-snapshot-dir": ("str", None, None),
    "etcd-snapshot-compress": ("bool", None, None),
    "etcd-s3": ("bool", None, None),
    "etcd-s3-endpoint": ("str", None, None),
    "etcd-s3-endpoint-ca": ("str", None, None),
    "etcd-s3-skip-ssl-verify": ("bool", None, None),
    "etcd-s3-access-key": ("str", "AWS_ACCESS_KEY_ID", None),
    "etcd-s3-secret-key": ("str", "AWS_SECRET_ACCESS_KEY", None),
    "etcd-s3-bucket": ("str", None, None),
    "etcd-s3-region": ("str", None, None),
    "etcd-s3-folder": ("str", None, None),
    "etcd-s3-proxy": ("str", None, None),
    "etcd-s3-config-secret": ("str", None, None),
    "etcd-s3-insecure": ("bool", None, None),
    "etcd-s3-timeout": ("str", None, None),
    "default-local-storage-path": ("str", None, None),
    "disable": ("list", None, None),
    "disable-scheduler": ("bool", None, None),
    "disable-cloud-controller": ("bool", None, None),
    "disable-kube-proxy": ("bool", None, None),
    "disable-network-policy": ("bool", None, None),
    "disable-helm-controller": ("bool", None, None),
    "disable-apiserver": ("bool", None, None),
    "disable-controller-manager": ("bool", None, None),
    "disable-etcd": ("bool", None, None),
    "disable-agent": ("bool", None, None),
    "embedded-registry": ("bool", None, None),
    "supervisor-metrics": ("bool", None, None),
    "system-default-registry": ("str", "K3S_SYSTEM_DEFAULT_REGISTRY", None),
    "secrets-encryption": ("bool", None, None),
    "secrets-encryption-provider": ("str", None, None),
    "no-deploy": ("list", None, None),
}


def flags_for(command):
    table = dict(COMMON_FLAGS)
    table.update(SERVER_ONLY_FLAGS if command == "server" else AGENT_ONLY_FLAGS)
    return table


# ------------------------------------------------------------------------ config.yaml reader

def _yaml_scalar(text, where):
    text = text.strip()
    if not text:
        return ""
    if text[0] == '"':
        m = re.match(r'"((?:[^"\\]|\\.)*)"\s*$', text)
        if not m:
            raise Fatal("%s: unterminated double-quoted string" % where)
        return json.loads('"%s"' % m.group(1))
    if text[0] == "'":
        m = re.match(r"'((?:[^']|'')*)'\s*$", text)
        if not m:
            raise Fatal("%s: unterminated single-quoted string" % where)
        return m.group(1).replace("''", "'")
    return text


def _strip_comment(line):
    out, quote = [], None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            break
        out.append(ch)
    return "".join(out).rstrip()


def _split_flow(text, where):
    inner = text.strip()[1:-1]
    items, cur, quote = [], [], None
    for ch in inner:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            cur.append(ch)
        elif ch == ",":
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        items.append("".join(cur))
    return [_yaml_scalar(i, where) for i in items]


def parse_config_yaml(text, name):
    """k3s config files are flat: `key: scalar`, `key: [a, b]` or `key:` + `- item` lines."""
    result = []  # ordered (key, value) pairs; value is a str or a list of str
    current_list = None
    for number, raw in enumerate(text.splitlines(), 1):
        where = "%s:%d" % (name, number)
        line = _strip_comment(raw)
        if not line.strip() or line.strip() in ("---", "..."):
            continue
        stripped = line.strip()
        if stripped.startswith("- ") or stripped == "-":
            if current_list is None:
                raise Fatal("%s: a list item without a key" % where)
            current_list.append(_yaml_scalar(stripped[1:], where))
            continue
        if line[0] in " \t":
            raise Fatal("%s: nested values are not k3s configuration (keys are flat, as the flags)" % where)
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9_.-]*\+?)\s*:(?:\s+(.*))?$", line)
        if not m:
            raise Fatal("%s: not a `key: value` line" % where)
        key, value = m.group(1), (m.group(2) or "").strip()
        if value == "":
            current_list = []
            result.append((key, current_list))
        elif value.startswith("["):
            if not value.endswith("]"):
                raise Fatal("%s: unterminated flow list" % where)
            current_list = None
            result.append((key, _split_flow(value, where)))
        elif value.startswith("{"):
            raise Fatal("%s: nested values are not k3s configuration (keys are flat, as the flags)" % where)
        else:
            current_list = None
            result.append((key, _yaml_scalar(value, where)))
    return result


def config_files(path):
    """The file and its drop-ins config.yaml.d/*.yaml, in the order k3s reads them."""
    files = [path] if os.path.exists(path) else []
    dropins = path + ".d"
    if os.path.isdir(dropins):
        files += [os.path.join(dropins, f) for f in sorted(os.listdir(dropins)) if fnmatch.fnmatch(f, "*.yaml") or fnmatch.fnmatch(f, "*.yml")]
    return files


# -------------------------------------------------------------------------- argument parsing

def unknown_flag(name):
    # urfave/cli's wording, which k3s prints for a flag it does not define
    return Fatal("flag provided but not defined: -%s" % name)


def parse_cli(args, table):
    shorts = {spec[2]: name for name, spec in table.items() if spec[2]}
    values, i = [], 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("-") or arg == "-":
            raise Fatal("unexpected argument %s" % json.dumps(arg))
        body = arg.lstrip("-")
        name, eq, inline = body.partition("=")
        name = shorts.get(name, name) if len(name) == 1 and name != "v" else name
        if name not in table:
            raise unknown_flag(name)
        kind = table[name][0]
        if kind == "bool":
            values.append((name, inline if eq else "true"))
            continue
        if not eq:
            if i >= len(args):
                raise Fatal("flag needs an argument: -%s" % name)
            inline = args[i]
            i += 1
        values.append((name, inline))
    return values


def truthy(value):
    return str(value).lower() in ("true", "1", "yes", "on")


def load_settings(command, args, env=None):
    """CLI > config files (later files win, `key+` appends) > environment > defaults."""
    env = os.environ if env is None else env
    table = flags_for(command)
    cli = parse_cli(args, table)
    settings = {}
    explicit_config = [v for k, v in cli if k == "config"]
    config_path = explicit_config[-1] if explicit_config else env.get("K3S_CONFIG_FILE") or ETC_RANCHER + "/k3s/config.yaml"
    if (explicit_config or env.get("K3S_CONFIG_FILE")) and not os.path.exists(config_path):
        raise Fatal("open %s: no such file or directory" % config_path)
    from_files = {}
    for path in config_files(config_path):
        with open(path) as f:
            pairs = parse_config_yaml(f.read(), path)
        for key, value in pairs:
            append = key.endswith("+")
            name = key[:-1] if append else key
            if name not in table:
                # k3s filters config-file keys against the server's flags (configfilearg's
                # ValidFlags) and only warns; for the agent they reach the flag parser, which fails.
                if command == "server":
                    log("warning", "Unknown flag --%s found in config.yaml, skipping" % name)
                    continue
                raise unknown_flag(name)
            kind = table[name][0]
            items = value if isinstance(value, list) else [value]
            if kind == "list":
                from_files[name] = (from_files.get(name, []) if append else []) + [str(v) for v in items]
            elif isinstance(value, list):
                raise Fatal("%s: %s takes one value, not a list" % (path, name))
            else:
                from_files[name] = str(value)
    settings.update(from_files)
    for name, value in cli:
        if table[name][0] == "list":
            settings[name] = settings.get(name, []) + [value]
        else:
            settings[name] = value
    for name, (kind, var, _short) in table.items():
        if name not in settings and var and env.get(var):
            settings[name] = [env[var]] if kind == "list" else env[var]
    for name, (kind, _var, _short) in table.items():
        if kind == "bool":
            settings[name] = truthy(settings.get(name, "false"))
        elif kind == "list":
            settings.setdefault(name, [])
    settings["config"] = config_path
    settings.setdefault("data-dir", "/var/lib/rancher/k3s")
    return settings


# ----------------------------------------------------------------------------------- tokens

def parse_token(token):
    """K10<ca hash>::<user>:<secret>, K10<hash>::<secret>, or a short token (the secret)."""
    token = token.strip()
    if token.startswith("K10") and "::" in token:
        ca_hash, _, creds = token[3:].partition("::")
        user, sep, secret = creds.partition(":")
        if not sep:
            user, secret = None, creds
        return {"ca_hash": ca_hash, "user": user, "secret": secret}
    return {"ca_hash": None, "user": None, "secret": token}


def read_token_setting(settings, value_key, file_key):
    if settings.get(value_key):
        return settings[value_key].strip()
    path = settings.get(file_key)
    if path:
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError as e:
            raise Fatal("failed to read token file %s: %s" % (path, e.strerror))
    return None


def ca_hash_of(pem_bytes):
    return hashlib.sha256(pem_bytes).hexdigest()


# --------------------------------------------------------------------------------- bootstrap
# The bootstrap data (the cluster CAs) is kept in the datastore encrypted with the token's
# secret, as k3s does; a different token cannot read it.

def _keystream(key, nonce, length):
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(key + nonce + counter.to_bytes(8, "big")).digest()
        counter += 1
    return out[:length]


def encrypt_bootstrap(passphrase, data):
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(16)
    key = hashlib.pbkdf2_hmac("sha256", passphrase.encode(), salt, 20000)
    ct = bytes(a ^ b for a, b in zip(data, _keystream(key, nonce, len(data))))
    mac = hmac.new(key, nonce + ct, "sha256").digest()
    return json.dumps({"standin": STANDIN_MARK, "salt": base64.b64encode(salt).decode(), "nonce": base64.b64encode(nonce).decode(),
                       "ct": base64.b64encode(ct).decode(), "mac": base64.b64encode(mac).decode()}).encode()


def decrypt_bootstrap(passphrase, blob):
    doc = json.loads(blob)
    salt, nonce = base64.b64decode(doc["salt"]), base64.b64decode(doc["nonce"])
    ct, mac = base64.b64decode(doc["ct"]), base64.b64decode(doc["mac"])
    key = hashlib.pbkdf2_hmac("sha256", passphrase.encode(), salt, 20000)
    if not hmac.compare_digest(mac, hmac.new(key, nonce + ct, "sha256").digest()):
        return None
    return bytes(a ^ b for a, b in zip(ct, _keystream(key, nonce, len(ct))))


def bootstrap_key(passphrase):
    return "/bootstrap/" + hashlib.sha256(passphrase.encode()).hexdigest()[:12]


# ------------------------------------------------------------------------- PostgreSQL client
# A minimal client of the PostgreSQL wire protocol (v3): startup, SSL, SCRAM-SHA-256 / md5 /
# password authentication, simple queries. Enough for a kine-like table; no dependency.

class PgError(Exception):
    def __init__(self, fields):
        self.fields = fields
        super().__init__(fields.get("M", "unknown error"))

    @property
    def code(self):
        return self.fields.get("C")


class PgConnection:
    def __init__(self, host, port, user, password, database, sslmode="prefer", cafile=None, certfile=None, keyfile=None):
        self.buf = b""
        sock = socket.create_connection((host, port), timeout=10)
        if sslmode != "disable":
            sock.sendall(struct.pack("!ii", 8, 80877103))
            answer = sock.recv(1)
            if answer == b"S":
                if sslmode in ("verify-ca", "verify-full"):
                    ctx = ssl.create_default_context(cafile=cafile)
                    ctx.check_hostname = sslmode == "verify-full"
                else:
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                if certfile:
                    ctx.load_cert_chain(certfile, keyfile)
                sock = ctx.wrap_socket(sock, server_hostname=host)
            elif sslmode in ("require", "verify-ca", "verify-full"):
                sock.close()
                raise PgError({"M": "SSL is not enabled on the server"})
        self.sock = sock
        body = b""
        for k, v in (("user", user), ("database", database), ("client_encoding", "UTF8"), ("application_name", "k3s-standin")):
            body += k.encode() + b"\0" + v.encode() + b"\0"
        body += b"\0"
        self.sock.sendall(struct.pack("!ii", 8 + len(body), 196608) + body)
        self._authenticate(user, password)

    def _recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise PgError({"M": "server closed the connection unexpectedly"})
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _read(self):
        head = self._recv_exact(5)
        kind, length = head[:1], struct.unpack("!i", head[1:])[0]
        return kind, self._recv_exact(length - 4)

    def _send(self, kind, payload):
        self.sock.sendall(kind + struct.pack("!i", len(payload) + 4) + payload)

    @staticmethod
    def _error_fields(payload):
        fields = {}
        for part in payload.split(b"\0"):
            if part:
                fields[chr(part[0])] = part[1:].decode("utf-8", "replace")
        return fields

    def _authenticate(self, user, password):
        scram = None
        while True:
            kind, payload = self._read()
            if kind == b"E":
                raise PgError(self._error_fields(payload))
            if kind == b"Z":
                return
            if kind != b"R":
                continue
            code = struct.unpack("!i", payload[:4])[0]
            if code == 0:
                continue
            if code == 3:
                self._send(b"p", password.encode() + b"\0")
            elif code == 5:
                inner = hashlib.md5((password + user).encode()).hexdigest()
                self._send(b"p", b"md5" + hashlib.md5(inner.encode() + payload[4:8]).hexdigest().encode() + b"\0")
            elif code == 10:
                mechanisms = payload[4:].split(b"\0")
                if b"SCRAM-SHA-256" not in mechanisms:
                    raise PgError({"M": "no supported SASL mechanism"})
                nonce = base64.b64encode(secrets.token_bytes(18)).decode()
                first_bare = "n=,r=" + nonce
                first = ("n,," + first_bare).encode()
                self._send(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first)
                scram = {"nonce": nonce, "first_bare": first_bare}
            elif code == 11:
                server_first = payload[4:].decode()
                attrs = dict(part.split("=", 1) for part in server_first.split(","))
                if not attrs["r"].startswith(scram["nonce"]):
                    raise PgError({"M": "SCRAM nonce mismatch"})
                salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
                client_key = hmac.new(salted, b"Client Key", "sha256").digest()
                stored_key = hashlib.sha256(client_key).digest()
                without_proof = "c=biws,r=" + attrs["r"]
                auth_message = ",".join((scram["first_bare"], server_first, without_proof)).encode()
                signature = hmac.new(stored_key, auth_message, "sha256").digest()
                proof = bytes(a ^ b for a, b in zip(client_key, signature))
                scram["server_key"] = hmac.new(salted, b"Server Key", "sha256").digest()
                scram["auth_message"] = auth_message
                self._send(b"p", (without_proof + ",p=" + base64.b64encode(proof).decode()).encode())
            elif code == 12:
                verifier = dict(part.split("=", 1) for part in payload[4:].decode().split(","))
                expected = hmac.new(scram["server_key"], scram["auth_message"], "sha256").digest()
                if base64.b64decode(verifier.get("v", "")) != expected:
                    raise PgError({"M": "SCRAM server signature mismatch"})
            else:
                raise PgError({"M": "unsupported authentication method %d" % code})

    def query(self, sql):
        self._send(b"Q", sql.encode() + b"\0")
        rows, error = [], None
        while True:
            kind, payload = self._read()
            if kind == b"D":
                count = struct.unpack("!h", payload[:2])[0]
                pos, row = 2, []
                for _ in range(count):
                    length = struct.unpack("!i", payload[pos:pos + 4])[0]
                    pos += 4
                    if length < 0:
                        row.append(None)
                    else:
                        row.append(payload[pos:pos + length].decode())
                        pos += length
                rows.append(tuple(row))
            elif kind == b"E":
                error = PgError(self._error_fields(payload))
            elif kind == b"Z":
                if error:
                    raise error
                return rows

    def close(self):
        try:
            self._send(b"X", b"")
            self.sock.close()
        except OSError:
            pass


def pg_literal(text):
    if "\0" in text:
        raise ValueError("NUL in a PostgreSQL literal")
    return "'" + text.replace("'", "''") + "'"


def pg_ident(name):
    return '"' + name.replace('"', '""') + '"'


# -------------------------------------------------------------------------------- datastores
# A kine-like table: every write appends a row (name, value, revisions); reads take a name's
# newest row. Old rows of a name are compacted right away.

KINE_COLUMNS = "name, created, deleted, create_revision, prev_revision, lease, value, old_value"


class SqlStore:
    def __init__(self):
        self.lock = threading.RLock()

    def _latest(self, name):
        rows = self.sql("SELECT id, value, deleted, create_revision FROM kine WHERE name = %s ORDER BY id DESC LIMIT 1" % self.lit(name))
        return rows[0] if rows else None

    def get(self, name):
        with self.lock:
            row = self._latest(name)
            if not row or int(row[2]):
                return None
            return self.unblob(row[1])

    def put(self, name, value):
        with self.lock:
            row = self._latest(name)
            prev = int(row[0]) if row else 0
            create_rev = int(row[3]) if row and not int(row[2]) else 0
            self.sql("INSERT INTO kine (%s) VALUES (%s, %d, 0, %d, %d, 0, %s, NULL)" % (
                KINE_COLUMNS, self.lit(name), 0 if row else 1, create_rev, prev, self.blob(value)))
            self.sql("DELETE FROM kine WHERE name = %s AND id < (SELECT MAX(id) FROM kine WHERE name = %s)" % (self.lit(name), self.lit(name)))

    def delete(self, name):
        with self.lock:
            row = self._latest(name)
            if row and not int(row[2]):
                self.sql("INSERT INTO kine (%s) VALUES (%s, 0, 1, %d, %d, 0, NULL, NULL)" % (KINE_COLUMNS, self.lit(name), int(row[3]), int(row[0])))

    def list(self, prefix):
        with self.lock:
            like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = self.sql(
                "SELECT k.name, k.value FROM kine k JOIN (SELECT name, MAX(id) AS id FROM kine WHERE name LIKE %s ESCAPE '\\' GROUP BY name) m"
                " ON k.id = m.id WHERE k.deleted = 0 ORDER BY k.name" % self.lit(like))
            return [(r[0], self.unblob(r[1])) for r in rows]


class SqliteStore(SqlStore):
    def __init__(self, path):
        super().__init__()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("CREATE TABLE IF NOT EXISTS kine (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT COLLATE BINARY, created INTEGER,"
                        " deleted INTEGER, create_revision INTEGER, prev_revision INTEGER, lease INTEGER, value BLOB, old_value BLOB)")
        self.db.execute("CREATE INDEX IF NOT EXISTS kine_name_index ON kine (name)")
        self.db.execute("CREATE TABLE IF NOT EXISTS standin_marker (note TEXT)")
        if not self.db.execute("SELECT 1 FROM standin_marker").fetchall():
            self.db.execute("INSERT INTO standin_marker VALUES (?)", (STANDIN_MARK,))

    def sql(self, statement):
        return self.db.execute(statement).fetchall()

    @staticmethod
    def lit(text):
        return pg_literal(text)

    @staticmethod
    def blob(value):
        return "X'%s'" % value.hex()

    @staticmethod
    def unblob(value):
        return bytes(value) if value is not None else None

    def describe(self):
        return "sqlite %s" % self.path


def parse_postgres_dsn(dsn):
    u = urllib.parse.urlsplit(dsn)
    query = dict(urllib.parse.parse_qsl(u.query))
    return {
        "host": u.hostname or "localhost",
        "port": u.port or 5432,
        "user": urllib.parse.unquote(u.username or "postgres"),
        "password": urllib.parse.unquote(u.password or ""),
        "database": urllib.parse.unquote(u.path.lstrip("/")) or "kubernetes",
        "sslmode": query.get("sslmode", "prefer"),
    }


class PostgresStore(SqlStore):
    def __init__(self, dsn, cafile=None, certfile=None, keyfile=None):
        super().__init__()
        self.params = parse_postgres_dsn(dsn)
        if cafile and "sslmode=" not in dsn:
            self.params["sslmode"] = "verify-full"  # kine does the same with a datastore CA
        self.tls = (cafile, certfile, keyfile)
        self.conn = None
        self._connect(create=True)
        self.sql("CREATE TABLE IF NOT EXISTS kine (id BIGSERIAL PRIMARY KEY, name text COLLATE \"C\", created INTEGER, deleted INTEGER,"
                 " create_revision BIGINT, prev_revision BIGINT, lease INTEGER, value bytea, old_value bytea)")
        self.sql("CREATE INDEX IF NOT EXISTS kine_name_index ON kine (name)")
        self.sql("CREATE INDEX IF NOT EXISTS kine_name_prev_revision_uindex ON kine (name, prev_revision)")
        self.sql("COMMENT ON TABLE kine IS %s" % pg_literal(STANDIN_MARK))

    def _open(self, database):
        p = self.params
        return PgConnection(p["host"], p["port"], p["user"], p["password"], database, p["sslmode"], *self.tls)

    def _connect(self, create=False):
        try:
            self.conn = self._open(self.params["database"])
        except PgError as e:
            if not (create and e.code == "3D000"):
                raise
            # kine creates a missing database through the `postgres` database
            try:
                admin = self._open("postgres")
                admin.query("CREATE DATABASE %s" % pg_ident(self.params["database"]))
                admin.close()
                log("info", "Database %s created" % json.dumps(self.params["database"]))
            except PgError as e2:
                log("warning", "failed to create database %s: pq: %s" % (json.dumps(self.params["database"]), e2))
            self.conn = self._open(self.params["database"])

    def sql(self, statement):
        try:
            return self.conn.query(statement)
        except (OSError, PgError) as e:
            # a server-side SQL error is the caller's; a shutdown (57P*) or link error (08*) is not
            if isinstance(e, PgError) and e.code and not e.code.startswith(("57P", "08")):
                raise
            log("warning", "datastore connection lost (%s), reconnecting" % e)
            self._connect()
            return self.conn.query(statement)

    @staticmethod
    def lit(text):
        return pg_literal(text)

    @staticmethod
    def blob(value):
        return "'\\x%s'::bytea" % value.hex()

    @staticmethod
    def unblob(value):
        if value is None:
            return None
        return bytes.fromhex(value[2:]) if value.startswith("\\x") else value.encode()

    def describe(self):
        return "postgres %s:%s/%s" % (self.params["host"], self.params["port"], self.params["database"])


class RemoteStore:
    """A joining server of the embedded-etcd shape: the first server's store, through its API."""

    def __init__(self, client):
        self.client = client

    def get(self, name):
        doc = self.client.json("GET", "/v1-k3s/standin/store?" + urllib.parse.urlencode({"key": name}))
        return base64.b64decode(doc["value"]) if doc.get("value") is not None else None

    def put(self, name, value):
        self.client.json("PUT", "/v1-k3s/standin/store", {"key": name, "value": base64.b64encode(value).decode()})

    def delete(self, name):
        self.client.json("DELETE", "/v1-k3s/standin/store?" + urllib.parse.urlencode({"key": name}))

    def list(self, prefix):
        doc = self.client.json("GET", "/v1-k3s/standin/store?" + urllib.parse.urlencode({"prefix": prefix}))
        return [(i["key"], base64.b64decode(i["value"])) for i in doc["items"]]

    def describe(self):
        return "the cluster's datastore through %s" % self.client.base


# ------------------------------------------------------------------------------ certificates

def openssl(*args):
    r = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise Fatal("openssl %s failed: %s" % (args[0], r.stderr.strip()))


def write_file(path, content, mode=0o600):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                os.chmod(path, mode)
                return False
    except OSError:
        pass
    tmp = "%s.tmp-%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return True


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def pem_blocks(text):
    return "".join(re.findall(r"-----BEGIN [^-]+-----.*?-----END [^-]+-----\n?", text, re.S))


def make_ca(tls_dir, name, common_name):
    with tempfile.TemporaryDirectory() as tmp:
        key, crt = os.path.join(tmp, "k"), os.path.join(tmp, "c")
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
        openssl("req", "-x509", "-new", "-key", key, "-subj", "/CN=%s@%d" % (common_name, int(time.time())), "-days", "3650", "-out", crt)
        write_file(os.path.join(tls_dir, name + ".key"), marked(read_text(key)))
        write_file(os.path.join(tls_dir, name + ".crt"), marked(read_text(crt)), 0o644)


def make_leaf(tls_dir, ca, name, subject, sans, usage):
    with tempfile.TemporaryDirectory() as tmp:
        key, crt = os.path.join(tmp, "k"), os.path.join(tmp, "c")
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
        args = ["req", "-new", "-x509", "-key", key, "-CA", os.path.join(tls_dir, ca + ".crt"), "-CAkey", os.path.join(tls_dir, ca + ".key"),
                "-subj", subject, "-days", "365", "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=" + usage, "-out", crt]
        if sans:
            args += ["-addext", "subjectAltName=" + ",".join(sans)]
        openssl(*args)
        write_file(os.path.join(tls_dir, name + ".key"), marked(read_text(key)))
        write_file(os.path.join(tls_dir, name + ".crt"), marked(read_text(crt)), 0o644)


# ----------------------------------------------------------------------------------- nodes

def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def parse_label(text):
    key, eq, value = text.partition("=")
    if not eq or not key:
        raise Fatal("invalid node label %s: expected key=value" % json.dumps(text))
    return key, value


def parse_taint(text):
    m = re.match(r"^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$", text)
    if not m:
        raise Fatal("invalid node taint %s: expected key[=value]:NoSchedule|PreferNoSchedule|NoExecute" % json.dumps(text))
    taint = {"key": m.group(1), "effect": m.group(3)}
    if m.group(2) is not None:
        taint["value"] = m.group(2)
    return taint


def node_arch():
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)


def os_image():
    text = read_text("/etc/os-release") or ""
    m = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', text, re.M)
    return m.group(1) if m else "Linux"


def node_view(node, now=None):
    """The stored node with its Ready condition computed from the last heartbeat."""
    now = now or time.time()
    node = json.loads(json.dumps(node))
    beat = node["status"].pop("standinLastHeartbeat", None)
    ready = beat is not None and now - parse_iso(beat) <= NODE_GRACE_SECONDS
    node["status"]["conditions"] = [{
        "type": "Ready",
        "status": "True" if ready else "Unknown",
        "reason": "KubeletReady" if ready else "NodeStatusUnknown",
        "message": "kubelet is posting ready status (k3s stand-in heartbeat)" if ready else "Kubelet stopped posting node status.",
        "lastHeartbeatTime": beat,
        "lastTransitionTime": beat,
    }]
    return node


def select_nodes(nodes, selector):
    if not selector:
        return nodes
    out = []
    for node in nodes:
        labels = node["metadata"].get("labels", {})
        ok = True
        for term in [t.strip() for t in selector.split(",") if t.strip()]:
            if "!=" in term:
                k, v = term.split("!=", 1)
                ok = labels.get(k.strip()) != v.strip()
            elif "=" in term:
                k, v = re.split(r"==?", term, 1)
                ok = labels.get(k.strip()) == v.strip()
            elif term.startswith("!"):
                ok = term[1:].strip() not in labels
            else:
                ok = term in labels
            if not ok:
                break
        if ok:
            out.append(node)
    return out


# -------------------------------------------------------------------------------- sd_notify

def sd_notify(message):
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.connect(address)
        s.sendall(message.encode())


def count_start(data_dir, role):
    path = os.path.join(data_dir, "standin-starts")
    os.makedirs(data_dir, exist_ok=True)
    if not os.path.exists(path):
        write_file(path, marked("# one line per start of k3s server/agent; count the lines without '#'\n"), 0o644)
    with open(path, "a") as f:
        f.write("%s %s pid=%d\n" % (now_iso(), role, os.getpid()))


# --------------------------------------------------------------------------- HTTPS clients

class SupervisorClient:
    """Talks to a server's port 6443 as an agent or joining server does."""

    def __init__(self, base, ca_pem=None, user=None, password=None):
        self.base = base.rstrip("/")
        self.user, self.password = user, password
        if ca_pem:
            self.ctx = ssl.create_default_context(cadata=pem_blocks(ca_pem))
            self.ctx.check_hostname = False  # servers are joined by address; the CA pins them
        else:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            self.ctx.check_hostname = False
            self.ctx.verify_mode = ssl.CERT_NONE

    def raw(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.user is not None:
            req.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % (self.user, self.password)).encode()).decode())
        with urllib.request.urlopen(req, context=self.ctx, timeout=10) as resp:
            return resp.read()

    def json(self, method, path, body=None):
        return json.loads(self.raw(method, path, body) or b"null")


def http_error_text(e):
    try:
        detail = e.read().decode().strip()
        detail = json.loads(detail).get("message", detail) if detail.startswith("{") else detail
    except Exception:
        detail = ""
    return "%d %s%s" % (e.code, e.reason, (": " + detail) if detail else "")


def fetch_cacerts(server_url):
    """/cacerts without verification, as k3s does before it can check the token's CA hash."""
    return SupervisorClient(server_url).raw("GET", "/cacerts")


# ---------------------------------------------------------------------------------- server

class Cluster:
    """The server's state: datastore, tokens, and node records."""

    def __init__(self, store, server_secret, agent_secret, events_file=None):
        self.store = store
        self.server_secret = server_secret
        self.agent_secret = agent_secret
        self.events_file = events_file
        self.lock = threading.Lock()

    def event(self, name, what):
        """One line per node change this server made (`<time> <node> <what>`): tests read the
        order of cordon, drain, version change and uncordon from it."""
        log("info", "Node %s: %s" % (name, what))
        if not self.events_file:
            return
        if not os.path.exists(self.events_file):
            write_file(self.events_file, marked("# one line per node change made through this server: <time> <node> <change>\n"), 0o644)
        with open(self.events_file, "a") as f:
            f.write("%s %s %s\n" % (now_iso(), name, what))

    def nodes(self):
        return [json.loads(v) for _k, v in self.store.list("/registry/minions/")]

    def node(self, name):
        raw = self.store.get("/registry/minions/" + name)
        return json.loads(raw) if raw else None

    def save(self, node):
        self.store.put("/registry/minions/" + node["metadata"]["name"], json.dumps(node, sort_keys=True).encode())

    def register(self, req):
        """Creates or refreshes a node; labels and taints are applied only when it is new."""
        name = req["name"]
        with self.lock:
            node = self.node(name)
            password_hash = hashlib.sha256(req["password"].encode()).hexdigest()
            if node and node["metadata"]["annotations"].get("standin.k3s.io/node-password-hash") not in (None, password_hash):
                return None
            standard = {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": req.get("arch", "amd64"),
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": req.get("arch", "amd64"),
                "beta.kubernetes.io/instance-type": "k3s",
                "node.kubernetes.io/instance-type": "k3s",
            }
            for role in req.get("roles", []):
                standard["node-role.kubernetes.io/" + role] = "true"
            if node is None:
                labels = dict(standard)
                labels.update(dict(parse_label(l) for l in req.get("labels", [])))
                node = {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": name,
                        "uid": str(uuid.uuid4()),
                        "creationTimestamp": now_iso(),
                        "labels": labels,
                        "annotations": {"standin.k3s.io/note": STANDIN_MARK},
                    },
                    "spec": {"podCIDR": "10.42.%d.0/24" % (len(self.nodes()) % 256)},
                    "status": {},
                }
                taints = [parse_taint(t) for t in req.get("taints", [])]
                if taints:
                    node["spec"]["taints"] = taints
                log("info", "Node %s registered (labels %s, taints %s)" % (name, sorted(req.get("labels", [])), req.get("taints", [])))
            else:
                node["metadata"]["labels"].update(standard)
            # The version of the binary that registers (an upgraded agent reports its own).
            version = req.get("version", STANDIN_VERSION)
            previous = node["status"].get("nodeInfo", {}).get("kubeletVersion")
            if previous != version:
                self.event(name, "version %s" % version if previous is None else "version %s -> %s" % (previous, version))
            node["metadata"]["annotations"]["standin.k3s.io/node-password-hash"] = password_hash
            node["metadata"]["annotations"]["k3s.io/internal-ip"] = req.get("address", "")
            node["status"].update({
                "addresses": [{"type": "InternalIP", "address": req.get("address", "")}, {"type": "Hostname", "address": name}],
                "nodeInfo": {
                    "architecture": req.get("arch", "amd64"),
                    "operatingSystem": "linux",
                    "osImage": req.get("osImage", "Linux"),
                    "kernelVersion": req.get("kernel", ""),
                    "kubeletVersion": version,
                    "kubeProxyVersion": version,
                    "containerRuntimeVersion": "containerd://none (k3s stand-in)",
                },
                "standinLastHeartbeat": now_iso(),
            })
            self.save(node)
            return node

    def heartbeat(self, name, password):
        with self.lock:
            node = self.node(name)
            if node is None:
                return "unknown"
            if node["metadata"]["annotations"].get("standin.k3s.io/node-password-hash") != hashlib.sha256(password.encode()).hexdigest():
                return "rejected"
            node["status"]["standinLastHeartbeat"] = now_iso()
            self.save(node)
            return "ok"

    def patch(self, name, patch):
        with self.lock:
            node = self.node(name)
            if node is None:
                return None
            meta = patch.get("metadata", {})
            for field in ("labels", "annotations"):
                for k, v in (meta.get(field) or {}).items():
                    if v is None:
                        node["metadata"].setdefault(field, {}).pop(k, None)
                    else:
                        node["metadata"].setdefault(field, {})[k] = v
            spec = patch.get("spec", {})
            if "unschedulable" in spec:
                if bool(spec["unschedulable"]) != bool(node["spec"].get("unschedulable")):
                    self.event(name, "cordoned" if spec["unschedulable"] else "uncordoned")
                if spec["unschedulable"]:
                    node["spec"]["unschedulable"] = True
                else:
                    node["spec"].pop("unschedulable", None)
            if (meta.get("annotations") or {}).get("standin.k3s.io/drained"):
                self.event(name, "drained")
            if "taints" in spec:
                if spec["taints"]:
                    node["spec"]["taints"] = spec["taints"]
                else:
                    node["spec"].pop("taints", None)
            self.save(node)
            return node


NODE_PASSWORD_REJECTED = ("Node password rejected, duplicate hostname or contents of '/etc/rancher/node/password' may not match server "
                          "node-passwd entry, try enabling a unique node name with the --with-node-id flag")


def k8s_status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code}


def make_handler(server):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "k3s-standin"

        def log_message(self, fmt, *args):
            pass

        def send(self, code, body, content_type="application/json"):
            data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body, indent=2) + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}") if length else {}

        def basic_role(self):
            """server | node | None from the Authorization header (the token's credentials)."""
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Basic "):
                return None
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:
                return None
            if hmac.compare_digest(password, server.cluster.server_secret):
                return "server"
            if server.cluster.agent_secret and hmac.compare_digest(password, server.cluster.agent_secret) and user != "server":
                return "node"
            return None

        def admin(self):
            cert = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
            return bool(cert)

        def unauthorized(self):
            self.send(401, k8s_status(401, "Unauthorized", "Unauthorized"))

        def route(self, method):
            url = urllib.parse.urlsplit(self.path)
            path, query = url.path, dict(urllib.parse.parse_qsl(url.query))
            try:
                if path == "/ping" and method == "GET":
                    return self.send(200, b"pong", "text/plain")
                if path == "/cacerts" and method == "GET":
                    return self.send(200, server.ca_pem, "text/plain")
                if path.startswith("/v1-k3s/"):
                    return self.supervisor(method, path[len("/v1-k3s/"):], query)
                if not self.admin():
                    return self.unauthorized()
                return self.api(method, path, query)
            except BrokenPipeError:
                pass
            except Exception as e:  # the datastore went away, a bad request body, ...
                log("error", "%s %s: %s" % (method, path, e))
                self.send(500, k8s_status(500, "InternalError", str(e)))

        def supervisor(self, method, name, query):
            role = self.basic_role()
            if role is None:
                return self.unauthorized()
            if name in ("server-ca.crt", "client-ca.crt"):
                return self.send(200, read_text(os.path.join(server.tls_dir, name)), "text/plain")
            if name == "readyz":
                return self.send(200, b"ok", "text/plain")
            if name == "config":
                return self.send(200, {"standin": STANDIN_MARK, "version": STANDIN_VERSION, "serverURL": "https://%s:%s" % (server.advertise, server.port)})
            if name == "standin/register" and method == "POST":
                node = server.cluster.register(self.body())
                if node is None:
                    return self.send(403, NODE_PASSWORD_REJECTED + "\n", "text/plain")
                return self.send(200, node_view(node))
            if name == "standin/heartbeat" and method == "POST":
                req = self.body()
                result = server.cluster.heartbeat(req["name"], req["password"])
                return self.send({"ok": 200, "unknown": 404, "rejected": 403}[result], {"result": result})
            if role != "server":
                return self.send(403, k8s_status(403, "Forbidden", "forbidden: server credentials required"))
            if name == "server-bootstrap" and method == "GET":
                return self.send(200, server.bootstrap_doc())
            if name == "standin/store":
                store = server.cluster.store
                if method == "GET" and "key" in query:
                    value = store.get(query["key"])
                    return self.send(200, {"value": base64.b64encode(value).decode() if value is not None else None})
                if method == "GET" and "prefix" in query:
                    return self.send(200, {"items": [{"key": k, "value": base64.b64encode(v).decode()} for k, v in store.list(query["prefix"])]})
                if method == "PUT":
                    req = self.body()
                    store.put(req["key"], base64.b64decode(req["value"]))
                    return self.send(200, {})
                if method == "DELETE":
                    store.delete(query["key"])
                    return self.send(200, {})
            return self.send(404, b"404 page not found\n", "text/plain")

        def api(self, method, path, query):
            cluster = server.cluster
            if path in ("/readyz", "/livez", "/healthz") and method == "GET":
                return self.send(200, b"ok", "text/plain")
            if path == "/version" and method == "GET":
                return self.send(200, {"major": "1", "minor": STANDIN_VERSION.split(".")[1], "gitVersion": STANDIN_VERSION,
                                       "platform": "linux/" + node_arch(), "standin": STANDIN_MARK})
            if path == "/api/v1/nodes" and method == "GET":
                items = select_nodes([node_view(n) for n in cluster.nodes()], query.get("labelSelector"))
                return self.send(200, {"apiVersion": "v1", "kind": "NodeList", "metadata": {"resourceVersion": ""}, "items": items})
            m = re.match(r"^/api/v1/nodes/([^/]+)$", path)
            if m:
                name = m.group(1)
                if method == "GET":
                    node = cluster.node(name)
                elif method == "PATCH":
                    node = cluster.patch(name, self.body())
                elif method == "DELETE":
                    node = cluster.node(name)
                    if node:
                        cluster.store.delete("/registry/minions/" + name)
                else:
                    return self.send(405, k8s_status(405, "MethodNotAllowed", "method not allowed"))
                if node is None:
                    return self.send(404, k8s_status(404, "NotFound", 'nodes "%s" not found' % name))
                return self.send(200, node_view(node))
            return self.send(404, k8s_status(404, "NotFound", "the server could not find the requested resource (the k3s stand-in serves only nodes)"))

        def do_GET(self):
            self.route("GET")

        def do_POST(self):
            self.route("POST")

        def do_PUT(self):
            self.route("PUT")

        def do_PATCH(self):
            self.route("PATCH")

        def do_DELETE(self):
            self.route("DELETE")

    return Handler


class TLSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, ctx):
        self.ctx = ctx
        super().__init__(address, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)


def local_addresses():
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True).stdout
        return re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", out)
    except OSError:
        return []


def node_name_of(settings):
    name = settings.get("node-name") or socket.gethostname().split(".")[0].lower()
    if settings.get("with-node-id"):
        name += "-" + (read_text("/etc/machine-id") or "00000000").strip()[:8]
    return name


def node_password():
    path = ETC_RANCHER + "/node/password"
    existing = read_text(path)
    if existing and existing.strip():
        return existing.strip()
    secret = secrets.token_hex(16)
    write_file(path, secret + "\n")
    return secret


def kernel_release():
    return platform.release()


class Server:
    def __init__(self, settings):
        self.settings = settings
        self.data_dir = settings["data-dir"]
        self.server_dir = os.path.join(self.data_dir, "server")
        self.tls_dir = os.path.join(self.server_dir, "tls")
        self.port = int(settings.get("https-listen-port") or 6443)
        self.bind = settings.get("bind-address") or "0.0.0.0"
        addresses = settings["node-ip"] or local_addresses() or ["127.0.0.1"]
        self.node_ip = addresses[0]
        self.advertise = settings.get("advertise-address") or self.node_ip
        self.ca_pem = b""
        self.cluster = None

    # --- datastore and bootstrap

    def open_store(self, join_client):
        s = self.settings
        endpoint = s.get("datastore-endpoint") or ""
        if endpoint.startswith("postgres://") or endpoint.startswith("postgresql://"):
            try:
                store = PostgresStore(endpoint, s.get("datastore-cafile"), s.get("datastore-certfile"), s.get("datastore-keyfile"))
            except PgError as e:
                raise Fatal("starting kubernetes: preparing server: creating storage endpoint: building kine: pq: %s" % e)
            except OSError as e:
                p = parse_postgres_dsn(endpoint)
                raise Fatal("starting kubernetes: preparing server: creating storage endpoint: building kine: dial tcp %s:%s: %s" % (p["host"], p["port"], e.strerror or e))
            return store
        if endpoint.startswith("sqlite://"):
            return SqliteStore(endpoint[len("sqlite://"):].split("?")[0])
        if endpoint:
            raise Fatal("the k3s stand-in supports datastore-endpoint postgres:// and sqlite:// only, not %s" % endpoint.split(":")[0])
        if join_client:
            return RemoteStore(join_client)
        if s["cluster-init"]:
            return SqliteStore(os.path.join(self.server_dir, "db", "etcd", "standin-state.db"))
        return SqliteStore(os.path.join(self.server_dir, "db", "state.db"))

    def bootstrap_files(self):
        names = ["server-ca.crt", "server-ca.key", "client-ca.crt", "client-ca.key"]
        return {n: read_text(os.path.join(self.tls_dir, n)) for n in names}

    def bootstrap_doc(self):
        return {"standin": STANDIN_MARK, "files": self.bootstrap_files()}

    def reconcile_bootstrap(self, store, passphrase, fetched=None):
        key = bootstrap_key(passphrase)
        existing = store.list("/bootstrap/")
        mine = [v for k, v in existing if k == key]
        if existing and not mine:
            raise Fatal("starting kubernetes: preparing server: bootstrap data already found and encrypted with different token")
        if mine:
            plain = decrypt_bootstrap(passphrase, mine[0])
            if plain is None:
                raise Fatal("starting kubernetes: preparing server: bootstrap data already found and encrypted with different token")
            files = json.loads(plain)
            log("info", "Reconciling bootstrap data between datastore and disk")
        elif fetched:
            files = fetched
        else:
            if not read_text(os.path.join(self.tls_dir, "server-ca.crt")):
                make_ca(self.tls_dir, "server-ca", "k3s-server-ca")
                make_ca(self.tls_dir, "client-ca", "k3s-client-ca")
            files = self.bootstrap_files()
            store.put(key, encrypt_bootstrap(passphrase, json.dumps(files).encode()))
            log("info", "Bootstrap data saved to the datastore")
        for name, content in files.items():
            if content:
                write_file(os.path.join(self.tls_dir, name), content, 0o600 if name.endswith(".key") else 0o644)

    # --- certificates and files

    def serving_cert(self):
        sans = ["DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc", "DNS:localhost", "IP:127.0.0.1", "IP:10.43.0.1",
                "DNS:" + node_name_of(self.settings)]
        for value in [self.node_ip, self.advertise] + self.settings["tls-san"]:
            sans.append(("IP:" if re.match(r"^[0-9.]+$|:", value) else "DNS:") + value)
        sans = sorted(set(sans))
        record = os.path.join(self.tls_dir, "serving-kube-apiserver.sans")
        ca_now = ca_hash_of(self.ca_pem)
        want = marked("\n".join(sans + ["ca=" + ca_now]) + "\n")
        if read_text(record) != want or not os.path.exists(os.path.join(self.tls_dir, "serving-kube-apiserver.crt")):
            make_leaf(self.tls_dir, "server-ca", "serving-kube-apiserver", "/CN=kube-apiserver", sans, "serverAuth")
            write_file(record, want, 0o644)
        if not os.path.exists(os.path.join(self.tls_dir, "client-admin.crt")) or read_text(os.path.join(self.tls_dir, "client-admin.ca")) != marked(ca_now + "\n"):
            make_leaf(self.tls_dir, "client-ca", "client-admin", "/O=system:masters/CN=system:admin", [], "clientAuth")
            write_file(os.path.join(self.tls_dir, "client-admin.ca"), marked(ca_now + "\n"), 0o644)

    def write_tokens(self, server_secret, agent_secret):
        h = ca_hash_of(self.ca_pem)
        token = "K10%s::server:%s\n" % (h, server_secret)
        write_file(os.path.join(self.server_dir, "token"), token)
        node_token = os.path.join(self.server_dir, "node-token")
        if not os.path.islink(node_token):
            if os.path.exists(node_token):
                os.remove(node_token)
            os.symlink("token", node_token)
        agent = "K10%s::node:%s\n" % (h, agent_secret) if agent_secret != server_secret else token
        write_file(os.path.join(self.server_dir, "agent-token"), agent)

    def write_kubeconfig(self):
        s = self.settings
        path = s.get("write-kubeconfig") or ETC_RANCHER + "/k3s/k3s.yaml"
        mode_text = s.get("write-kubeconfig-mode") or "0600"
        try:
            mode = int(mode_text, 8)
        except ValueError:
            raise Fatal("invalid write-kubeconfig-mode %s" % json.dumps(mode_text))
        b64 = lambda name: base64.b64encode(pem_blocks(read_text(os.path.join(self.tls_dir, name))).encode()).decode()
        text = marked(
            "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: %s\n    server: https://127.0.0.1:%d\n  name: default\n"
            "contexts:\n- context:\n    cluster: default\n    user: default\n  name: default\ncurrent-context: default\nkind: Config\n"
            "preferences: {}\nusers:\n- name: default\n  user:\n    client-certificate-data: %s\n    client-key-data: %s\n"
            % (b64("server-ca.crt"), self.port, b64("client-admin.crt"), b64("client-admin.key")))
        write_file(path, text, mode)
        if s.get("write-kubeconfig-group"):
            import grp
            os.chown(path, 0, grp.getgrnam(s["write-kubeconfig-group"]).gr_gid)

    # --- run

    def run(self):
        s = self.settings
        token = read_token_setting(s, "token", "token-file")
        agent_token = read_token_setting(s, "agent-token", "agent-token-file")
        join_url = s.get("server")
        token_file = os.path.join(self.server_dir, "token")
        if not token and not join_url and read_text(token_file):
            token = read_text(token_file).strip()  # a restart without a configured token keeps the cluster's
        if join_url and not token:
            raise Fatal("--token is required when joining a server")
        parsed = parse_token(token) if token else {"ca_hash": None, "user": None, "secret": secrets.token_hex(16)}
        server_secret = parsed["secret"]
        agent_secret = parse_token(agent_token)["secret"] if agent_token else server_secret
        for d in (self.server_dir, self.tls_dir, os.path.join(self.server_dir, "manifests"), os.path.join(self.server_dir, "cred"), ETC_RANCHER + "/k3s"):
            os.makedirs(d, exist_ok=True)
        write_file(os.path.join(self.server_dir, "manifests", ".standin"), marked("# manifests dropped here are kept, not applied\n"), 0o644)

        join_client, fetched = None, None
        if join_url and not s.get("datastore-endpoint"):
            join_client, fetched = self.join(join_url, parsed)
        store = self.open_store(join_client)
        log("info", "Datastore: %s" % store.describe())
        self.reconcile_bootstrap(store, server_secret, fetched)
        self.ca_pem = read_text(os.path.join(self.tls_dir, "server-ca.crt")).encode()
        if parsed["ca_hash"] and parsed["ca_hash"] != ca_hash_of(self.ca_pem):
            raise Fatal("token CA hash does not match the Cluster CA certificate hash: %s != %s" % (parsed["ca_hash"], ca_hash_of(self.ca_pem)))
        self.serving_cert()
        self.write_tokens(server_secret, agent_secret)
        self.write_kubeconfig()
        self.cluster = Cluster(store, server_secret, agent_secret, os.path.join(self.data_dir, "standin-events"))

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(self.tls_dir, "serving-kube-apiserver.crt"), os.path.join(self.tls_dir, "serving-kube-apiserver.key"))
        ctx.load_verify_locations(os.path.join(self.tls_dir, "client-ca.crt"))
        ctx.verify_mode = ssl.CERT_OPTIONAL
        try:
            httpd = TLSServer((self.bind, self.port), make_handler(self), ctx)
        except OSError as e:
            raise Fatal("starting kubernetes: preparing server: listen tcp %s:%d: bind: %s" % (self.bind, self.port, e.strerror))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        log("info", "Running kube-apiserver stand-in on https://%s:%d (supervisor: /cacerts, /ping, /v1-k3s)" % (self.bind, self.port))

        if not s["disable-agent"]:
            roles = ["control-plane", "master"] + (["etcd"] if s["cluster-init"] or join_client else [])
            threading.Thread(target=self.own_node, args=(roles,), daemon=True).start()
        sd_notify("READY=1")
        log("info", "k3s stand-in server is up")
        wait_for_signal()

    def join(self, url, parsed):
        if not url.startswith("https://"):
            raise Fatal("--server must be an https:// URL")
        while True:
            try:
                cacerts = fetch_cacerts(url)
                if parsed["ca_hash"] and parsed["ca_hash"] != ca_hash_of(cacerts):
                    raise Fatal("token CA hash does not match the Cluster CA certificate hash: %s != %s" % (parsed["ca_hash"], ca_hash_of(cacerts)))
                client = SupervisorClient(url, cacerts.decode(), "server", parsed["secret"])
                doc = client.json("GET", "/v1-k3s/server-bootstrap")
                log("info", "Joined the cluster at %s" % url)
                return client, doc["files"]
            except urllib.error.HTTPError as e:
                raise Fatal("starting kubernetes: preparing server: failed to get CA certs: %s/v1-k3s/server-bootstrap: %s" % (url, http_error_text(e)))
            except (urllib.error.URLError, OSError) as e:
                log("info", "Waiting to join the cluster at %s: %s" % (url, getattr(e, "reason", e)))
                time.sleep(RETRY_SECONDS)

    def own_node(self, roles):
        password = node_password()
        req = {"name": node_name_of(self.settings), "password": password, "labels": self.settings["node-label"], "taints": self.settings["node-taint"],
               "address": self.node_ip, "arch": node_arch(), "osImage": os_image(), "kernel": kernel_release(), "roles": roles,
               "version": STANDIN_VERSION}
        registered = False
        while True:
            try:
                if not registered:
                    if self.cluster.register(req) is None:
                        log("error", NODE_PASSWORD_REJECTED)
                    else:
                        registered = True
                elif self.cluster.heartbeat(req["name"], password) != "ok":
                    registered = False
                    continue
            except Exception as e:
                log("warning", "node status update failed: %s" % e)
            time.sleep(HEARTBEAT_SECONDS)


# ----------------------------------------------------------------------------------- agent

def run_agent(settings):
    url = settings.get("server")
    if not url:
        raise Fatal("--server is required")
    if not url.startswith("https://"):
        raise Fatal("--server must be an https:// URL, not %s" % json.dumps(url))
    token = read_token_setting(settings, "token", "token-file")
    if not token:
        raise Fatal("--token is required")
    parsed = parse_token(token)
    name = node_name_of(settings)
    labels = settings["node-label"]
    taints = settings["node-taint"]
    for l in labels:
        parse_label(l)
    for t in taints:
        parse_taint(t)
    agent_dir = os.path.join(settings["data-dir"], "agent")
    os.makedirs(os.path.join(agent_dir, "images"), exist_ok=True)
    password = node_password()
    client = None
    while client is None:
        try:
            cacerts = fetch_cacerts(url)
            if parsed["ca_hash"] and parsed["ca_hash"] != ca_hash_of(cacerts):
                raise ValueError("token CA hash does not match the Cluster CA certificate hash: %s != %s" % (parsed["ca_hash"], ca_hash_of(cacerts)))
            candidate = SupervisorClient(url, cacerts.decode(), parsed["user"] or "node", parsed["secret"])
            candidate.json("GET", "/v1-k3s/config")
            write_file(os.path.join(agent_dir, "server-ca.crt"), cacerts, 0o644)
            client = candidate
        except ValueError as e:
            log("error", "Failed to validate connection to cluster at %s: %s" % (url, e))
            time.sleep(RETRY_SECONDS)
        except urllib.error.HTTPError as e:
            log("error", "Failed to validate connection to cluster at %s: token is not valid: %s/v1-k3s/config: %s" % (url, url, http_error_text(e)))
            time.sleep(RETRY_SECONDS)
        except (urllib.error.URLError, OSError) as e:
            log("info", "Waiting to retrieve agent configuration; server is not ready: %s" % getattr(e, "reason", e))
            time.sleep(RETRY_SECONDS)
    local_ip = settings["node-ip"][0] if settings["node-ip"] else local_address_towards(url)
    req = {"name": name, "password": password, "labels": labels, "taints": taints, "address": local_ip, "arch": node_arch(),
           "osImage": os_image(), "kernel": kernel_release(), "roles": [], "version": STANDIN_VERSION}
    while True:
        try:
            client.json("POST", "/v1-k3s/standin/register", req)
            break
        except urllib.error.HTTPError as e:
            log("error", "Waiting to retrieve agent configuration; server is not ready: %s" % http_error_text(e))
        except (urllib.error.URLError, OSError) as e:
            log("info", "Waiting to retrieve agent configuration; server is not ready: %s" % getattr(e, "reason", e))
        time.sleep(RETRY_SECONDS)
    write_file(os.path.join(agent_dir, "standin-agent.json"), json.dumps({"standin": STANDIN_MARK, "server": url, "node": name}, indent=2) + "\n", 0o644)
    sd_notify("READY=1")
    log("info", "k3s stand-in agent is up: node %s registered with %s" % (name, url))
    threading.Thread(target=agent_heartbeat, args=(client, req), daemon=True).start()
    wait_for_signal()


def local_address_towards(url):
    u = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((u.hostname, u.port or 6443), timeout=5) as s:
            return s.getsockname()[0]
    except OSError:
        return (local_addresses() or ["127.0.0.1"])[0]


def agent_heartbeat(client, req):
    while True:
        time.sleep(HEARTBEAT_SECONDS)
        try:
            client.json("POST", "/v1-k3s/standin/heartbeat", {"name": req["name"], "password": req["password"]})
        except urllib.error.HTTPError as e:
            if e.code == 404:
                try:
                    client.json("POST", "/v1-k3s/standin/register", req)
                except Exception as e2:
                    log("warning", "re-registering the node failed: %s" % e2)
            else:
                log("warning", "node status update failed: %s" % http_error_text(e))
        except (urllib.error.URLError, OSError) as e:
            log("warning", "node status update failed: %s" % getattr(e, "reason", e))


def wait_for_signal():
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(3600):
        pass
    log("info", "Received shutdown signal, exiting")


# --------------------------------------------------------------------------------- kubectl

class Kubeconfig:
    def __init__(self, path):
        text = read_text(path)
        if text is None:
            raise Fatal("error loading config file \"%s\": open %s: permission denied or missing" % (path, path))

        def field(name):
            m = re.search(r"^\s*%s:\s*(\S+)\s*$" % re.escape(name), text, re.M)
            return m.group(1) if m else None

        self.server = field("server")
        self.ca = base64.b64decode(field("certificate-authority-data") or "").decode()
        self.cert = base64.b64decode(field("client-certificate-data") or "").decode()
        self.key = base64.b64decode(field("client-key-data") or "").decode()
        if not self.server:
            raise Fatal("%s: no server in the kubeconfig" % path)


class ApiClient:
    def __init__(self, kubeconfig):
        self.base = kubeconfig.server.rstrip("/")
        self.ctx = ssl.create_default_context(cadata=kubeconfig.ca) if kubeconfig.ca else ssl.create_default_context()
        if kubeconfig.cert:
            with tempfile.TemporaryDirectory() as tmp:
                cert, key = os.path.join(tmp, "c"), os.path.join(tmp, "k")
                write_file(cert, kubeconfig.cert)
                write_file(key, kubeconfig.key)
                self.ctx.load_cert_chain(cert, key)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/merge-patch+json")
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=15) as resp:
                return resp.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                message = json.loads(raw)["message"]
            except Exception:
                message = raw.decode(errors="replace").strip() or e.reason
            if e.code == 401:
                raise Fatal("error: You must be logged in to the server (Unauthorized)")
            raise Fatal("Error from server (%s): %s" % (e.reason.replace(" ", ""), message))
        except (urllib.error.URLError, OSError) as e:
            u = urllib.parse.urlsplit(self.base)
            raise Fatal("The connection to the server %s was refused - did you specify the right host or port? (%s)" % (u.netloc, getattr(e, "reason", e)))

    def json(self, method, path, body=None):
        return json.loads(self.call(method, path, body))


def age(ts):
    seconds = max(0, int(time.time() - parse_iso(ts)))
    if seconds < 120:
        return "%ds" % seconds
    if seconds < 3600 * 3:
        return "%dm" % (seconds // 60)
    if seconds < 86400 * 2:
        return "%dh" % (seconds // 3600)
    return "%dd" % (seconds // 86400)


def node_row(node, wide):
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
    status = "Ready" if ready and ready[0]["status"] == "True" else "NotReady"
    if node["spec"].get("unschedulable"):
        status += ",SchedulingDisabled"
    roles = sorted(k.split("/", 1)[1] for k in node["metadata"]["labels"] if k.startswith("node-role.kubernetes.io/"))
    row = [node["metadata"]["name"], status, ",".join(roles) or "<none>", age(node["metadata"]["creationTimestamp"]), node["status"]["nodeInfo"]["kubeletVersion"]]
    if wide:
        ip = next((a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"), "<none>")
        info = node["status"]["nodeInfo"]
        row += [ip, "<none>", info["osImage"], info["kernelVersion"] or "<unknown>", info["containerRuntimeVersion"]]
    return row


def print_table(header, rows, no_headers):
    all_rows = rows if no_headers else [header] + rows
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(header))]
    for r in all_rows:
        print("   ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())


KUBECTL_HELP = """kubectl of the k3s STAND-IN (lab only): get nodes [NAME] [-l SELECTOR] [-o json|wide|name] [--no-headers],
get --raw=PATH, label|annotate node NAME k=v|k- [--overwrite], taint node NAME k[=v]:Effect[-], cordon|uncordon|drain NAME,
wait --for=condition=Ready node/NAME|nodes --all [--timeout=60s], version. Nothing else."""


def kubectl(args):
    kubeconfig_path = os.environ.get("KUBECONFIG") or ETC_RANCHER + "/k3s/k3s.yaml"
    opts = {"output": None, "selector": None, "no_headers": False, "raw": None, "overwrite": False, "all": False, "for": None, "timeout": "30s", "timeout_given": False}
    positional = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1

        def value():
            nonlocal i
            if "=" in a:
                return a.split("=", 1)[1]
            if i >= len(args):
                raise Fatal("error: flag needs an argument: %s" % a)
            i += 1
            return args[i - 1]

        if a == "--":
            # End of options, as kubectl's flag parser takes it: the rest are operands even if
            # they start with "-" (roles put it before names from the inventory).
            positional.extend(args[i:])
            break
        if a in ("-h", "--help"):
            print(KUBECTL_HELP)
            return 0
        if a.startswith("--kubeconfig"):
            kubeconfig_path = value()
        elif a == "-o" or a.startswith("--output") or a.startswith("-o"):
            opts["output"] = a[2:].lstrip("=") if a.startswith("-o") and len(a) > 2 and not a.startswith("--") else value()
        elif a == "-l" or a.startswith("--selector") or (a.startswith("-l") and len(a) > 2):
            opts["selector"] = a[2:].lstrip("=") if a.startswith("-l") and len(a) > 2 else value()
        elif a == "--no-headers":
            opts["no_headers"] = True
        elif a.startswith("--raw"):
            opts["raw"] = value()
        elif a == "--overwrite":
            opts["overwrite"] = True
        elif a in ("--all", "-A", "--all-namespaces"):
            opts["all"] = True
        elif a.startswith("--for"):
            opts["for"] = value()
        elif a.startswith("--timeout"):
            opts["timeout"] = value()
            opts["timeout_given"] = True
        elif a in ("--ignore-daemonsets", "--delete-emptydir-data", "--delete-local-data", "--force") or a.startswith("--grace-period") or a.startswith("--pod-selector"):
            pass
        elif a.startswith("-"):
            raise Fatal("error: unknown flag: %s (the k3s stand-in's kubectl: %s)" % (a, KUBECTL_HELP))
        else:
            positional.append(a)
    if not positional:
        print(KUBECTL_HELP)
        return 0
    verb, rest = positional[0], positional[1:]
    if verb == "version":
        print("Client Version: %s (k3s stand-in)" % STANDIN_VERSION)
        return 0
    api = ApiClient(Kubeconfig(kubeconfig_path))
    if verb == "get" and opts["raw"]:
        sys.stdout.write(api.call("GET", opts["raw"]).decode())
        return 0
    if verb == "get":
        if not rest or rest[0] not in ("nodes", "node", "no") and not rest[0].startswith("node/") and not rest[0].startswith("nodes/"):
            raise Fatal('error: the server doesn\'t have a resource type "%s" (the k3s stand-in serves nodes only)' % (rest[0] if rest else ""))
        names = [r.split("/", 1)[1] for r in rest if "/" in r] + rest[1:]
        if names:
            items = [api.json("GET", "/api/v1/nodes/" + urllib.parse.quote(n)) for n in names]
        else:
            q = "?" + urllib.parse.urlencode({"labelSelector": opts["selector"]}) if opts["selector"] else ""
            items = api.json("GET", "/api/v1/nodes" + q)["items"]
        out = opts["output"]
        if out == "json":
            doc = items[0] if len(names) == 1 else {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}
            print(json.dumps(doc, indent=4))
        elif out == "name":
            for n in items:
                print("node/" + n["metadata"]["name"])
        elif out in (None, "wide"):
            if not items:
                sys.stderr.write("No resources found\n")
                return 0
            header = ["NAME", "STATUS", "ROLES", "AGE", "VERSION"] + (["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"] if out else [])
            print_table(header, [node_row(n, out == "wide") for n in items], opts["no_headers"])
        else:
            raise Fatal("error: the k3s stand-in's kubectl supports -o json, wide and name, not %s" % json.dumps(out))
        return 0
    if verb == "drain":
        name = node_arg(rest)
        node = api.json("PATCH", "/api/v1/nodes/" + name, {"spec": {"unschedulable": True}})
        print("node/%s cordoned" % name)
        blocker = node["metadata"].get("annotations", {}).get(DRAIN_BLOCKER)
        if blocker:
            drain_blocked(name, blocker, opts["timeout"] if opts["timeout_given"] else "0s")
        api.json("PATCH", "/api/v1/nodes/" + name, {"metadata": {"annotations": {"standin.k3s.io/drained": now_iso()}}})
        print("node/%s drained" % name)
        return 0
    if verb in ("cordon", "uncordon"):
        name = node_arg(rest)
        api.json("PATCH", "/api/v1/nodes/" + name, {"spec": {"unschedulable": verb != "uncordon"},
                                                     "metadata": {"annotations": {"standin.k3s.io/drained": None}}})
        print("node/%s %s" % (name, {"cordon": "cordoned", "uncordon": "uncordoned"}[verb]))
        return 0
    if verb in ("label", "annotate"):
        field = "labels" if verb == "label" else "annotations"
        name = node_arg(rest[:2] if rest and rest[0] in ("node", "nodes", "no") else rest[:1])
        changes = rest[2:] if rest and rest[0] in ("node", "nodes", "no") else rest[1:]
        node = api.json("GET", "/api/v1/nodes/" + name)
        current = node["metadata"].get(field, {})
        labels = {}
        for c in changes:
            if c.endswith("-"):
                labels[c[:-1]] = None
            else:
                k, v = parse_label(c) if field == "labels" else c.split("=", 1)
                if k in current and current[k] != v and not opts["overwrite"]:
                    raise Fatal("error: '%s' already has a value (%s), and --overwrite is false" % (k, current[k]))
                labels[k] = v
        api.json("PATCH", "/api/v1/nodes/" + name, {"metadata": {field: labels}})
        print("node/%s %s" % (name, "labeled" if field == "labels" else "annotated"))
        return 0
    if verb == "taint":
        name = node_arg(rest[:2] if rest and rest[0] in ("node", "nodes", "no") else rest[:1])
        changes = rest[2:] if rest and rest[0] in ("node", "nodes", "no") else rest[1:]
        node = api.json("GET", "/api/v1/nodes/" + name)
        taints = node["spec"].get("taints", [])
        for c in changes:
            if c.endswith("-"):
                body = c[:-1]
                key, _, effect = body.partition(":")
                key = key.split("=")[0]
                taints = [t for t in taints if not (t["key"] == key and (not effect or t["effect"] == effect))]
            else:
                t = parse_taint(c)
                same = [x for x in taints if x["key"] == t["key"] and x["effect"] == t["effect"]]
                if same and not opts["overwrite"]:
                    raise Fatal("error: node %s already has %s taint(s) with same effect(s) and --overwrite is false" % (name, t["key"]))
                taints = [x for x in taints if x not in same] + [t]
        api.json("PATCH", "/api/v1/nodes/" + name, {"spec": {"taints": taints}})
        print("node/%s modified" % name)
        return 0
    if verb == "wait":
        cond = (opts["for"] or "").lower()
        if cond != "condition=ready":
            raise Fatal("error: the k3s stand-in's kubectl waits only --for=condition=Ready")
        m = re.match(r"^(\d+)(s|m)?$", opts["timeout"])
        deadline = time.time() + (int(m.group(1)) * (60 if m.group(2) == "m" else 1) if m else 30)
        targets = [r.split("/", 1)[1] for r in rest if r.startswith("node/") or r.startswith("nodes/")]
        while True:
            nodes = api.json("GET", "/api/v1/nodes")["items"]
            pending = [n["metadata"]["name"] for n in nodes if (not targets or n["metadata"]["name"] in targets)
                       and not any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])]
            missing = [t for t in targets if t not in [n["metadata"]["name"] for n in nodes]]
            if not pending and not missing:
                for n in nodes:
                    if not targets or n["metadata"]["name"] in targets:
                        print("node/%s condition met" % n["metadata"]["name"])
                return 0
            if time.time() > deadline:
                raise Fatal("error: timed out waiting for the condition on nodes/%s" % ((pending + missing)[0]))
            time.sleep(1)
    raise Fatal("error: the k3s stand-in's kubectl does not implement %s (%s)" % (json.dumps(verb), KUBECTL_HELP))


# Test knob: a node annotated `standin.k3s.io/drain-blocker=NAMESPACE/POD` has a pod whose
# eviction a PodDisruptionBudget refuses: drain retries as kubectl does, until its --timeout.
DRAIN_BLOCKER = "standin.k3s.io/drain-blocker"


def drain_blocked(node, pod, timeout):
    """kubectl drain's output while an eviction is refused, then its error at the timeout."""
    namespace, _, name = pod.rpartition("/")
    namespace = namespace or "default"
    m = re.match(r"^(\d+)(s|m)?$", timeout)
    seconds = int(m.group(1)) * (60 if m.group(2) == "m" else 1) if m else 0
    deadline = time.time() + seconds
    while True:
        print("evicting pod %s/%s" % (namespace, name))
        sys.stdout.flush()
        if seconds and time.time() >= deadline:
            break
        sys.stderr.write("error when evicting pods/\"%s\" -n \"%s\" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.\n" % (name, namespace))
        sys.stderr.flush()
        time.sleep(min(5, max(0.1, deadline - time.time())) if seconds else 5)
    error = "error when evicting pods/\"%s\" -n \"%s\": global timeout reached: %s" % (name, namespace, timeout)
    sys.stderr.write("There are pending pods in node \"%s\" when an error occurred: %s\n" % (node, error))
    sys.stderr.write("error: unable to drain node \"%s\" due to error: %s, continuing command...\n" % (node, error))
    sys.stderr.write("There are pending nodes to be drained:\n %s\n" % node)
    raise Fatal("error: " + error)


def kubectl_main(args):
    """kubectl prints its errors plainly (no log line) and exits 1."""
    try:
        return kubectl(args)
    except Fatal as e:
        message = str(e)
        sys.stderr.write((message if message.startswith(("error", "Error", "The connection")) else "error: " + message) + "\n")
        return 1


def node_arg(rest):
    names = [r for r in rest if r not in ("node", "nodes", "no")]
    if not names:
        raise Fatal("error: a node name is required")
    return names[0].split("/", 1)[-1]


# ------------------------------------------------------------------------------------ main

HELP = """NAME:
   k3s - Kubernetes, but small and simple -- STAND-IN (pi-cluster-runner lab), NOT a real k3s

USAGE:
   k3s [global options] command [command options] [arguments...]

VERSION:
   %s (k3s stand-in)

COMMANDS:
   server   Run management server (stand-in: supervisor port, datastore, node registry; no Kubernetes)
   agent    Run node agent (stand-in: verifies the token's CA hash, registers, heartbeats; no kubelet)
   kubectl  Run kubectl (stand-in: nodes only, see `k3s kubectl --help`)

This program imitates the k3s contract for tests; see README.md beside its source in
pi-cluster-runner (scripts/lib/lab/k3s-standin/) for what it implements and what it does not.
""" % STANDIN_VERSION


def version_text():
    return "k3s version %s (stand-in)\ngo version %s (k3s stand-in in python %s, not a real k3s)\n" % (
        STANDIN_VERSION, GO_VERSION, platform.python_version())


def main(argv):
    global LOG_FILE
    prog = os.path.basename(argv[0])
    args = argv[1:]
    if STANDIN_ARCH and STANDIN_ARCH != node_arch():
        sys.stderr.write("k3s stand-in built for %s cannot run on %s (exec format error)\n" % (STANDIN_ARCH, node_arch()))
        return 126
    if prog == "kubectl":
        return kubectl_main(args)
    if prog in ("crictl", "ctr"):
        raise Fatal("%s is not implemented by the k3s stand-in (no container runtime)" % prog)
    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(HELP)
        return 0
    if args[0] in ("-v", "--version", "version"):
        sys.stdout.write(version_text())
        return 0
    command, rest = args[0], args[1:]
    if command == "kubectl":
        return kubectl_main(rest)
    if command not in ("server", "agent"):
        raise Fatal("%s is not implemented by the k3s stand-in (it implements server, agent, kubectl)" % command)
    if rest and rest[0] in ("-h", "--help"):
        sys.stdout.write("k3s %s -- STAND-IN, NOT a real k3s. Flags/config keys accepted:\n   %s\n" % (command, "\n   ".join("--" + f for f in sorted(flags_for(command)))))
        return 0
    settings = load_settings(command, rest)
    LOG_FILE = settings.get("log") or None
    data_dir = settings["data-dir"]
    log("info", "Starting k3s %s STAND-IN %s (not a real k3s; pi-cluster-runner lab)" % (command, STANDIN_VERSION))
    count_start(data_dir, command)
    if command == "server":
        Server(settings).run()
    else:
        run_agent(settings)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Fatal as e:
        log("fatal", str(e))
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
