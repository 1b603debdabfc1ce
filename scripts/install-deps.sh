#!/usr/bin/env bash
# Installs the Debian 12 packages that opencti-webhook's build, tests and benchmarks need,
# and only those that are missing. Safe to run again: with everything present it returns
# in well under a second without touching apt.
#   --build-only   only what building the programs needs (docker/Dockerfile's build stage)
set -euo pipefail

build_packages=(
  # toolchain
  g++ cmake ninja-build pkg-config make git
  # libraries the binaries link
  libsqlitecpp-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev libssl-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libyaml-cpp-dev libcpp-httplib-dev
  # checking a stream event's data is JSON without building it
  libsimdjson-dev
  # header-only: Boost.Multiprecision's cpp_int for the templates' unbounded ints
  libboost-dev
)
packages=(
  "${build_packages[@]}"
  # tests, fuzzing, formatting
  libgtest-dev libgmock-dev python3 sqlite3 curl openssl clang clang-format libclang-rt-14-dev
  # the PostgreSQL store's tests start throwaway clusters of this server
  postgresql-15
  # the multi-host tests build hosts as network namespaces (ip netns, veth, bridge)
  iproute2
  # benchmarks: Google Benchmark, a local nginx to deliver to, wrk as the reference client,
  # valgrind for instruction counts that do not depend on the machine's load
  libbenchmark-dev nginx-light wrk valgrind
  # container and unit-file checks that need no running engine
  docker-compose systemd
  # the connector catalog's config schema, checked against JSON Schema 2020-12
  python3-jsonschema
  # the delivery console's browser tests: Debian's Chromium, driven by playwright-core
  # (from npm, tests/browser/package-lock.json) on Node.js
  chromium
)
# Node.js and npm may come from Debian or from NodeSource (whose nodejs carries npm and
# conflicts with Debian's npm): ask only for what is missing.
if [[ "${1:-}" != "--build-only" ]]; then
  command -v node >/dev/null 2>&1 || packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || packages+=(npm)
fi

case "${1:-}" in
  "") ;;
  --build-only) packages=("${build_packages[@]}") ;;
  *) echo "usage: $0 [--build-only]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
