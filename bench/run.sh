#!/usr/bin/env bash
# Runs every bench suite: each bench/*.bench.ts is bundled with esbuild (Node 20 cannot run .ts)
# and run in a fresh process with default V8 flags; their rows go to bench/results.jsonl, and one
# table of all of them (and bench/results.json) comes out at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/bench
export DMASIM_BENCH_JSONL=bench/results.jsonl
: > "$DMASIM_BENCH_JSONL"
for f in bench/*.bench.ts; do
  out="build/bench/$(basename "$f" .ts).mjs"
  npx esbuild "$f" --bundle --platform=node --target=node20 --format=esm --log-level=warning \
    --loader:.wasm=binary --external:esbuild --outfile="$out"
  node "$out" > /dev/null
done
node scripts/bench-summary.mjs
