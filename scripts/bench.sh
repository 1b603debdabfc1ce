#!/usr/bin/env bash
# Runs every benchmark: the compiled bench/*_bench programs, then the scripted bench/*.sh
# (which compare against reference tools in the same run). Prints figures; asserts nothing.
# Usage: scripts/bench.sh BUILD_DIR   (called by `make bench`)
set -euo pipefail
build=${1:-build-bench}
cd "$(dirname "$0")/.."
shopt -s nullglob
for program in "$build"/bench/*_bench; do
  echo "=== $(basename "$program")"
  "$program" --benchmark_counters_tabular=true
done
for script in bench/*.sh; do
  echo "=== $(basename "$script")"
  bash "$script" "$build"
done
