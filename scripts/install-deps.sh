#!/usr/bin/env bash
# Install the Debian packages stripes builds with — only those missing; safe to run twice.
#   Eigen (tensor math, GEMM), fmt (formatting), HDF5 (checkpoints, dumps, data cache) and its
#   command-line tools (h5dump / h5ls to inspect them), CLI11 (command-line parsing),
#   nlohmann-json (configs, benchmark JSON), GoogleTest (unit tests), Boost.Math (t and F
#   distributions for the significance tests),
#   a C++20 compiler and CMake.
# The CUDA toolkit is not a Debian package here: it is used when found in /usr/local/cuda.
set -euo pipefail

packages=(build-essential cmake libeigen3-dev libfmt-dev libhdf5-dev hdf5-tools libcli11-dev
          nlohmann-json3-dev libgtest-dev libboost-math-dev)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
"${sudo_cmd[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
