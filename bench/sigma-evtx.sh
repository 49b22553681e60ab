#!/usr/bin/env bash
# Benchmark of exhunt's Sigma engine on EVTX with the whole SigmaHQ Windows rule set.
# Run on demand:  bash bench/sigma-evtx.sh [MIN_RECORDS]
# Replicates the EVTX samples of ../shared/data/evtx (hard links) until the corpus holds at least
# MIN_RECORDS records (default 200000), then prints start-up time (loading every rule), events/s
# end to end, and peak memory. If hayabusa or chainsaw are on PATH, runs them on the same corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
min_records="${1:-200000}"
shared="../shared/data"
rules="$shared/sigma/rules/windows"
[ -d "$rules" ] || { echo "needs ../shared (the SigmaHQ corpus and EVTX samples)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# EXHUNT_BIN=path runs an already built binary instead of building one.
if [ -n "${EXHUNT_BIN:-}" ]; then
  bin="$EXHUNT_BIN"
else
  cargo build --release -p exhunt >&2
  bin=./target/release/exhunt
fi

# Records per copy of the sample set, counted by exhunt's own parser.
mkdir -p "$work/one"
find "$shared/evtx" -name '*.evtx' -print0 | while IFS= read -r -d '' f; do
  ln "$f" "$work/one/$(echo "$f" | md5sum | cut -c1-12).evtx" 2>/dev/null || cp "$f" "$work/one/"
done
per_copy=$($bin inventory --json "$work/one" | python3 -c "import json,sys; print(sum(k['events'] for k in json.load(sys.stdin)['kinds'].values()))")
copies=$(( (min_records + per_copy - 1) / per_copy ))
mkdir -p "$work/corpus"
for i in $(seq 1 "$copies"); do
  mkdir -p "$work/corpus/c$i"
  for f in "$work/one"/*.evtx; do ln "$f" "$work/corpus/c$i/" 2>/dev/null || cp "$f" "$work/corpus/c$i/"; done
done
records=$(( per_copy * copies ))
echo "corpus: $copies copies x $per_copy records = $records records" >&2

/usr/bin/time -v $bin rules check "$rules" > "$work/check.txt" 2> "$work/time-startup.txt"
startup=$(grep 'Elapsed (wall clock)' "$work/time-startup.txt" | awk '{print $NF}')
/usr/bin/time -v $bin scan "$work/corpus" --rules-only --sigma "$rules" --out "$work/out" -q --timings 2> "$work/time-scan.txt"
wall=$(grep 'Elapsed (wall clock)' "$work/time-scan.txt" | awk '{print $NF}')
secs=$(echo "$wall" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
rss=$(grep 'Maximum resident set size' "$work/time-scan.txt" | awk '{print $NF}')
findings=$(wc -l < "$work/out/findings.jsonl")
echo "rules:          $(tail -1 "$work/check.txt")"
echo "start-up:       $startup (rules check: parse + compile every rule)"
echo "records:        $records"
echo "wall:           ${secs} s"
python3 -c "print(f'events/s:       {$records/$secs:,.0f}')"
python3 -c "print(f'peak RSS:       {$rss/1024:.1f} MiB')"
echo "findings:       $findings (capped per rule, see summary.json findings_dropped)"
echo "stages (wall time, peak memory so far):"
grep '^timing:' "$work/time-scan.txt" | sed 's/^timing: /  /'
# The scan phase alone, without loading rules and writing reports.
scan_secs=$(grep '^timing: parse and detect' "$work/time-scan.txt" | awk '{print $5}')
python3 -c "print(f'parse+detect:   {$records/$scan_secs:,.0f} events/s (that stage alone)')"
for peer in hayabusa chainsaw; do
  if command -v "$peer" >/dev/null 2>&1; then
    echo "$peer found: run it on $work/corpus with the same rules for a side-by-side figure"
  fi
done
