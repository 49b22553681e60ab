#!/usr/bin/env bash
# Benchmark of `exhunt scan` on a large benign corpus written by the sample generator.
# Run on demand (not part of the tests):  bash bench/scan-throughput.sh [SIZE_MB] [CORPUS_DIR]
# Prints corpus size, wall time, MB/s of text logs scanned with the built-in rule pack, events/s
# and peak resident memory (from /usr/bin/time -v).
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb="${1:-2048}"
corpus="${2:-bench/corpus}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# EXHUNT_BIN=path runs an already built binary (the generator is still built when needed).
if [ -z "${EXHUNT_BIN:-}" ]; then
  cargo build --release -p exhunt -p exhunt-samplegen >&2
fi
bin="${EXHUNT_BIN:-./target/release/exhunt}"
if [ ! -f "$corpus/.complete-$size_mb" ]; then
  rm -rf "$corpus"
  echo "generating a ${size_mb} MB benign corpus in $corpus ..." >&2
  start=$(date +%s.%N)
  ./target/release/exhunt-samplegen corpus --seed 1 --size-mb "$size_mb" --out "$corpus" >&2
  end=$(date +%s.%N)
  echo "generator: $(echo "$size_mb / ($end - $start)" | bc -l | xargs printf '%.0f') MB/s" >&2
  touch "$corpus/.complete-$size_mb"
fi
bytes=$(du -sb --exclude='.complete-*' "$corpus" | cut -f1)
# Warm the page cache so the figure measures exhunt, not the disk.
find "$corpus" -type f -exec cat {} + > /dev/null

/usr/bin/time -v "$bin" scan "$corpus" --out "$out" -q 2> "$out/time.txt"
wall=$(grep 'Elapsed (wall clock)' "$out/time.txt" | awk '{print $NF}')
secs=$(echo "$wall" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
rss_kb=$(grep 'Maximum resident set size' "$out/time.txt" | awk '{print $NF}')
events=$(python3 -c "import json,sys; print(json.load(open('$out/summary.json'))['events_parsed'])")
findings=$(wc -l < "$out/findings.jsonl")
mb=$(echo "$bytes / 1048576" | bc -l)
printf 'corpus:      %s (%.0f MiB, %s files)\n' "$corpus" "$mb" "$(find "$corpus" -type f ! -name '.complete-*' | wc -l)"
printf 'events:      %s\n' "$events"
printf 'wall:        %.2f s\n' "$secs"
printf 'throughput:  %.1f MiB/s, %.0f events/s\n' "$(echo "$mb / $secs" | bc -l)" "$(echo "$events / $secs" | bc -l)"
printf 'peak RSS:    %.1f MiB\n' "$(echo "$rss_kb / 1024" | bc -l)"
printf 'findings:    %s (a benign corpus should give none)\n' "$findings"
printf 'cpu:         %s\n' "$(grep 'Percent of CPU' "$out/time.txt" | awk '{print $NF}')"
