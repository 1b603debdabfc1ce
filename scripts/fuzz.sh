#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*_fuzz.cpp) with clang into build-fuzz and runs each.
# Usage: scripts/fuzz.sh [--short] [SECONDS]   (--short: about 60 s in all, for make sanitize;
# default: 30 minutes per target, for make fuzz). New corpus entries go to build-fuzz/corpus.
# Exits non-zero when a target finds a crash, a hang (timeout) or a sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=1800
if [[ "${1:-}" == "--short" ]]; then
  seconds=60
  shift
fi
seconds=${1:-$seconds}
build=${FUZZ_BUILD:-build-fuzz}
generator=$(command -v ninja >/dev/null 2>&1 && echo "-G Ninja" || true)
# Everything is instrumented, so the sanitizers see inside the library under test.
cmake -S . -B "$build" $generator -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEBHOOK_FUZZ=ON \
  -DBUILD_TESTING=OFF -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
targets=()
for source in fuzz/*_fuzz.cpp; do targets+=(--target "$(basename "$source" .cpp)"); done
cmake --build "$build" -j "$(nproc)" "${targets[@]}"
shopt -s nullglob
for program in "$build"/fuzz/*_fuzz; do
  name=$(basename "$program" _fuzz)
  work="$build/corpus/$name"
  mkdir -p "$work" "$build/artifacts"
  max_len=4096
  # Answers hold whole documents: the seeds of deep nesting and long numbers are larger.
  [[ "$name" == answer ]] && max_len=16384
  echo "=== fuzzing $name for ${seconds}s"
  "$program" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$name-" \
    "$work" "fuzz/corpus/$name"
done
