#!/usr/bin/env bash
# Seeds the fuzz corpora from fixtures/ (valid files, invalid files, the
# bad-input corpus and past crash inputs). Run from anywhere; then e.g.
#   cargo +nightly fuzz run parse_files -- -max_total_time=600
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fixtures="$here/../fixtures"
for target in parse_files assignment_sync; do
    mkdir -p "$here/corpus/$target"
done
n=0
while IFS= read -r -d '' f; do
    # Small files only: a seed is a starting point, not a stress case.
    [ "$(stat -c %s "$f")" -le 65536 ] || continue
    name="seed-$(sha1sum "$f" | cut -c1-16)"
    cp "$f" "$here/corpus/parse_files/$name"
    n=$((n + 1))
done < <(find "$fixtures/valid" "$fixtures/invalid" "$fixtures/bad" "$fixtures/fuzz-regressions" \
    -type f \( -name '*.json' -o -name 'content' -o -name 'crash-*' \) -print0 2>/dev/null)
# The assignment target reads its input as choices, not JSON: any bytes
# make a start; the fixtures' assignments give it structured ones.
cp "$here"/corpus/parse_files/* "$here/corpus/assignment_sync/"
echo "seeded $n files into fuzz/corpus/{parse_files,assignment_sync}"
