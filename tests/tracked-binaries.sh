#!/bin/sh
# Names every file tracked in the git work tree DIR that is binary (a NUL
# byte, as grep -I sees it), except the fuzzers' seed corpora, and exits 1
# if there is one: build and test output must never be committed.
# usage: tests/tracked-binaries.sh DIR
set -eu
cd "$1"
found=$(git ls-files -z | tr '\0' '\n' | grep -v '^tests/fuzz/corpus/' |
	while IFS= read -r f; do
		[ -s "$f" ] || continue
		grep -Iq . "$f" || echo "$f"
	done)
[ -z "$found" ] && exit 0
echo "binary files tracked (build or test output? git rm them):" >&2
echo "$found" | sed 's/^/  /' >&2
exit 1
