#!/usr/bin/env bash
# Build and run every test (unit tests of each layer and the CLI tests) with CTest.
# GPU tests skip with a message when no CUDA device is present; data tests skip when POP909 is
# not found (see README, "Data").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cd build
ctest --output-on-failure -j "$(nproc)"
