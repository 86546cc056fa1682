#!/bin/bash
# tests/deps.sh: quiet when nothing is missing; as a non-root user with a
# package missing, it names the package and why, prints the exact apt-get
# line and stops with an error. make demo asks for what the demo needs,
# never the test machine's VM, kernel or fuzzers.
. "$(dirname "$0")/../lib/lib.sh"
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

# missing_for WHAT: the apt-get line deps.sh prints for WHAT on a machine
# with nothing installed (a dpkg-query that knows no package).
mkdir -p "$T/bin"
printf '#!/bin/sh\nexit 1\n' >"$T/bin/dpkg-query"
chmod 755 "$T/bin" "$T/bin/dpkg-query"
missing_for() {
	{ su nobody -s /bin/sh -c "PATH=$T/bin:\$PATH $T/deps.sh $1" 2>&1 ||
		true; } | sed -n 's/^  apt-get update && apt-get install -y --no-install-recommends//p'
}
demo=" $(missing_for demo) "
check=" $(missing_for check) "
note "make demo installs:$demo"
for p in gcc libgnutls28-dev scdoc iproute2 mtools dosfstools fdisk \
	e2fsprogs python3 python3-libnbd bc; do
	case $demo in *" $p "*) ;; *) fail "make demo would not install $p" ;; esac
done
for p in qemu-system-x86 linux-image-amd64 ipxe-qemu clang mmdebstrap \
	qemu-system-arm nbd-server fio; do
	case $demo in *" $p "*) fail "make demo would install $p" ;; esac
done
for p in python3-libnbd qemu-system-x86 linux-image-amd64 clang; do
	case $check in *" $p "*) ;; *) fail "make check would not install $p" ;; esac
done
echo ok
