#!/usr/bin/env bash
# Seeds each fuzz target's corpus (fuzz/corpus/<target>, not committed) from
# the repository's fixtures: templates, codebooks and CSV exports, good and
# broken. Run from anywhere; idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p fuzz/corpus/template fuzz/corpus/codebook fuzz/corpus/csv_survey
seed() { # target, files...
  local target=$1; shift
  for f in "$@"; do
    [ -f "$f" ] || continue
    cp "$f" "fuzz/corpus/$target/$(echo "$f" | tr '/' '_')"
  done
}
seed template reports/*.md tests/fixtures/templates/*/*.md \
  $(find tests/fixtures -name '*.md' -not -path '*/axe/*')
seed codebook data/codebook.toml data/eu2008/codebook.toml \
  $(find tests/fixtures -name '*.toml')
# the bundled survey's first 40 rows, and every broken export
head -n 41 data/survey.csv > fuzz/corpus/csv_survey/bundled_head.csv
seed csv_survey $(find tests/fixtures/broken -name '*.csv' -size -200k)
# regressions found so far are seeds too
for t in template codebook csv_survey; do
  [ -d "fuzz/regressions/$t" ] && cp fuzz/regressions/$t/* "fuzz/corpus/$t/" 2>/dev/null || true
done
for t in template codebook csv_survey; do
  echo "$t: $(ls fuzz/corpus/$t | wc -l) seeds"
done
