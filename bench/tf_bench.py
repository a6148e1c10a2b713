#!/usr/bin/env python3
"""Terraform end to end: apply, no-change plan and destroy of N credentials + N connections.

Three columns, run side by side in one invocation:
  floor     2N terraform_data resources (N, plus N that reference them), Terraform's own cost
  embedded  modelkeys provider, endpoint file://... (the in-process API over SQLite)
  server    modelkeys provider against modelkeys-server on 127.0.0.1 (SQLite)

For the server column the script also reads modelkeys_http_requests_total from /metrics before and
after the no-change plan: reads per resource on refresh and writes during a no-change plan. The
provider's peak RSS (VmHWM) is sampled from /proc during every apply.

Standard library only. Usage: bench/tf_bench.py --n 100,500,1000 --reps 3 --out bench/results/tf.json
"""
import argparse
import json
import os
import re
import shutil
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
  model_provider = "openai"
  api_key        = "sk-bench-plaintext-${{count.index}}-000000000000wxyz"
  verify         = false
  labels         = {{ team = "bench" }}
}}

resource "modelkeys_connection" "m" {{
  count         = {n}
  name          = "bench-conn-${{count.index}}"
  credential_id = modelkeys_credential.c[count.index].id
  model         = "gpt-4o-mini"
}}
"""


def floor_config(n):
    return f"""resource "terraform_data" "c" {{
  count = {n}
  input = {{ name = "bench-cred-${{count.index}}", key = "sk-bench-${{count.index}}" }}
}}

resource "terraform_data" "m" {{
  count = {n}
  input = {{ name = "bench-conn-${{count.index}}", credential_id = terraform_data.c[count.index].id }}
}}
"""


class RSSPoller(threading.Thread):
    """Samples VmHWM of every process whose comm starts with name, every 100 ms."""

    def __init__(self, name):
        super().__init__(daemon=True)
        self.name, self.peak_kib, self.stop = name[:15], 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open(f"/proc/{pid}/comm") as f:
                        if not f.read().strip().startswith(self.name):
                            continue
                    with open(f"/proc/{pid}/status") as f:
                        m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
                    if m:
                        self.peak_kib = max(self.peak_kib, int(m.group(1)))
                except OSError:
                    pass
            self.stop.wait(0.1)


def run_tf(workdir, env, *args, expect=(0,)):
    t0 = time.monotonic()
    p = subprocess.run([TF, *args, "-no-color", "-input=false"], cwd=workdir, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    dt = time.monotonic() - t0
    if p.returncode not in expect:
        sys.stderr.write(p.stdout[-4000:])
        raise SystemExit(f"terraform {' '.join(args)} exited {p.returncode} in {workdir}")
    return dt, p.returncode, p.stdout


def metrics(url):
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
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


class Server:
    def __init__(self, workdir):
        self.log = open(os.path.join(workdir, "server.log"), "w")
        env = dict(os.environ, MODELKEYS_BOOTSTRAP_TOKEN=TOKEN)
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


def bench_one(n, mode, reps, root):
    workdir = os.path.join(root, f"{mode}-{n}")
    os.makedirs(workdir, exist_ok=True)
    rc = os.path.join(workdir, "terraformrc")
    with open(rc, "w") as f:
        f.write('provider_installation {\n  dev_overrides {\n'
                f'    "registry.terraform.io/modelkeys/modelkeys" = "{BIN}"\n  }}\n  direct {{}}\n}}\n')
    with open(os.path.join(workdir, "main.tf"), "w") as f:
        f.write(floor_config(n) if mode == "floor" else modelkeys_config(n))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELKEYS_", "TF_"))}
    env.update(TF_CLI_CONFIG_FILE=rc, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    server = None
    if mode == "server":
        server = Server(workdir)
        env.update(MODELKEYS_ENDPOINT=server.url, MODELKEYS_TOKEN=TOKEN)
    elif mode == "embedded":
        env.update(MODELKEYS_ENDPOINT="file://" + os.path.join(workdir, "embedded.db"))
    res = {"apply": [], "plan": [], "destroy": [], "provider_peak_rss_mib": 0.0}
    try:
        for _ in range(reps):
            poller = RSSPoller("terraform-provider-modelkeys")
            poller.start()
            dt, _, out = run_tf(workdir, env, "apply", "-auto-approve")
            poller.stop.set()
            poller.join()
            res["provider_peak_rss_mib"] = max(res["provider_peak_rss_mib"], poller.peak_kib / 1024)
            if f"Resources: {2 * n} added" not in out:
                raise SystemExit(f"{mode} N={n}: apply did not add {2 * n} resources:\n{out[-2000:]}")
            res["apply"].append(dt)
            before = metrics(server.url) if server else None
            dt, code, out = run_tf(workdir, env, "plan", "-detailed-exitcode", expect=(0, 2))
            if code != 0:
                raise SystemExit(f"{mode} N={n}: the plan after apply is not empty:\n{out[-3000:]}")
            res["plan"].append(dt)
            if server:
                d = diff(before, metrics(server.url))
                reads = sum(v for (m, r, c), v in d.items() if m == "GET" and "{id}" in r)
                writes = sum(v for (m, r, c), v in d.items() if m in ("POST", "PATCH", "PUT", "DELETE"))
                res.setdefault("refresh_reads_per_resource", []).append(reads / (2 * n))
                res.setdefault("plan_writes", []).append(writes)
                res.setdefault("plan_requests", []).append({f"{m} {r} {c}": v for (m, r, c), v in d.items()})
            dt, _, out = run_tf(workdir, env, "destroy", "-auto-approve")
            if f"Resources: {2 * n} destroyed" not in out:
                raise SystemExit(f"{mode} N={n}: destroy did not destroy {2 * n} resources:\n{out[-2000:]}")
            res["destroy"].append(dt)
    finally:
        if server:
            server.close()
    for k in ("apply", "plan", "destroy"):
        res[k + "_median_s"] = round(statistics.median(res[k]), 3)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", default="100,500,1000")
    ap.add_argument("--reps", default="3", help="repetitions; one value or one per N (3,3,1)")
    ap.add_argument("--modes", default="floor,embedded,server")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "tf.json"))
    ap.add_argument("--keep", action="store_true", help="keep the working directories")
    a = ap.parse_args()
    ns = [int(x) for x in a.n.split(",")]
    reps = [int(x) for x in a.reps.split(",")]
    reps = reps * len(ns) if len(reps) == 1 else reps
    root = tempfile.mkdtemp(prefix="modelkeys-tfbench-")
    results = {"terraform": subprocess.run([TF, "version"], capture_output=True, text=True).stdout.splitlines()[0],
               "cpus": os.cpu_count(), "runs": {}}
    try:
        for n, r in zip(ns, reps):
            for mode in a.modes.split(","):
                res = bench_one(n, mode, r, root)
                results["runs"][f"{mode}/{n}"] = res
                extra = ""
                if "refresh_reads_per_resource" in res:
                    extra = f" reads/resource={res['refresh_reads_per_resource']} plan writes={res['plan_writes']}"
                print(f"N={n:5d} {mode:9s} reps={r} apply={res['apply_median_s']:.2f}s plan={res['plan_median_s']:.2f}s "
                      f"destroy={res['destroy_median_s']:.2f}s provider_peak_rss={res['provider_peak_rss_mib']:.1f}MiB{extra}",
                      flush=True)
    finally:
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(results, f, indent=1)
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)
    runs = results["runs"]
    print("\nratios (modelkeys / floor, medians):")
    for n in ns:
        fl = runs.get(f"floor/{n}")
        for mode in ("embedded", "server"):
            m = runs.get(f"{mode}/{n}")
            if fl and m:
                print(f"  N={n:5d} {mode:9s} apply {m['apply_median_s'] / fl['apply_median_s']:.2f}x "
                      f"plan {m['plan_median_s'] / fl['plan_median_s']:.2f}x destroy {m['destroy_median_s'] / fl['destroy_median_s']:.2f}x")
    if len(ns) > 1:
        lo, hi = min(ns), max(ns)
        for mode in a.modes.split(","):
            if f"{mode}/{lo}" in runs and f"{mode}/{hi}" in runs:
                r1, r2 = runs[f"{mode}/{lo}"], runs[f"{mode}/{hi}"]
                print(f"  {mode:9s} N={hi}/N={lo}: apply {r2['apply_median_s'] / r1['apply_median_s']:.2f} "
                      f"plan {r2['plan_median_s'] / r1['plan_median_s']:.2f}")


if __name__ == "__main__":
    main()
