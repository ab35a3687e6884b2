#!/usr/bin/env bash
# Configures and builds slim into BUILD_DIR (default ./build) and installs it
# into BUILD_DIR/install. Extra arguments go to cmake's configure step.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" "$@" >/dev/null
cmake --build "$build" -j2
cmake --install "$build" --prefix "$build/install" >/dev/null
