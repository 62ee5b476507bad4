#!/usr/bin/env bash
# Prepares, on this machine, everything scripts/device-check.sh needs on a lent GPU machine.
#
# That machine has CUDA, CMake and Python, but none of Eigen, HDF5, fmt, GoogleTest, CLI11 or
# nlohmann-json, no POP909, and nothing can be fetched there; device time is short (minutes). So
# the project is built here, with nvcc, for the H100 / H200 (sm_90), and travels as programs:
#
#   build-device/                        the CUDA build (kept here for incremental rebuilds)
#   build-device-bundle/programs.tar.xz  bin/: its programs, stripped; lib/: the shared libraries
#                                        they load from the system (ldd), except glibc's own and
#                                        CUDA's (the GPU machine has CUDA 13 itself)
#   build-device-bundle/data.tar.xz      POP909 and the stripe alignment from the data root
#   build-device-bundle/cache.tar.xz     the song cache of that data root (so no rebuild there)
#
# build-device-bundle/ is ignored by git (/build*/) and is about 23 MB, compressed because the
# device tool carries at most 64 MiB with the working tree. Then, in a session that has a device:
#   run(command: "bash scripts/device-check.sh", carry: ["build-device-bundle"], timeout_s: 540)
set -euo pipefail
cd "$(dirname "$0")/.."

data_root=${STRIPES_DATA:-../shared/data}
[ -d "$data_root/pop909/POP909" ] || { echo "device-bundle: no POP909 under $data_root (set STRIPES_DATA)" >&2; exit 1; }
command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] || { echo "device-bundle: nvcc is needed to build for the GPU" >&2; exit 1; }

cmake -S . -B build-device -DCMAKE_BUILD_TYPE=Release -DSTRIPES_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 >/dev/null
cmake --build build-device -j"$(nproc)"

bundle=build-device-bundle
staging=build-device/bundle
rm -rf "$bundle" "$staging"
mkdir -p "$bundle" "$staging/bin" "$staging/lib"
programs=(stripes test_tensor test_autograd test_nn test_attention test_data test_experiments)
for program in "${programs[@]}"; do strip -o "$staging/bin/$program" "build-device/$program"; done

# The shared libraries the programs load, as resolved here; glibc's and CUDA's stay behind.
ldd "$staging"/bin/* | awk '/=> \// {print $3}' | sort -u |
  grep -v '^/usr/local/cuda' |
  grep -Ev '/(libc|libm|libdl|libpthread|librt|libresolv|libutil)\.so|/ld-linux' |
  while read -r library; do cp -L "$library" "$staging/lib/"; done
tar -C "$staging" -cf - bin lib | xz -6 -T0 >"$bundle/programs.tar.xz"

# The data and its song cache, with their modification times (the cache key hashes them).
tar -C "$data_root/.." -cf - "$(basename "$data_root")/pop909" "$(basename "$data_root")/stripe-alignment" \
  "$(basename "$data_root")/structure" |
  xz -6 -T0 >"$bundle/data.tar.xz"
mkdir -p build-device/cache
if [ ! -f build-device/cache/pop909-songs.h5 ]; then
  if [ -f build/cache/pop909-songs.h5 ]; then
    cp -p build/cache/pop909-songs.h5 build-device/cache/  # the key depends on the data, not on the build
  else
    build-device/stripes data mi --contexts TIME >/dev/null  # loads the songs through the cache, building it
  fi
fi
tar -C build-device -cf - cache | xz -6 -T0 >"$bundle/cache.tar.xz"

du -sh "$bundle" "$bundle"/*
size=$(du -sm "$bundle" | cut -f1)
[ "$size" -lt 48 ] || echo "device-bundle: warning: $size MB; with the working tree it must stay under 64 MiB" >&2
echo "device-bundle: ready; carry build-device-bundle and run scripts/device-check.sh on the GPU machine"
