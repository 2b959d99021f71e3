#!/usr/bin/env python3
"""pandas + scipy + statsmodels + matplotlib peer of coweave's council briefing
(reports/council-briefing.md), for one council area:

  - levels of co-production in the area, by theme: `individual`, `collective`,
    `time`, `time_current`, `time_more` (weighted by the codebook's weight
    variable when it has one, as `weight: auto` does: weighted proportion with
    a Wilson 95% CI on Kish's effective n, or weighted mean with a t CI on it;
    base n unweighted)                                   -> levels.csv
  - the individual - collective gap per theme            -> gaps.csv
  - Pearson r (pairwise deletion), p and n of efficacy, the three
    satisfactions and conditions (and their sub-items) with individual and
    collective co-production, by theme                   -> correlates.csv
  - the individual activities ranked by "often"          -> activities.csv
  - three charts (levels with CIs, activities, correlates heatmap) as SVG,
    and briefing.html with the tables and the charts inlined.

Cells resting on fewer than MIN_BASE respondents are suppressed (estimate,
CI, p blanked, base kept), as coweave's disclosure control does with the
template's default `disclosure.min_base` of 10.

usage: briefing_pandas.py AREA DATA.csv CODEBOOK.toml OUTDIR

The `# %%` markers split the script into the cells of briefing.ipynb
(make_notebook.py builds the notebook from this file).
"""
# %% parameters
import sys

AREA, DATA, CODEBOOK, OUTDIR = sys.argv[1:5]

# %% setup
import html
import io
import os
import sys
import textwrap
import tomllib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

MIN_BASE = 10  # the template's disclosure.min_base (coweave's default)
LEVEL_MEASURES = ["individual", "collective", "time", "time_current", "time_more"]
CORRELATES_X = ["efficacy", "sat_consultation", "sat_information", "sat_response", "conditions"]
CORRELATES_Y = ["individual", "collective"]
BINARY_ROLES = {"individual", "collective", "time", "time_current", "time_more"}
THEMATIC_ROLES = ["individual", "collective", "time", "time_current", "time_more",
                  "conditions", "sat_response", "sat_information", "sat_consultation", "efficacy"]

os.makedirs(OUTDIR, exist_ok=True)
with open(CODEBOOK, "rb") as f:
    cb = tomllib.load(f)
variables = cb["variables"]
vsets = cb.get("value_sets", {})
role_var = lambda role: next((v for v in variables if v["role"] == role), None)
area_def = next((a for a in cb["areas"] if a["name"] == AREA), None)
if area_def is None:
    sys.exit(f"unknown area {AREA!r}: the codebook has {[a['name'] for a in cb['areas']]}")
theme_label = {t["id"]: t["label"] for t in cb["themes"]}
denominator_all = cb.get("options", {}).get("individual_denominator", "answered") == "all"

# %% data: the area's respondents, answer codes as floats
id_col = role_var("id")["name"]
area_col = role_var("area")["name"]
header = pd.read_csv(DATA, nrows=0).columns
df = pd.read_csv(DATA, dtype={c: np.float64 for c in header if c != id_col})
df = df[df[area_col] == area_def["code"]].reset_index(drop=True)
weight_var = role_var("weight")  # `weight: auto`: weighted when the codebook has one
weights = df[weight_var["name"]] if weight_var else pd.Series(1.0, index=df.index)
print(f"{AREA}: {len(df)} respondents, {'weighted' if weight_var else 'unweighted'}")


def asked_in(v):
    """The areas that were asked a variable (codebook `areas`, else by theme)."""
    if "areas" in v:
        return set(v["areas"])
    if "theme" in v:
        return {a["name"] for a in cb["areas"] if v["theme"] in a["themes"]}
    return {a["name"] for a in cb["areas"]}


def coded(v):
    """(score, positive 0/1) of a variable; don't know, missing and blank -> NaN."""
    vs = vsets[v["values"]]
    if vs.get("reverse"):
        raise NotImplementedError("reversed value sets")
    raw = df[v["name"]]
    bad = set(vs.get("dont_know", [])) | set(vs.get("missing", []))
    ok = raw.notna() & ~raw.isin(list(bad))
    scores = {int(k): float(s) for k, s in vs.get("scores", {}).items()}
    score = raw.where(ok)
    if scores:
        score = score.map(lambda c: scores.get(int(c), c) if c == c else c)
    positive = raw.isin(vs.get("positive", [])).astype(float).where(ok)
    return score, positive


# %% measures: one row per respondent x theme of the area (docs/measures.md)
columns = []  # (role, sub) in coweave's frame order: the role, then its subs
for role in THEMATIC_ROLES:
    vs = [v for v in variables if v["role"] == role]
    if vs:
        columns.append((role, None))
        for v in vs:
            if "sub" in v and (role, v["sub"]) not in columns:
                columns.append((role, v["sub"]))

parts = []
for tid in [t["id"] for t in cb["themes"] if t["id"] in area_def["themes"]]:
    part = pd.DataFrame({"area": AREA, "theme": tid, "weight": weights.values})
    for role, sub in columns:
        name = role if sub is None else f"{role}__{sub}"
        items = [v for v in variables if v["role"] == role and v.get("theme") == tid
                 and (sub is None or v.get("sub") == sub) and AREA in asked_in(v)]
        if not items:
            part[name] = np.nan
            continue
        num = pd.Series(0.0, index=df.index)
        answered = pd.Series(0.0, index=df.index)
        for v in items:
            score, positive = coded(v)
            val = positive if role in BINARY_ROLES else score
            num += val.fillna(0.0)
            answered += val.notna()
        den = float(len(items)) if (role == "individual" and denominator_all) else answered
        part[name] = (num / den).where(answered > 0).values
    parts.append(part)
long = pd.concat(parts, ignore_index=True)


# %% levels: weighted shares (Wilson on Kish's n) or means (t), by theme
def level(y, w):
    """(statistic, estimate, ci_low, ci_high, n) of the non-missing y."""
    keep = y.notna() & (w > 0)
    y, w = y[keep].to_numpy(), w[keep].to_numpy()
    n = len(y)
    binary = bool(np.isin(y, [0.0, 1.0]).all())
    stat = "proportion" if binary else "mean"
    if binary:
        p = np.sum(w * y) / np.sum(w)
        n_eff = np.sum(w) ** 2 / np.sum(w * w)
        lo, hi = proportion_confint(min(p * n_eff, n_eff), n_eff, alpha=0.05, method="wilson")
        return stat, p, max(lo, 0.0), min(hi, 1.0), n
    if n < 2:
        return stat, np.nan, np.nan, np.nan, n
    n_eff = np.sum(w) ** 2 / np.sum(w * w)
    d = DescrStatsW(y, weights=w * n_eff / np.sum(w))
    lo, hi = d.tconfint_mean(alpha=0.05)
    return stat, d.mean, lo, hi, n


rows = []
for m in LEVEL_MEASURES:
    if m not in long:
        continue
    for theme, g in long.groupby("theme", sort=True):
        if g[m].isna().all():
            continue  # not asked in this theme
        stat, est, lo, hi, n = level(g[m], g["weight"])
        rows.append({"area": AREA, "theme": theme, "variable": m, "statistic": stat,
                     "estimate": est, "ci_low": lo, "ci_high": hi, "n": n})
levels = pd.DataFrame(rows, columns=["area", "theme", "variable", "statistic",
                                     "estimate", "ci_low", "ci_high", "n"])
small = levels["n"] < MIN_BASE
levels.loc[small, ["estimate", "ci_low", "ci_high"]] = np.nan
levels = levels.sort_values(["theme", "variable"], kind="stable").reset_index(drop=True)
levels.to_csv(os.path.join(OUTDIR, "levels.csv"), index=False)
levels

# %% gaps: individual index minus collective share, by theme
# (an inner join, as the template's SQL: a theme lacking either measure has no row)
pick = lambda var: levels.loc[levels["variable"] == var, ["theme", "estimate"]].rename(columns={"estimate": var})
gaps = pick("individual").merge(pick("collective"), on="theme").sort_values("theme").reset_index(drop=True)
gaps["gap"] = gaps["individual"] - gaps["collective"]
gaps.to_csv(os.path.join(OUTDIR, "gaps.csv"), index=False)
gaps

# %% correlates: Pearson r with pairwise deletion, unweighted, by theme
star = lambda p: "" if not p == p else "**" if p < 0.01 else "*" if p < 0.05 else ""
rows = []
for role in CORRELATES_X:
    xs = [c for c in long.columns if c == role or c.startswith(role + "__")]
    for x in xs:
        for y in CORRELATES_Y:
            for theme, g in long.groupby("theme", sort=True):
                if g[x].isna().all() or g[y].isna().all():
                    continue
                pair = g[[x, y]].dropna()
                n = len(pair)
                r = p = np.nan
                if n >= 3 and pair[x].nunique() > 1 and pair[y].nunique() > 1:
                    r, p = stats.pearsonr(pair[x], pair[y])
                rows.append({"area": AREA, "theme": theme, "x": x, "role": role,
                             "sub": x.split("__", 1)[1] if "__" in x else "", "y": y,
                             "estimate": r, "p": p, "n": n})
correlates = pd.DataFrame(rows, columns=["area", "theme", "x", "role", "sub", "y", "estimate", "p", "n"])
correlates.loc[correlates["n"] < MIN_BASE, ["estimate", "p"]] = np.nan
correlates["stars"] = correlates["p"].map(star)
correlates["_order"] = correlates["role"].map({r: i for i, r in enumerate(CORRELATES_X)})
correlates = (correlates.sort_values(["_order", "x", "theme", "y"], kind="stable")
              .drop(columns="_order").reset_index(drop=True))
correlates.to_csv(os.path.join(OUTDIR, "correlates.csv"), index=False)
correlates

# %% activities: each individual item, share "often" / any positive answer (unweighted)
rows = []
for v in variables:
    if v["role"] != "individual" or AREA not in asked_in(v):
        continue
    vs = vsets[v["values"]]
    score, positive = coded(v)
    scored = score.notna()
    if not scored.any():
        continue
    first = vs["positive"][0]
    rows.append({"area": AREA, "theme": v.get("theme"), "variable": v["name"], "label": v["label"],
                 "often": (df.loc[scored, v["name"]] == first).mean(),
                 "positive": positive[scored].mean(), "n": int(scored.sum())})
activities = pd.DataFrame(rows, columns=["area", "theme", "variable", "label", "often", "positive", "n"])
activities.loc[activities["n"] < MIN_BASE, ["often", "positive"]] = np.nan
activities = activities.sort_values("often", ascending=False, kind="stable").reset_index(drop=True)
activities.to_csv(os.path.join(OUTDIR, "activities.csv"), index=False)


# %% charts (SVG)
try:  # in Jupyter, show each chart in the notebook too
    from IPython.display import SVG, display
    get_ipython()
    in_notebook = True
except (ImportError, NameError):
    in_notebook = False


def svg(fig, name):
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    with open(os.path.join(OUTDIR, name), "w") as f:
        f.write(text)
    if in_notebook:
        display(SVG(text))
    return text[text.index("<svg"):]


figs = {}
shown = levels[levels["variable"].isin(["individual", "collective"])]
themes = list(dict.fromkeys(shown["theme"]))
fig, ax = plt.subplots(figsize=(7, 4))
width = 0.38
for k, var in enumerate(["individual", "collective"]):
    d = shown[shown["variable"] == var].set_index("theme").reindex(themes)
    pos = np.arange(len(themes)) + (k - 0.5) * width
    est = 100 * d["estimate"]
    err = [100 * (d["estimate"] - d["ci_low"]), 100 * (d["ci_high"] - d["estimate"])]
    ax.bar(pos, est, width, yerr=err, capsize=3, label=var)
ax.set_xticks(np.arange(len(themes)), [theme_label[t] for t in themes])
ax.set_ylabel("Per cent (individual: index of activities done)")
ax.set_ylim(0, 100)
ax.legend(frameon=False)
ax.set_title(f"Individual and collective co-production by theme, {AREA} (95% CIs)", fontsize=10)
figs["levels"] = svg(fig, "fig-levels.svg")

fig, ax = plt.subplots(figsize=(7, 0.35 * len(activities) + 1))
ax.barh(np.arange(len(activities))[::-1], 100 * activities["often"])
ax.set_yticks(np.arange(len(activities))[::-1], activities["label"], fontsize=8)
ax.set_xlabel("Do it often (%)")
ax.set_title(f"Co-production activities in rank order, {AREA}", fontsize=10)
figs["activities"] = svg(fig, "fig-activities.svg")

heat = correlates.pivot_table(index="x", columns=["theme", "y"], values="estimate", dropna=False, sort=False)
marks = correlates.pivot_table(index="x", columns=["theme", "y"], values="stars", aggfunc="first",
                               dropna=False, sort=False).reindex_like(heat)
fig, ax = plt.subplots(figsize=(1.6 * heat.shape[1] + 2, 0.5 * heat.shape[0] + 1.5))
im = ax.imshow(heat.to_numpy(float), cmap="RdBu_r", vmin=-0.5, vmax=0.5, aspect="auto")
for i in range(heat.shape[0]):
    for j in range(heat.shape[1]):
        v = heat.iat[i, j]
        if v == v:
            ax.text(j, i, f"{v:.2f}{marks.iat[i, j] or ''}", ha="center", va="center", fontsize=8)
ax.set_yticks(range(heat.shape[0]), heat.index)
ax.set_xticks(range(heat.shape[1]), [textwrap.fill(f"{theme_label[t]}: {y}", 18) for t, y in heat.columns], fontsize=8)
fig.colorbar(im, ax=ax, label="Pearson r")
ax.set_title(f"Correlates of co-production, {AREA} (** p < 0.01, * p < 0.05)", fontsize=10)
figs["correlates"] = svg(fig, "fig-correlates.svg")

# %% HTML page: tables and charts inlined
pct = lambda v: "&ndash;" if v != v else f"{100 * v:.0f}%"
levels_tbl = pd.DataFrame({
    "Theme": levels["theme"].map(theme_label), "Measure": levels["variable"],
    "%": levels["estimate"].map(pct),
    "95% CI": [f"{pct(a)}&ndash;{pct(b)}" for a, b in zip(levels["ci_low"], levels["ci_high"])],
    "Base": levels["n"]})
gaps_tbl = pd.DataFrame({"Theme": gaps["theme"].map(theme_label), "Individual": gaps["individual"].map(pct),
                         "Collective": gaps["collective"].map(pct),
                         "Gap (points)": gaps["gap"].map(lambda g: "&ndash;" if g != g else f"{100 * g:.0f}")})
corr_tbl = correlates.assign(cell=[("&ndash;" if r != r else f"{r:.2f}{s}")
                                   for r, s in zip(correlates["estimate"], correlates["stars"])])
corr_tbl = corr_tbl.pivot_table(index="x", columns=["theme", "y"], values="cell", aggfunc="first", sort=False)
corr_tbl.columns = [f"{theme_label[t]}: {y}" for t, y in corr_tbl.columns]
title = f"Co-production of public services in {AREA}"
page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:52em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}}svg{{max-width:100%;height:auto}}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<p>Briefing for {html.escape(cb['survey'].get('audience', ''))}, from {html.escape(cb['survey'].get('name', ''))}.
Cells resting on fewer than {MIN_BASE} respondents are suppressed.</p>
<h2>How much residents co-produce</h2>
<figure>{figs['levels']}<figcaption>Individual and collective co-production by theme, {AREA} (95% confidence intervals)</figcaption></figure>
<p>Levels of co-production, {AREA}</p>
{levels_tbl.to_html(index=False, escape=False)}
<h3>Which activities residents do most</h3>
<figure>{figs['activities']}<figcaption>Co-production activities in rank order: residents who do each often, {AREA}</figcaption></figure>
<h3>Individual against collective</h3>
{gaps_tbl.to_html(index=False, escape=False)}
<h2>What goes with co-production</h2>
<figure>{figs['correlates']}<figcaption>Correlates of co-production, {AREA} (Pearson r; ** p &lt; 0.01, * p &lt; 0.05)</figcaption></figure>
{corr_tbl.to_html(escape=False)}
</body></html>
"""
with open(os.path.join(OUTDIR, "briefing.html"), "w") as f:
    f.write(page)
print(f"wrote {OUTDIR}/briefing.html, levels.csv ({len(levels)} rows), gaps.csv ({len(gaps)}), "
      f"correlates.csv ({len(correlates)}), activities.csv ({len(activities)})")
