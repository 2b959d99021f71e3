#!/usr/bin/env bash
# Runs every briefing peer on one area and checks them against each other and,
# when a coweave binary is given, against coweave's JSON.
#
#   bash benches/peers/briefing/run.sh [AREA] [OUT] [COWEAVE_BINARY]
#
# defaults: Bristol, /tmp/briefing-peers, no coweave. Run from anywhere; paths
# to the bundled data are taken relative to this script. Each peer is timed
# with /usr/bin/time -v (OUT/<peer>.time).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
AREA="${1:-Bristol}"
OUT="${2:-/tmp/briefing-peers}"
COWEAVE="${3:-}"
DATA="$ROOT/data/survey.csv"
CODEBOOK="$ROOT/data/codebook.toml"
mkdir -p "$OUT"
timed() { local name="$1"; shift; /usr/bin/time -v "$@" >"$OUT/$name.log" 2>"$OUT/$name.time" || { cat "$OUT/$name.log" "$OUT/$name.time" >&2; exit 1; }
  echo "$name: $(grep 'Elapsed' "$OUT/$name.time" | awk '{print $NF}') wall, $(grep 'Maximum resident' "$OUT/$name.time" | awk '{print $NF}') KiB max RSS"; }

timed pandas python3 "$HERE/briefing_pandas.py" "$AREA" "$DATA" "$CODEBOOK" "$OUT/pandas"
mkdir -p "$OUT/papermill"
(cd "$HERE" && timed papermill papermill briefing.ipynb "$OUT/papermill/briefing-out.ipynb" \
  -p area "$AREA" -p data "$DATA" -p codebook "$CODEBOOK" -p outdir "$OUT/papermill")
(cd "$HERE" && BRIEFING_AREA="$AREA" BRIEFING_DATA="$DATA" BRIEFING_CODEBOOK="$CODEBOOK" BRIEFING_OUTDIR="$OUT/nbconvert" \
  timed nbconvert jupyter nbconvert --to html --execute briefing.ipynb --output-dir "$OUT/nbconvert" --output notebook)
(cd "$HERE" && timed rmarkdown Rscript -e "rmarkdown::render('briefing.Rmd', params = list(area = '$AREA', data = '$DATA', codebook = '$CODEBOOK', outdir = '$OUT/rmarkdown'), output_dir = '$OUT/rmarkdown', intermediates_dir = tempdir(), quiet = TRUE)")
if [ -n "$COWEAVE" ]; then
  (cd "$ROOT" && timed coweave "$COWEAVE" render reports/council-briefing.md -p "area=$AREA" --to html,json --no-cache --out "$OUT/coweave-render")
  python3 "$HERE/coweave_json_to_csv.py" "$OUT"/coweave-render/council-briefing--*.json "$OUT/coweave" >/dev/null
fi
status=0
for peer in papermill nbconvert rmarkdown ${COWEAVE:+coweave}; do
  if python3 "$HERE/compare.py" "$OUT/pandas" "$OUT/$peer" >"$OUT/compare-$peer.txt"; then
    echo "pandas vs $peer: AGREE"
  else
    echo "pandas vs $peer: DIFFER (see $OUT/compare-$peer.txt)"; status=1
  fi
done
exit $status
