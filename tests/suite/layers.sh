#!/bin/bash
# The layers HACKING describes hold (tests/check-layers.sh): on this tree,
# and, so that the check can fail, on scratch copies of it with one fault
# each: a pure file that logs, a file the map leaves out, a map line for a
# file that is gone, a header that names no layer or another one, a unit
# test named after no source file.
. "$(dirname "$0")/../lib/lib.sh"
need git
CHECK=$TOP/tests/check-layers.sh

"$CHECK" "$TOP" 2>"$T/top.err" || fail "$(cat "$T/top.err")"

# copy NAME: a scratch repository with this tree's sources and map.
copy() {
	local dir=$T/$1
	mkdir -p "$dir"
	(cd "$TOP" && git ls-files -z -- HACKING common dhcpproxyd tftpd nbdd \
		netboot-prep tests/unit | xargs -0 cp --parents -t "$dir")
	git -C "$dir" init -q
	git -C "$dir" add -A
	echo "$dir"
}

# faulty NAME REGEX: the check fails on copy NAME, naming the fault.
faulty() {
	local rc=0
	"$CHECK" "$T/$1" 2>"$T/$1.err" || rc=$?
	[ "$rc" = 1 ] || fail "$1: not found (exit $rc)"
	assert_log "$T/$1.err" "$2"
	note "$1: $(grep -E -- "$2" "$T/$1.err")"
}

d=$(copy clean)
"$CHECK" "$d" 2>"$T/clean.err" ||
	fail "a faithful copy fails: $(cat "$T/clean.err")"

d=$(copy logs)
sed -i 's|^#include "common/bootname.h"|&\n#include "common/log.h"|' \
	"$d/common/bootpick.h"
grep -q 'common/log.h' "$d/common/bootpick.h" || fail "no include to break"
faulty logs '^  common/bootpick.h \(pure\) includes common/log.h \(I/O\)$'

d=$(copy local-include)
echo '#include "clock.h"' >>"$d/common/numarg.c"
faulty local-include '^  common/numarg.c \(pure\) includes clock.h \(I/O\)$'

d=$(copy unmapped)
printf '#include "tftpd/source.h"\n' >"$d/tftpd/gopher.c"
git -C "$d" add tftpd/gopher.c
faulty unmapped "^  tftpd/gopher.c: missing from HACKING's map$"

d=$(copy gone)
git -C "$d" rm -qf nbdd/sizearg.c
faulty gone '^  HACKING names nbdd/sizearg.c, which is gone$'

d=$(copy unlabelled)
sed -i 1d "$d/nbdd/tlsrec.h"
faulty unlabelled '^  nbdd/tlsrec.h: the first line is not /\* layer: '

d=$(copy mislabelled)
sed -i '1s|.*|/* layer: I/O */|' "$d/tftpd/rto.h"
faulty mislabelled "^  tftpd/rto.h: says layer I/O, HACKING's map says pure$"

d=$(copy mixed-tests)
printf '/* tlsauth and the PSK file together */\n' \
	>"$d/tests/unit/nbdd_tlsstuff_test.c"
faulty mixed-tests '^  tests/unit/nbdd_tlsstuff_test.c: tests no source file \(nbdd/tlsstuff.c\)$'
echo ok
