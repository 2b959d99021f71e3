#!/usr/bin/env python3
"""Builds briefing.ipynb from briefing_pandas.py, so the notebook peer runs the
same code as the script peer: each `# %% name` section becomes a code cell;
the `parameters` section (argv) becomes a cell tagged `parameters` (papermill)
whose defaults can also be set by environment variables (for
`jupyter nbconvert --execute`, which cannot pass parameters).

usage: python3 make_notebook.py   (writes briefing.ipynb beside it)
"""
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
src = open(os.path.join(HERE, "briefing_pandas.py")).read()
sections = re.split(r"^# %% ?(.*)$", src, flags=re.M)
doc = re.search(r'"""(.*?)"""', sections[0], re.S).group(1).strip()
cells = [{"cell_type": "markdown", "metadata": {}, "source": [
    "# Council briefing: pandas notebook peer of coweave's `reports/council-briefing.md`\n\n",
    "Generated from `briefing_pandas.py` by `make_notebook.py`; do not edit by hand.\n\n",
    "Run: `jupyter nbconvert --to html --execute briefing.ipynb` (parameters from the environment: "
    "`BRIEFING_AREA`, `BRIEFING_DATA`, `BRIEFING_CODEBOOK`, `BRIEFING_OUTDIR`) or "
    "`papermill briefing.ipynb out.ipynb -p area Bristol -p data ... -p codebook ... -p outdir ...`.\n\n",
    "```\n" + doc + "\n```\n"]}]


def code(text, tags=()):
    lines = text.strip("\n").splitlines(keepends=True)
    return {"cell_type": "code", "execution_count": None, "metadata": {"tags": list(tags)} if tags else {},
            "outputs": [], "source": lines}


for name, body in zip(sections[1::2], sections[2::2]):
    name = name.strip()
    if name == "parameters":
        cells.append(code('''import os

area = os.environ.get("BRIEFING_AREA", "Bristol")
data = os.environ.get("BRIEFING_DATA", "../../../data/survey.csv")
codebook = os.environ.get("BRIEFING_CODEBOOK", "../../../data/codebook.toml")
outdir = os.environ.get("BRIEFING_OUTDIR", "out-notebook")
''', tags=["parameters"]))
        cells.append(code("AREA, DATA, CODEBOOK, OUTDIR = area, data, codebook, outdir\n"))
        continue
    cells.append({"cell_type": "markdown", "metadata": {}, "source": [f"## {name}\n"]})
    cells.append(code(body))

nb = {"cells": cells, "metadata": {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
for i, c in enumerate(nb["cells"]):
    c["id"] = f"cell-{i:02d}"
with open(os.path.join(HERE, "briefing.ipynb"), "w") as f:
    json.dump(nb, f, indent=1)
    f.write("\n")
print(f"wrote briefing.ipynb ({len(cells)} cells)")
