#!/usr/bin/env bash
# Compares rendering the seed URL template over the same 1,000-item works answer: our
# compiled template (bench/template_bench) against the Python connector's way, eval('f"..."')
# per item in python3. Prints both rates and the ratio (the issue's target: >= 50x).
# Usage: bench/template_vs_python.sh [BUILD_DIR]   (default build-bench)
set -euo pipefail
build=${1:-build-bench}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/works.json" <<'PY'
import json, sys
names = ["ImportFile", "AbuseIPDB", "MITRE ATT&CK", "OpenCTI Datasets"]
messages = ["done", "Import of 42 objects", "it's finished", "Expectation met"]
edges = [{"node": {"connector": {"name": names[i % 4]},
                   "messages": [{"message": messages[(i + k) % 4]} for k in range(1 + i % 3)]}}
         for i in range(1000)]
json.dump({"data": {"works": {"edges": edges}}}, open(sys.argv[1], "w"))
PY
ours=$(TEMPLATE_BENCH_DATA="$work/works.json" "$build/bench/template_bench" \
  --benchmark_filter=BM_RenderSeedUrl --benchmark_format=json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["benchmarks"][0]["items_per_second"])')
python_rate=$(python3 - "$work/works.json" <<'PY'
import json, sys, time
data = json.load(open(sys.argv[1]))
template = ("http://localhost?connector_name={item['node']['connector']['name']}"
            "&messages={item['node']['messages']}")
items = eval("data" + "['data']['works']['edges']")
n, start = 0, time.perf_counter()
while time.perf_counter() - start < 2.0:
    for item in items:
        eval('f"' + template + '"')  # what the connector does per item
        n += 1
print(n / (time.perf_counter() - start))
PY
)
python3 - "$ours" "$python_rate" <<'PY'
import sys
ours, py = float(sys.argv[1]), float(sys.argv[2])
print(f"opencti-webhook template: {ours:>14,.0f} items/s")
print(f"python eval('f\"...\"'):   {py:>14,.0f} items/s")
print(f"ratio:                    {ours / py:>14,.1f}x (target >= 50x)")
PY
