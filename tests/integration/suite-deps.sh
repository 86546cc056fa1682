#!/bin/bash
# tests/deps.sh: quiet when nothing is missing; as a non-root user with a
# package missing, it names the package and why, prints the exact apt-get
# line and stops with an error.
. "$(dirname "$0")/../lib.sh"
need_root

out=$("$TOP/tests/deps.sh" build) || fail "deps.sh build failed with everything installed"
[ -z "$out" ] || fail "deps.sh printed something with nothing missing: $out"

cp -r "$TOP/tests/deps.sh" "$T/deps.sh"
chmod 755 "$T" "$T/deps.sh"
rc=0
su nobody -s /bin/sh -c "DEPS_EXTRA='no-such-package-netboot  a package that does not exist' $T/deps.sh build" \
	>"$T/out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "deps.sh as nobody exited $rc, not 1"
assert_log "$T/out" "no-such-package-netboot: a package that does not exist"
assert_log "$T/out" "not root, so not installing"
assert_log "$T/out" "apt-get install -y --no-install-recommends no-such-package-netboot$"
echo ok
