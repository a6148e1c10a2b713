#!/usr/bin/env python3
"""Terraform end to end: apply, no-change plan and destroy of N credentials, against three floors.

Five columns, run side by side in one invocation and interleaved (each repetition runs every column once,
in this order, so that a noisy minute on the machine hits them all alike):
  floor     N terraform_data resources: Terraform's own cost (no plugin process, no gRPC, no schema)
  ref       N modelkeys_credential of the plugin floor (../shared/bench/refprovider, as it is: today's
            29 attributes): a framework provider with our credential's exact schema that does nothing;
            the floor for any plugin provider
  vault     N vault_kv_secret_v2 of terraform-provider-vault against `vault server -dev` (in memory)
            on 127.0.0.1: the peer a team would use instead for the same job (vault_generic_secret
            with the legacy 1.9.0 build, VAULT_PROVIDER_VERSION=1.9.0)
  embedded  modelkeys provider, endpoint file://... (the in-process API over SQLite)
  server    modelkeys provider against modelkeys-server on 127.0.0.1 (SQLite)

Each resource is one credential: name, model_provider "mistral", an api_key, verify = false (the issue's
shape; no connections: the plugin floor has no connection resource). The vault column stores the same
three fields as a KV v2 secret.

Per command it records wall time, the CPU time of Terraform and its plugins together (wait4 rusage, which
includes the plugins Terraform reaped), the plugins' own CPU and peak RSS (VmHWM and utime+stime of
Terraform's child processes, sampled every 50 ms from /proc) and, for vault and server, the server
process's CPU (from /proc/PID/stat before and after). For the server column it also reads
modelkeys_http_requests_total from /metrics around the no-change plan: reads per resource on refresh
and writes during a no-change plan.

The peers' binaries come from scripts/bench-peers.sh (built once from the Go module proxy and cached in
~/.cache/modelkeys/); --modes drops columns.

Standard library only. Usage: bench/tf_bench.py --n 100,300,1000 --reps 5 --out bench/results/tf.json
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(ROOT, "bin")
TF = os.environ.get("TERRAFORM", shutil.which("terraform") or "/usr/local/bin/terraform")
TOKEN = "bench-bootstrap-token-0123456789"
METRICS_TOKEN = "bench-metrics-token-0123456789"  # /metrics on the API's address takes the server's metrics token
VAULT_TOKEN = "bench-vault-root-token"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MODES = ("floor", "ref", "vault", "embedded", "server")


def peers(what):
    out = subprocess.run([os.path.join(ROOT, "scripts", "bench-peers.sh"), what], check=True,
                         stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()
    return out[-1]


def api_key(i="${count.index}"):
    return f"bench-mistral-key-{i}-0000000000000000wxyz"


def modelkeys_config(n):
    return f"""terraform {{
  required_providers {{
    modelkeys = {{ source = "modelkeys/modelkeys" }}
  }}
}}

provider "modelkeys" {{}}

resource "modelkeys_credential" "c" {{
  count          = {n}
  name           = "bench-cred-${{count.index}}"
  model_provider = "mistral"
  api_key        = "{api_key()}"
  verify         = false
}}
"""


def floor_config(n):
    return f"""resource "terraform_data" "c" {{
  count = {n}
  input = {{ name = "bench-cred-${{count.index}}", model_provider = "mistral", api_key = "{api_key()}" }}
}}
"""


def vault_resource(provider_dir):
    """The KV resource the peer's provider has: VAULT_KV_RESOURCE, else what scripts/bench-peers.sh
    recorded beside the binary (kv-resource), else vault_kv_secret_v2 (every provider since 3.7.0)."""
    if os.environ.get("VAULT_KV_RESOURCE"):
        return os.environ["VAULT_KV_RESOURCE"]
    try:
        with open(os.path.join(provider_dir, "kv-resource")) as f:
            return f.read().strip()
    except OSError:
        return "vault_kv_secret_v2"


def vault_config(n, addr, resource):
    data = f'jsonencode({{ name = "bench-cred-${{count.index}}", model_provider = "mistral", api_key = "{api_key()}" }})'
    if resource == "vault_kv_secret_v2":
        body = f'  mount     = "secret"\n  name      = "bench-cred-${{count.index}}"\n  data_json = {data}\n'
    else:
        body = f'  path      = "secret/bench-cred-${{count.index}}"\n  data_json = {data}\n'
    return f"""terraform {{
  required_providers {{
    vault = {{ source = "hashicorp/vault" }}
  }}
}}

provider "vault" {{
  address = "{addr}"
  token   = "{VAULT_TOKEN}"
}}

resource "{resource}" "c" {{
  count     = {n}
{body}}}
"""


def proc_cpu_s(pid):
    """utime+stime of pid in seconds, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


class ChildPoller(threading.Thread):
    """Samples the children of Terraform's process (its plugins) every 50 ms: peak VmHWM and last CPU."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.stop, self.peak_kib, self.cpu = pid, threading.Event(), 0, {}

    def run(self):
        while not self.stop.is_set():
            try:
                kids = set()
                for task in os.listdir(f"/proc/{self.pid}/task"):
                    with open(f"/proc/{self.pid}/task/{task}/children") as f:
                        kids.update(f.read().split())
            except OSError:
                kids = set()
            for k in kids:
                c = proc_cpu_s(k)
                if c is not None:
                    self.cpu[k] = c
                try:
                    with open(f"/proc/{k}/status") as f:
                        m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
                    if m:
                        self.peak_kib = max(self.peak_kib, int(m.group(1)))
                except OSError:
                    pass
            self.stop.wait(0.05)


def run_tf(workdir, env, *args, expect=(0,), server_pid=None):
    """Runs terraform; returns dict(wall, cpu, plugin_cpu, plugin_peak_mib, server_cpu), code, output."""
    srv0 = proc_cpu_s(server_pid) if server_pid else None
    with tempfile.TemporaryFile(mode="w+") as out:
        t0 = time.monotonic()
        p = subprocess.Popen([TF, *args, "-no-color", "-input=false"], cwd=workdir, env=env,
                             stdout=out, stderr=subprocess.STDOUT)
        poller = ChildPoller(p.pid)
        poller.start()
        _, status, ru = os.wait4(p.pid, 0)
        dt = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        poller.stop.set()
        poller.join()
        out.seek(0)
        text = out.read()
    if p.returncode not in expect:
        sys.stderr.write(text[-4000:])
        raise SystemExit(f"terraform {' '.join(args)} exited {p.returncode} in {workdir}")
    m = {"wall": dt, "cpu": ru.ru_utime + ru.ru_stime, "plugin_cpu": sum(poller.cpu.values()),
         "plugin_peak_mib": poller.peak_kib / 1024}
    if server_pid:
        srv1 = proc_cpu_s(server_pid)
        m["server_cpu"] = (srv1 - srv0) if srv0 is not None and srv1 is not None else None
    return m, p.returncode, text


def metrics(url):
    req = urllib.request.Request(url + "/metrics", headers={"Authorization": "Bearer " + METRICS_TOKEN})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("modelkeys_http_requests_total{"):
            labels, value = line[len("modelkeys_http_requests_total{"):].rsplit("} ", 1)
            d = dict(re.findall(r'(\w+)="([^"]*)"', labels))
            out[(d["method"], d["route"], d["code"])] = float(value)
    return out


def diff(before, after):
    return {k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0) > 0}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, workdir):
        self.log = open(os.path.join(workdir, "server.log"), "w")
        env = dict(os.environ, MODELKEYS_BOOTSTRAP_TOKEN=TOKEN, MODELKEYS_METRICS_TOKEN=METRICS_TOKEN)
        self.p = subprocess.Popen([os.path.join(BIN, "modelkeys-server"), "serve", "--dev",
                                   "--db", os.path.join(workdir, "server.db"), "--listen", "127.0.0.1:0",
                                   "--max-credentials", "1000000", "--reverify-interval", "0"],
                                  env=env, stdout=self.log, stderr=self.log)
        self.url = None
        for _ in range(100):
            with open(self.log.name) as f:
                m = re.search(r'"url":"([^"]+)"', f.read())
            if m:
                self.url = m.group(1)
                break
            time.sleep(0.1)
        if not self.url:
            raise SystemExit("modelkeys-server did not start; see " + self.log.name)

    def close(self):
        self.p.terminate()
        self.p.wait(timeout=30)
        self.log.close()


class Vault:
    """vault server -dev: in memory, KV v2 mounted at secret/, root token VAULT_TOKEN."""

    def __init__(self, workdir, binary):
        self.log = open(os.path.join(workdir, "vault.log"), "w")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
        env["HOME"] = workdir  # the dev server writes ~/.vault-token
        self.p = subprocess.Popen([binary, "server", "-dev", f"-dev-listen-address=127.0.0.1:{port}",
                                   f"-dev-root-token-id={VAULT_TOKEN}"],
                                  env=env, stdout=self.log, stderr=self.log)
        for _ in range(300):
            try:
                with urllib.request.urlopen(self.url + "/v1/sys/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.p.poll() is not None:
                raise SystemExit("vault server -dev exited; see " + self.log.name)
            time.sleep(0.1)
        else:
            raise SystemExit("vault server -dev did not become healthy; see " + self.log.name)
        # The dev server mounts KV v2 at secret/ a moment after it reports healthy.
        req = urllib.request.Request(self.url + "/v1/sys/mounts/secret/tune", headers={"X-Vault-Token": VAULT_TOKEN})
        for _ in range(100):
            try:
                with urllib.request.urlopen(req, timeout=2) as r:
                    if json.load(r).get("options", {}).get("version") == "2":
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("vault dev server has no KV v2 at secret/; see " + self.log.name)

    def close(self):
        self.p.terminate()
        self.p.wait(timeout=30)
        self.log.close()


class Column:
    """One column at one N: its working directory, CLI configuration, environment and server."""

    def __init__(self, mode, n, root, bins):
        self.mode, self.n, self.server = mode, n, None
        self.workdir = os.path.join(root, f"{mode}-{n}")
        os.makedirs(self.workdir, exist_ok=True)
        overrides = {"floor": {}, "ref": {"registry.terraform.io/modelkeys/modelkeys": bins.get("ref")},
                     "vault": {"registry.terraform.io/hashicorp/vault": bins.get("vault_provider")},
                     "embedded": {"registry.terraform.io/modelkeys/modelkeys": BIN},
                     "server": {"registry.terraform.io/modelkeys/modelkeys": BIN}}[mode]
        rc = os.path.join(self.workdir, "terraformrc")
        with open(rc, "w") as f:
            f.write("provider_installation {\n  dev_overrides {\n")
            for src, d in overrides.items():
                f.write(f'    "{src}" = "{d}"\n')
            f.write("  }\n  direct {}\n}\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELKEYS_", "TF_", "VAULT_", "GOGC"))}
        env.update(TF_CLI_CONFIG_FILE=rc, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
        if mode == "server":
            self.server = Server(self.workdir)
            env.update(MODELKEYS_ENDPOINT=self.server.url, MODELKEYS_TOKEN=TOKEN)
        elif mode == "embedded":
            env.update(MODELKEYS_ENDPOINT="file://" + os.path.join(self.workdir, "embedded.db"))
        elif mode == "vault":
            self.server = Vault(self.workdir, bins["vault"])
        self.env = env
        with open(os.path.join(self.workdir, "main.tf"), "w") as f:
            if mode == "floor":
                f.write(floor_config(n))
            elif mode == "vault":
                f.write(vault_config(n, self.server.url, bins["vault_resource"]))
            else:
                f.write(modelkeys_config(n))
        self.res = {k: [] for k in ("apply", "plan", "destroy")}

    def cycle(self):
        """apply, no-change plan, destroy; appends one measurement of each."""
        n, mode, spid = self.n, self.mode, self.server.p.pid if self.server else None
        m, _, out = run_tf(self.workdir, self.env, "apply", "-auto-approve", server_pid=spid)
        if f"Resources: {n} added" not in out:
            raise SystemExit(f"{mode} N={n}: apply did not add {n} resources:\n{out[-2000:]}")
        self.res["apply"].append(m)
        before = metrics(self.server.url) if mode == "server" else None
        m, code, out = run_tf(self.workdir, self.env, "plan", "-detailed-exitcode", expect=(0, 2), server_pid=spid)
        if code != 0:
            raise SystemExit(f"{mode} N={n}: the plan after apply is not empty:\n{out[-3000:]}")
        if mode == "server":
            d = diff(before, metrics(self.server.url))
            m["reads_per_resource"] = sum(v for (mt, r, c), v in d.items() if mt == "GET" and "{id}" in r) / n
            m["writes"] = sum(v for (mt, r, c), v in d.items() if mt in ("POST", "PATCH", "PUT", "DELETE"))
            m["requests"] = {f"{mt} {r} {c}": v for (mt, r, c), v in d.items()}
        self.res["plan"].append(m)
        m, _, out = run_tf(self.workdir, self.env, "destroy", "-auto-approve", server_pid=spid)
        if f"Resources: {n} destroyed" not in out:
            raise SystemExit(f"{mode} N={n}: destroy did not destroy {n} resources:\n{out[-2000:]}")
        self.res["destroy"].append(m)

    def summary(self):
        s = {}
        for op, ms in self.res.items():
            if not ms:
                continue
            s[op] = ms
            for k in ("wall", "cpu", "plugin_cpu", "server_cpu"):
                vals = [x[k] for x in ms if x.get(k) is not None]
                if vals:
                    s[f"{op}_{k}_median_s"] = round(statistics.median(vals), 3)
            s[f"{op}_plugin_peak_mib"] = round(max(x["plugin_peak_mib"] for x in ms), 1)
        return s

    def close(self):
        if self.server:
            self.server.close()


def fmt_line(n, mode, s, reps):
    parts = [f"N={n:5d} {mode:9s} reps={reps}"]
    for op in ("apply", "plan", "destroy"):
        if f"{op}_wall_median_s" in s:
            parts.append(f"{op}={s[op + '_wall_median_s']:.2f}s (cpu {s[op + '_cpu_median_s']:.2f}"
                         f" plugin {s.get(op + '_plugin_cpu_median_s', 0):.2f}"
                         + (f" server {s[op + '_server_cpu_median_s']:.2f}" if op + "_server_cpu_median_s" in s else "")
                         + ")")
    parts.append(f"plugin_peak_rss={s.get('apply_plugin_peak_mib', 0):.1f}MiB")
    if s.get("plan") and "reads_per_resource" in s["plan"][0]:
        parts.append(f"reads/resource={[x['reads_per_resource'] for x in s['plan']]} "
                     f"plan writes={[x['writes'] for x in s['plan']]}")
    return " ".join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", default="100,300,1000")
    ap.add_argument("--reps", default="5", help="repetitions; one value or one per N (5,5,3)")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "tf.json"))
    ap.add_argument("--keep", action="store_true", help="keep the working directories")
    a = ap.parse_args()
    ns = [int(x) for x in a.n.split(",")]
    reps = [int(x) for x in a.reps.split(",")]
    reps = reps * len(ns) if len(reps) == 1 else reps
    modes = [m for m in a.modes.split(",") if m]
    bins = {}
    if "ref" in modes:
        bins["ref"] = peers("refprovider")
    if "refcur" in modes:
        sys.exit("--modes refcur is gone: the plugin floor (ref) has today's 29 attributes itself")
    if "vault" in modes:
        bins["vault"] = peers("vault")
        bins["vault_provider"] = peers("provider")
        bins["vault_resource"] = vault_resource(bins["vault_provider"])
    root = tempfile.mkdtemp(prefix="modelkeys-tfbench-")
    results = {"terraform": subprocess.run([TF, "version"], capture_output=True, text=True,
                                           env=dict(os.environ, TF_CLI_CONFIG_FILE="/dev/null")).stdout.splitlines()[0],
               "cpus": os.cpu_count(), "vault_resource": bins.get("vault_resource"), "bins": bins,
               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": {}}
    try:
        for n, r in zip(ns, reps):
            cols = []
            try:
                for mode in modes:
                    cols.append(Column(mode, n, root, bins))
                for i in range(r):
                    for c in cols:
                        c.cycle()
                    print(f"N={n} repetition {i + 1}/{r} done", file=sys.stderr, flush=True)
            finally:
                for c in cols:
                    c.close()
            for c in cols:
                s = c.summary()
                results["runs"][f"{c.mode}/{n}"] = s
                print(fmt_line(n, c.mode, s, r), flush=True)
    finally:
        results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(results, f, indent=1)
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)
    runs = results["runs"]
    print("\nratios, wall time (medians): modelkeys / terraform_data, / plugin floor, / vault peer; cpu = Terraform and plugins, summed")
    for n in ns:
        for mode in ("embedded", "server"):
            m = runs.get(f"{mode}/{n}")
            if not m:
                continue
            for op in ("apply", "plan", "destroy"):
                cells = []
                for base in ("floor", "ref", "vault"):
                    b = runs.get(f"{base}/{n}")
                    if b:
                        cells.append(f"{base} {m[op + '_wall_median_s'] / b[op + '_wall_median_s']:.2f}x"
                                     f" (cpu {m[op + '_cpu_median_s'] / max(b[op + '_cpu_median_s'], 1e-9):.2f}x)")
                print(f"  N={n:5d} {mode:9s} {op:8s} " + "  ".join(cells))


if __name__ == "__main__":
    main()
