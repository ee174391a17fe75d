#!/usr/bin/env python3
"""Turns benches/compare.sh's per-run TSV into the Markdown summary table.

    python3 benches/report.py runs.tsv

One row per (scenario, nbthread, proxy), in run order; numbers are medians
over the successful rounds. Runs that failed are counted in the "ok" column,
and client-side errors (wrk socket errors, non-2xx answers) are listed.
"""

import csv
import statistics
import sys


def median(rows, key):
    vals = [float(r[key]) for r in rows]
    return statistics.median(vals) if vals else None


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def main(path):
    with open(path, newline="") as f:
        runs = list(csv.DictReader(f, delimiter="\t"))

    groups = {}
    for r in runs:
        groups.setdefault((r["scenario"], r["nbthread"], r["proxy"]), []).append(r)

    print("| scenario | nbthread | proxy | req/s | spread | p99 ms | CPU µs/req | proxy CPU % | req/s vs haproxy | ok runs |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    notes = []
    for (scenario, nbt, proxy), rows in groups.items():
        ok = [r for r in rows if r["status"] == "ok"]
        rps = median(ok, "rps")
        ref = [r for r in groups.get((scenario, nbt, "haproxy"), []) if r["status"] == "ok"]
        ref_rps = median(ref, "rps")
        vals = [float(r["rps"]) for r in ok]
        spread = f"±{50 * (max(vals) - min(vals)) / rps:.0f}%" if len(vals) > 1 and rps else "n/a"
        ratio = f"{rps / ref_rps:.2f}×" if rps is not None and ref_rps else "n/a"
        print(
            f"| {scenario} | {nbt} | {proxy} | {fmt(rps, ',.0f')} | {spread} | {fmt(median(ok, 'p99_ms'), '.2f')}"
            f" | {fmt(median(ok, 'cpu_us_per_req'), '.1f')} | {fmt(median(ok, 'proxy_cpu_pct'), '.0f')}"
            f" | {ratio} | {len(ok)}/{len(rows)} |"
        )
        failed = sorted({r["status"] for r in rows if r["status"] != "ok"})
        if failed:
            notes.append(f"{scenario} nbthread={nbt} {proxy}: failed runs ({', '.join(failed)})")
        errs = sum(int(r["errors"]) for r in ok)
        non2xx = sum(int(r["non2xx"]) for r in ok)
        if errs or non2xx:
            notes.append(f"{scenario} nbthread={nbt} {proxy}: {errs} socket errors, {non2xx} non-2xx answers (all rounds)")
    if notes:
        print()
        for n in notes:
            print(f"- {n}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
