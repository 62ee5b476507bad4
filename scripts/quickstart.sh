#!/usr/bin/env bash
# Quick start: install what is missing, build, and run the main job.
# (For now the main job is the gradient check of every differentiable op; the experiments
# issue replaces it with the small harmonization preset.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
build/stripes gradcheck
