#!/usr/bin/env bash
# Merges the shards of a study written by slurm-array.sh (run it after the array, e.g. with
# --dependency=afterany:<jobid>; with unfinished shards it records their runs as pending).
#SBATCH --job-name=lico-study-merge
#SBATCH --cpus-per-task=1
#SBATCH --time=00:10:00
set -euo pipefail
OUT=${OUT:-/shared/lico-study}
LICO=${LICO:-npx --no-install lico}
exec $LICO study merge "$OUT"/shard-* --out "$OUT/merged"
