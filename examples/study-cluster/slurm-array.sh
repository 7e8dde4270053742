#!/usr/bin/env bash
# One shard of a lico study per Slurm array task, each writing to its own directory on shared
# storage. Submit from the project directory (where `lico` is installed):
#
#   sbatch --array=1-4 examples/study-cluster/slurm-array.sh            # 4 shards
#   STUDY=my-study.yaml OUT=/shared/lico/my-study sbatch --array=1-4 examples/study-cluster/slurm-array.sh
#   sbatch --dependency=afterany:<jobid> examples/study-cluster/slurm-merge.sh
#
# A task that is killed or requeued continues where it stopped (finished runs are kept, the
# interrupted one resumes from its checkpoint), so --requeue is safe.
#SBATCH --job-name=lico-study
#SBATCH --cpus-per-task=1
#SBATCH --mem=6G
#SBATCH --time=24:00:00
#SBATCH --requeue
#SBATCH --output=lico-study-%A_%a.log
set -euo pipefail
: "${SLURM_ARRAY_TASK_ID:?run this as a Slurm array job: sbatch --array=1-N $0}"
STUDY=${STUDY:-docs/evidence/fashion-mnist-1000.json}
OUT=${OUT:-/shared/lico-study}
# Shards = tasks in the array (1-based ids, --array=1-N), unless SHARDS says otherwise.
SHARDS=${SHARDS:-${SLURM_ARRAY_TASK_COUNT:?set SHARDS or submit with --array=1-N}}
# How to run lico: the installed bin, or the built CLI of a checkout.
LICO=${LICO:-npx --no-install lico}
exec $LICO study --study "$STUDY" --out "$OUT/shard-$SLURM_ARRAY_TASK_ID" --shard "$SLURM_ARRAY_TASK_ID/$SHARDS" \
  --threads "${SLURM_CPUS_PER_TASK:-1}" --quiet
