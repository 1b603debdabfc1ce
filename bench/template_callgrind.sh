#!/usr/bin/env bash
# Counts the instructions one rendering takes (valgrind's callgrind: the same count on every
# run, unlike a timing on a shared machine), for the seed URL template and for a template of
# 64-bit int arithmetic, in one or two template_bench builds: to compare a change, build the
# commit before it and the commit after it, and pass both. Prints each count and the ratio.
# The count is (a run of 6 iterations - a run of 2) / 4,000 renderings, so start-up and the
# test data's construction cancel out.
# Usage: bench/template_callgrind.sh [AFTER [BEFORE]]   (each a template_bench program or a
# build directory holding bench/template_bench; default build-bench, as scripts/bench.sh runs it)
#   e.g. bench/template_callgrind.sh build-bench /tmp/base/build-bench
set -euo pipefail
program() { if [[ -d "$1" ]]; then echo "$1/bench/template_bench"; else echo "$1"; fi; }
after=$(program "${1:-build-bench}")
before=${2:+$(program "$2")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

per_render() {  # binary benchmark
  local total=()
  for n in 2 6; do
    TEMPLATE_BENCH_ITERATIONS=$n valgrind --tool=callgrind --callgrind-out-file="$work/out" \
      "$1" --benchmark_filter="^$2/" >/dev/null 2>"$work/err"
    total+=("$(awk '/^summary:/ {print $2; exit}' "$work/out")")
  done
  echo $(((total[1] - total[0]) / 4000))
}

for bm in BM_RenderSeedUrl BM_RenderIntArithmetic; do
  a=$(per_render "$after" "$bm")
  if [[ -n "$before" ]]; then
    b=$(per_render "$before" "$bm")
    python3 -c "import sys; a, b = int(sys.argv[2]), int(sys.argv[3]); print(f'{sys.argv[1]:<24} before {b:>8,} after {a:>8,} instructions/render ({(a - b) / b:+.1%})')" "$bm" "$a" "$b"
  else
    printf '%-24s %8s instructions/render\n' "$bm" "$a"
  fi
done
