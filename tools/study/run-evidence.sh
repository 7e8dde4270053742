#!/usr/bin/env bash
# Runs (or continues) the committed studies of docs/evidence as two single-thread shards side by
# side on a 2-core machine: the Fashion-MNIST study, then the localisation study. Each shard
# continues where it stopped (finished runs come from the committed study.json files).
#
# Every run of a study must come from the same code (a later commit may change float rounding),
# so the shards run the commit named in docs/evidence/code-commit, unpacked and built once in
# $STUDY_CODE_DIR (default /tmp/lico-study-<commit>); their outputs go to this checkout's
# docs/evidence. Rebuilding this checkout meanwhile does not disturb them.
#   bash tools/study/run-evidence.sh            # from anywhere; needs git, npm (registry) once
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
COMMIT=$(cat docs/evidence/code-commit)
CODE=${STUDY_CODE_DIR:-/tmp/lico-study-${COMMIT:0:12}}
if [ ! -f "$CODE/packages/cli/dist/bin.js" ]; then
  rm -rf "$CODE.partial" && mkdir -p "$CODE.partial"
  git archive "$COMMIT" | tar -x -C "$CODE.partial"
  (cd "$CODE.partial" && npm ci --no-audit --no-fund && npm run build)
  rm -rf "$CODE" && mv "$CODE.partial" "$CODE"
fi
LICO=${LICO:-node $CODE/packages/cli/dist/bin.js}
for i in 1 2; do
  (
    for s in fashion-mnist-1000 localisation-1000; do
      $LICO study --study "$ROOT/docs/evidence/$s.json" --out "$ROOT/docs/evidence/$s/shard-$i" --shard "$i/2" --threads 1 --backend wasm
    done
  ) > "$ROOT/docs/evidence/shard-$i.log" 2>&1 &
done
wait
