#!/bin/sh
# guard-lodo.sh: leave-one-source-out evaluation of the guard classifier (docs/GUARD.md).
# For every source S of the corpus: train without S (threshold chosen by cross-validation on
# the remaining sources only), then evaluate on S alone. Attack sources report the true
# positive rate at that threshold, benign sources the false positive rate. Nothing is tuned on
# the held-out source. Prints one markdown table; models go to a temporary directory.
#
# usage: scripts/guard-lodo.sh [CORPUS.jsonl] [SLUICE_BINARY] [-- extra `guard eval` options]
#   CORPUS defaults to ../shared/data/injection/corpus.jsonl next to the repository,
#   SLUICE_BINARY to build/sluice. Extra options after -- go to `sluice guard eval`
#   (e.g. -- --classifier-only).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
corpus=${1:-$root/../shared/data/injection/corpus.jsonl}
bin=${2:-$root/build/sluice}
[ $# -ge 1 ] && shift
[ $# -ge 1 ] && shift
[ "${1:-}" = "--" ] && shift

if [ ! -f "$corpus" ]; then
	echo "guard-lodo: corpus '$corpus' not found: it is not part of the repository;" >&2
	echo "guard-lodo: pass its path as the first argument (see docs/GUARD.md)" >&2
	exit 2
fi
if [ ! -x "$bin" ]; then
	echo "guard-lodo: sluice binary '$bin' not found: build it (make) or pass its path" >&2
	exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

sources=$(/usr/bin/python3 -c '
import json, sys
seen = {}
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip():
        d = json.loads(line)
        seen.setdefault(d.get("source", "unknown"), d["label"])
for s, l in seen.items():
    print(s, l)
' "$corpus")

echo "| held-out source | kind | n | threshold | rate at threshold |"
echo "|---|---|---:|---:|---:|"
echo "$sources" | while read -r src label; do
	model="$tmp/$src.bin"
	"$bin" guard train "$corpus" -o "$model" --exclude-source "$src" >"$tmp/train.log"
	"$bin" guard eval "$corpus" --model "$model" --source "$src" --json "$@" >"$tmp/eval.json"
	/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
a = r["all"]
attack = sys.argv[3] == "1"
rate = a["tpr"] if attack else a["fpr"]
print("| %s | %s | %d | %.4f | %s %.1f%% |" % (sys.argv[2], "attack" if attack else "benign", a["n"],
      r["threshold"], "TPR" if attack else "FPR", 100 * rate))
' "$tmp/eval.json" "$src" "$label"
done
