#!/usr/bin/env python3
"""Compare two briefing outputs (the CSVs written by the peers, or by
coweave_json_to_csv.py from coweave's JSON) in OUT_A and OUT_B:

  levels.csv      keyed by (theme, variable): statistic, n, estimate, ci_low, ci_high
  gaps.csv        keyed by theme: individual, collective, gap
  correlates.csv  keyed by (theme, x, y): n, stars, estimate, p
  activities.csv  keyed by variable: n, often, positive (only if both have it)

For each table: the same set of rows, no key twice, the rows in the same
order (the template's ORDER BY), n and text columns equal exactly, numbers
within 1e-9 relative or 1e-12 absolute, p within 1e-6 relative; an empty
field (NaN: suppressed or not computable) only where the other is empty too.
Prints the worst absolute and relative difference of each column, then AGREE
(exit 0) or DIFFER (exit 1).

usage: compare.py OUT_A OUT_B
"""
import os
import sys

import numpy as np
import pandas as pd

A, B = sys.argv[1:3]
TABLES = [  # file, keys, exact columns, numeric columns, p columns, required
    ("levels.csv", ["theme", "variable"], ["statistic", "n"], ["estimate", "ci_low", "ci_high"], [], True),
    ("gaps.csv", ["theme"], [], ["individual", "collective", "gap"], [], True),
    ("correlates.csv", ["theme", "x", "y"], ["n", "stars"], ["estimate"], ["p"], True),
    ("activities.csv", ["variable"], ["n"], ["often", "positive"], [], False),
]
ok = True


def fail(msg):
    global ok
    ok = False
    print("  FAIL", msg)


def read(d, name):
    path = os.path.join(d, name)
    if not os.path.exists(path):
        return None
    return pd.read_csv(path, keep_default_na=False, na_values=[""],
                       dtype={"theme": str, "variable": str, "x": str, "y": str, "stars": str})


for name, keys, exact, nums, ps, required in TABLES:
    a, b = read(A, name), read(B, name)
    if a is None or b is None:
        if required:
            fail(f"{name} missing in {'A' if a is None else 'B'}")
        else:
            print(f"{name}: not in both, skipped")
        continue
    print(f"{name}: {len(a)} rows in A, {len(b)} in B")
    for side, t in (("A", a), ("B", b)):
        if t.duplicated(keys).any():
            fail(f"{side} has a key twice: {t[t.duplicated(keys)][keys].values.tolist()[:3]}")
    if "stars" in exact:
        for t in (a, b):
            t["stars"] = t["stars"].fillna("")
    m = a.merge(b, on=keys, how="outer", suffixes=("_a", "_b"), indicator=True)
    only = m[m["_merge"] != "both"]
    if len(only):
        fail(f"{len(only)} rows in one side only, e.g. {only[keys + ['_merge']].values.tolist()[:3]}")
    m = m[m["_merge"] == "both"].reset_index(drop=True)
    if len(a) == len(b) and not len(only):
        same_order = (a[keys].reset_index(drop=True) == b[keys].reset_index(drop=True)).all().all()
        if same_order:
            print("  order: the same")
        else:
            fail("rows in a different order")
    where = lambda k: "/".join(str(m.loc[k, key]) for key in keys)
    for c in exact:
        if f"{c}_a" not in m or f"{c}_b" not in m:
            fail(f"{c}: column missing")
            continue
        x, y = m[f"{c}_a"], m[f"{c}_b"]
        bad = ~((x == y) | (x.isna() & y.isna()))
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            fail(f"{c} differs in {int(bad.sum())} rows, e.g. {where(k)}: {x[k]!r} vs {y[k]!r}")
        else:
            print(f"  {c}: equal in all {len(m)} rows")
    for c in nums + ps:
        x, y = m[f"{c}_a"].to_numpy(float), m[f"{c}_b"].to_numpy(float)
        nan_x, nan_y = np.isnan(x), np.isnan(y)
        if (nan_x != nan_y).any():
            fail(f"{c}: empty on one side only in {(nan_x != nan_y).sum()} rows")
        absd = np.where(nan_x | nan_y, 0.0, np.abs(x - y))
        scale = np.maximum(np.abs(x), np.abs(y))
        rel = np.divide(absd, scale, out=np.zeros_like(absd), where=scale > 0)
        over = rel > 1e-6 if c in ps else (rel > 1e-9) & (absd > 1e-12)
        if not len(x):
            continue
        i, j = int(np.argmax(rel)), int(np.argmax(absd))
        print(f"  {c}: {len(x)} values ({int((nan_x & nan_y).sum())} empty in both), max abs diff {absd[j]:.2e} "
              f"({where(j)}), max rel diff {rel[i]:.2e} ({where(i)}), over tolerance {int(over.sum())}")
        if over.any():
            fail(f"{c}: {int(over.sum())} values over tolerance")
print("AGREE" if ok else "DIFFER")
sys.exit(0 if ok else 1)
