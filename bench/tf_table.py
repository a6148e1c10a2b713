#!/usr/bin/env python3
"""Markdown tables for BENCHMARKS.md from bench/tf_bench.py's JSON (bench/results/tf.json).

Usage: bench/tf_table.py [bench/results/tf.json]
"""
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BASES = (("floor", "terraform_data"), ("ref", "plugin floor"), ("refcur", "plugin floor, 29 attributes (runs before 2026-12-07)"), ("vault", "Vault peer"))
OPS = (("apply", "apply"), ("plan", "no-change plan"), ("destroy", "destroy"))


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "bench", "results", "tf.json")
    with open(path) as f:
        res = json.load(f)
    runs = res["runs"]
    ns = sorted({int(k.split("/")[1]) for k in runs})
    bases = [(b, name) for b, name in BASES if any(f"{b}/{n}" in runs for n in ns)]
    reps = {n: len(next(iter(v["apply"] for k, v in runs.items() if k.endswith(f"/{n}")))) for n in ns}
    print(f"{res['terraform']}, started {res.get('started')}, finished {res.get('finished')}; "
          f"repetitions: " + ", ".join(f"N={n}: {reps[n]}" for n in ns) + "\n")

    print("Wall time, medians (s):\n")
    cols = [b for b, _ in bases] + ["embedded", "server"]
    print("| N | operation | " + " | ".join(dict(bases).get(c, c) for c in cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for n in ns:
        for op, opname in OPS:
            cells = []
            for c in cols:
                r = runs.get(f"{c}/{n}")
                cells.append(f"{r[op + '_wall_median_s']:.2f}" if r else "–")
            print(f"| {n:,} | {opname} | " + " | ".join(cells) + " |")

    for mode in ("embedded", "server"):
        print(f"\nmodelkeys {mode}: wall-time ratio to each floor (CPU-time ratio, Terraform and plugins together, in brackets):\n")
        print("| N | operation | " + " | ".join(name for _, name in bases) + " |")
        print("|---|---|" + "---|" * len(bases))
        for n in ns:
            m = runs.get(f"{mode}/{n}")
            if not m:
                continue
            for op, opname in OPS:
                cells = []
                for b, _ in bases:
                    r = runs.get(f"{b}/{n}")
                    if not r:
                        cells.append("–")
                        continue
                    w = m[op + "_wall_median_s"] / r[op + "_wall_median_s"]
                    c = m[op + "_cpu_median_s"] / max(r[op + "_cpu_median_s"], 1e-9)
                    cells.append(f"{w:.2f}× ({c:.2f}×)")
                print(f"| {n:,} | {opname} | " + " | ".join(cells) + " |")

    print("\nCPU time, medians (s): Terraform and its plugins together / the plugin processes alone / the server process (vault, server):\n")
    cols = [b for b, _ in bases] + ["embedded", "server"]
    print("| N | operation | " + " | ".join(dict(bases).get(c, c) for c in cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for n in ns:
        for op, opname in OPS:
            cells = []
            for c in cols:
                r = runs.get(f"{c}/{n}")
                if not r:
                    cells.append("–")
                    continue
                s = f"{r[op + '_cpu_median_s']:.2f} / {r.get(op + '_plugin_cpu_median_s', 0):.2f}"
                if op + "_server_cpu_median_s" in r:
                    s += f" / {r[op + '_server_cpu_median_s']:.2f}"
                cells.append(s)
            print(f"| {n:,} | {opname} | " + " | ".join(cells) + " |")

    print("\nPlugin peak RSS during apply (MiB):\n")
    print("| N | " + " | ".join(dict(bases).get(c, c) for c in cols if c != "floor") + " |")
    print("|---|" + "---|" * (len(cols) - 1))
    for n in ns:
        cells = []
        for c in cols:
            if c == "floor":
                continue
            r = runs.get(f"{c}/{n}")
            cells.append(f"{r['apply_plugin_peak_mib']:.0f}" if r else "–")
        print(f"| {n:,} | " + " | ".join(cells) + " |")
    for n in ns:
        s = runs.get(f"server/{n}")
        if s and s.get("plan"):
            reads = [x.get("reads_per_resource") for x in s["plan"]]
            writes = [x.get("writes") for x in s["plan"]]
            print(f"\nserver N={n}: reads per resource on refresh {reads}, writes during the no-change plan {writes}")


if __name__ == "__main__":
    main()
