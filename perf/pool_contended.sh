#!/bin/sh
# perf/pool_contended.sh - end-to-end speed of two lmrt builds side by side, on an idle machine
# and with a busy loop pinned to one core (another process holding a core: the case where a
# thread pool that waits for every thread at the end of each op collapses).
#
#   sh perf/pool_contended.sh OLD_LMRT NEW_LMRT [MODEL] [ROUNDS]
#
# OLD_LMRT / NEW_LMRT are `lmrt` binaries (e.g. main built in a copy of the tree, and this
# tree's build/lmrt); MODEL defaults to SmolLM2-135M-Instruct Q4_0. Each round runs
# `lmrt bench -p 128 -n 64 -t 1,2 -r 3` for old then new, idle, then the same with the busy
# loop (taskset -c 1), alternating so both builds see the same neighbours. Prints one TSV table:
# round, load (idle|busy), build, threads, test, tok/s (median of the bench's repeats).
# The busy loop is this script's child and is killed when each busy phase ends.
set -eu
old=${1:?usage: pool_contended.sh OLD_LMRT NEW_LMRT [MODEL] [ROUNDS]}
new=${2:?usage: pool_contended.sh OLD_LMRT NEW_LMRT [MODEL] [ROUNDS]}
model=${3:-build/models/smollm2/SmolLM2-135M-Instruct.Q4_0.gguf}
rounds=${4:-3}
ncpu=$(nproc)
busy_cpu=$((ncpu - 1))

bench() { # round load label binary
    "$4" bench -m "$model" -p 128 -n 64 -t 1,2 -r 3 | tail -n +2 |
        awk -F'\t' -v r="$1" -v l="$2" -v b="$3" '{ print r "\t" l "\t" b "\t" $2 "\t" $3 "\t" $4 }'
}

spin=
trap 'if [ -n "$spin" ]; then kill "$spin" 2>/dev/null; fi' EXIT INT TERM
printf 'round\tload\tbuild\tthreads\ttest\ttok_s\n'
i=1
while [ "$i" -le "$rounds" ]; do
    bench "$i" idle old "$old"
    bench "$i" idle new "$new"
    taskset -c "$busy_cpu" sh -c 'while :; do :; done' &
    spin=$!
    sleep 0.2
    bench "$i" busy old "$old" || true
    bench "$i" busy new "$new" || true
    kill "$spin"
    wait "$spin" 2>/dev/null || true
    spin=
    i=$((i + 1))
done
