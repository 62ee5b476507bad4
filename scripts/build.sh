#!/usr/bin/env bash
# Configure and build stripes in ./build (Release). Extra arguments go to CMake's configure step,
# e.g. scripts/build.sh -DSTRIPES_CUDA=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j "$(nproc)"
