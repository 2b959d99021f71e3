#!/usr/bin/env python3
"""Extracts the briefing's tables from coweave's JSON output into the CSV form
the peers write, for compare.py:

    coweave render reports/council-briefing.md -p area=Bristol --to json --out DIR
    python3 coweave_json_to_csv.py DIR/council-briefing--bristol.json OUTDIR

`--to json` (src/render/json.rs) writes {title, date, notice, results,
provenance, warnings}; `results` maps each named block that is shown to its
frame as a list of row objects, after disclosure control (suppressed cells
are null, and a `suppressed` column appears when any row is). Taken here:

  results.here             -> levels.csv      (theme, variable, statistic, estimate, ci_low, ci_high, n)
  results.gaps             -> gaps.csv        (theme, individual, collective, gap)
  results.correlates_here  -> correlates.csv  (theme, x, role, y, estimate, p, n, stars)
  results.activities       -> activities.csv  (area, theme, variable, label, often, positive, n)

each in the template's row order, with `area` (provenance.params.area) added.
Numbers are written with repr(), i.e. exactly as parsed from the JSON.

usage: coweave_json_to_csv.py JSON OUTDIR
"""
import csv
import json
import os
import sys

SRC, OUT = sys.argv[1:3]
doc = json.load(open(SRC))
results = doc["results"]
area = doc.get("provenance", {}).get("params", {}).get("area")
os.makedirs(OUT, exist_ok=True)

TABLES = [
    ("here", "levels.csv", ["area", "theme", "variable", "statistic", "estimate", "ci_low", "ci_high", "n"]),
    ("gaps", "gaps.csv", ["theme", "individual", "collective", "gap"]),
    ("correlates_here", "correlates.csv", ["area", "theme", "x", "role", "y", "estimate", "p", "n", "stars"]),
    ("activities", "activities.csv", ["area", "theme", "variable", "label", "often", "positive", "n"]),
]


def cell(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return v


for name, file, cols in TABLES:
    rows = results.get(name)
    if rows is None:
        print(f"{name}: not in the JSON results, {file} not written")
        continue
    present = set().union(*(r.keys() for r in rows)) if rows else set()
    if "statistic" in cols and rows and "statistic" not in present:
        cols = [c for c in cols if c != "statistic"]  # the template's SELECT may leave it out
    with open(os.path.join(OUT, file), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow([cell(area if c == "area" and "area" not in r else r.get(c)) for c in cols])
    suppressed = sum(1 for r in rows if r.get("suppressed"))
    print(f"{name} -> {file}: {len(rows)} rows" + (f", {suppressed} suppressed" if suppressed else ""))
