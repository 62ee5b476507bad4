#!/usr/bin/env bash
# Quick start: install what is missing, build, and run the main job — the paper's melody
# harmonization at the small preset (docs/harmonization.md), end to end on 2 CPU cores:
#   1. train RoPE(C) and RoPEPool on the BIN and TIME contexts (4 runs, one seed), evaluate each
#      in-domain (T = 256) and at 4x length (T = 1024), print the table beside the paper's Table III
#      and draw Figure 4 (runs/quickstart/report/);
#   2. the toy study's Figures 2-3 (runs/toy/);
#   3. harmonize one held-out POP909 melody, read from a MIDI file as a musician's melody would be
#      (runs/quickstart/example-harmonized.mid).
# Every step skips what a previous run of this script finished (the runs resume from their
# checkpoints), so running it again is quick. Extra arguments go to `stripes reproduce`
# (e.g. --seeds 3, --data DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh

build/stripes reproduce --table 3 --preset small --seeds 1 --pes rope-c,ropepool --contexts BIN,TIME \
  --runs-dir runs/quickstart "$@"

build/stripes toy --out runs/toy

# Song 108 is in the test split: the models never saw it.
build/stripes data export 108 -o runs/quickstart/example-108.mid
build/stripes harmonize runs/quickstart/example-108.mid --model runs/quickstart/ropepool-bin-s0 \
  -o runs/quickstart/example-harmonized.mid

echo
echo "results: runs/quickstart/report/table.md, runs/quickstart/report/figure4.svg, runs/toy/*.svg,"
echo "         runs/quickstart/example-harmonized.mid (melody, bridge, generated piano, estimated chords)"
