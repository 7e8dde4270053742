#!/usr/bin/env bash
# Runs (or continues) the committed studies of docs/evidence as two single-thread shards side by
# side on a 2-core machine: the Fashion-MNIST study, then the localisation study. Each shard
# continues where it stopped (finished runs come from the committed study.json files).
#   bash tools/study/run-evidence.sh            # from the repository root, after npm ci && npm run build
set -euo pipefail
cd "$(dirname "$0")/../.."
LICO=${LICO:-node packages/cli/dist/bin.js}
for i in 1 2; do
  (
    for s in fashion-mnist-1000 localisation-1000; do
      $LICO study --study "docs/evidence/$s.json" --out "docs/evidence/$s/shard-$i" --shard "$i/2" --threads 1 --backend wasm
    done
  ) > "docs/evidence/shard-$i.log" 2>&1 &
done
wait
