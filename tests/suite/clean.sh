#!/bin/bash
# make clean leaves a clone as it was cloned: no build directory (plain,
# sanitizer, fuzzers, the benchmarks' BEFORE build) and nothing the demo
# made. Checked on a scratch clone of this tree, with each output where
# the build, make fuzz-build and make demo put it; and the fuzzers are
# built under the build directory.
. "$(dirname "$0")/../lib/lib.sh"
need git
need make

d=$T/clone
mkdir -p "$d"
(cd "$TOP" && git ls-files -z | xargs -0 cp --parents -t "$d")
git -C "$d" init -q
git -C "$d" add -A
git -C "$d" -c user.name=test -c user.email=test@localhost commit -qm clone

# make as a user runs it in the clone: not with the BUILD this test runs
# under (build-san in the sanitizer pass).
mk() { env -u BUILD -u SAN_BUILD -u FUZZ_BUILD make -C "$d" "$@"; }

# Where make puts the fuzzers: under the build directory, also when it
# is another one.
mk -n fuzz-build >"$T/fuzz.n" 2>&1 || fail "make -n fuzz-build: $(tail -3 "$T/fuzz.n")"
assert_log "$T/fuzz.n" ' -o build/fuzz/fuzz_common_allow '
mk -n BUILD=other fuzz-build >"$T/fuzz-other.n" 2>&1 ||
	fail "make -n BUILD=other fuzz-build: $(tail -3 "$T/fuzz-other.n")"
assert_log "$T/fuzz-other.n" ' -o other/fuzz/fuzz_common_allow '

# What each of them leaves: the demo's server tree is demo/srv
# (tests/demo/run, DEMO_SRV's default).
grep -q 'DEMO_SRV:-$TOP/demo/srv' "$d/tests/demo/run" ||
	fail "tests/demo/run no longer writes demo/srv: teach this test where"
for f in build/nbdd build/obj/nbdd/conn.o build/fuzz/corpus-x/seed \
	build-san/tests/common_allow_test build-fuzz/fuzz_tftpd_packet \
	build-before/src/Makefile demo/srv/demo.img demo/srv/boot/abcd1234; do
	mkdir -p "$d/$(dirname "$f")"
	echo output >"$d/$f"
done
mk clean >"$T/clean.log" 2>&1 || fail "make clean: $(cat "$T/clean.log")"
left=$(cd "$d" && git status --porcelain --ignored)
[ -z "$left" ] || fail "make clean left: $left"
echo ok
