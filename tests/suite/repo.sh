#!/bin/bash
# The repository holds no build or test output: no tracked binary outside
# the fuzzers' seed corpora (tests/tracked-binaries.sh), checked on this
# tree and, so that the check can fail, on a scratch repository that
# tracks one.
. "$(dirname "$0")/../lib/lib.sh"
need git
CHECK=$TOP/tests/tracked-binaries.sh

git -C "$TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
	fail "$TOP is not a git work tree: run make check from a clone"
"$CHECK" "$TOP" 2>"$T/top.err" || fail "$(cat "$T/top.err")"

mkdir -p "$T/repo/tests/fuzz/corpus/f" "$T/repo/src"
git -C "$T/repo" init -q
echo 'int main(void) { return 0; }' >"$T/repo/src/main.c"
head -c 4096 /dev/urandom >"$T/repo/tests/fuzz/corpus/f/seed"
git -C "$T/repo" add -A
"$CHECK" "$T/repo" 2>"$T/clean.err" ||
	fail "a seed corpus or a source counted as output: $(cat "$T/clean.err")"
printf 'ELF\0\1\2' >"$T/repo/out.img"
git -C "$T/repo" add out.img
rc=0
"$CHECK" "$T/repo" 2>"$T/bin.err" || rc=$?
[ "$rc" = 1 ] || fail "a tracked out.img was not found (exit $rc)"
assert_log "$T/bin.err" '^  out.img$'
echo ok
