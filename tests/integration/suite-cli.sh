#!/bin/bash
# The shared command line and the install: every daemon answers -h and -V,
# exits 2 naming the flag on bad usage, and make install puts binaries and
# man pages where PREFIX and DESTDIR say.
. "$(dirname "$0")/../lib.sh"

for d in dhcpproxyd tftpd nbdd; do
	out=$("$BIN/$d" -h) || fail "$d -h exited $?"
	grep -q "^usage: $d " <<<"$out" || fail "$d -h printed no usage line"
	grep -q -- "-r, --root DIR" <<<"$out" || fail "$d -h does not list -r"
	grep -q -- "--help" <<<"$("$BIN/$d" --help)" || fail "$d --help"
	[ "$("$BIN/$d" -V)" = "$d 0.1.0" ] || fail "$d -V printed $("$BIN/$d" -V)"

	rc=0; "$BIN/$d" -Z >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || fail "$d -Z exited $rc, not 2"
	[ ! -s "$T/out" ] || fail "$d -Z wrote to stdout"
	grep -q "^$d: -Z: unknown flag" "$T/err" || fail "$d -Z: $(cat "$T/err")"
	grep -q "^usage: $d " "$T/err" || fail "$d -Z printed no usage"

	rc=0; "$BIN/$d" -p 99999 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || fail "$d -p 99999 exited $rc"
	grep -q -- "-p 99999: out of range 1-65535" "$T/err" || fail "$d -p: $(cat "$T/err")"

	rc=0; "$BIN/$d" --listen=not-an-ip 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || fail "$d --listen=not-an-ip exited $rc"
	grep -q "not an IPv4 or IPv6 address" "$T/err" || fail "$d -l: $(cat "$T/err")"
done

# One letter, one meaning: a letter that two daemons share has the same long
# name in both (DESIGN.md).
for d in dhcpproxyd tftpd nbdd; do
	"$BIN/$d" -h | grep -oE '^  -[a-zA-Z], --[a-z0-9-]+' | sed "s/^ */$d /"
done >"$T/flags"
awk '{ if (($2 in long) && long[$2] != $3)
	{ print "flag " $2 " is " long[$2] " in " who[$2] " but " $3 " in " $1; bad = 1 }
	long[$2] = $3; who[$2] = $1 } END { exit bad }' "$T/flags" ||
	fail "a flag letter means different things in different daemons"

make -s -C "$TOP" BUILD="$BUILD" install DESTDIR="$T/dest" PREFIX=/usr >/dev/null
for d in dhcpproxyd tftpd nbdd; do
	[ -x "$T/dest/usr/sbin/$d" ] || fail "make install did not install /usr/sbin/$d"
	[ -f "$T/dest/usr/share/man/man8/$d.8" ] || fail "no man page $d.8 installed"
	man -l "$T/dest/usr/share/man/man8/$d.8" 2>/dev/null | grep -q "$d" ||
		fail "installed $d.8 does not render"
done
[ -f "$T/dest/usr/share/man/man7/netboot.7" ] || fail "no netboot.7 installed"
# Hardening the issue asks for: PIE and full RELRO.
for d in dhcpproxyd tftpd nbdd; do
	readelf -h "$BIN/$d" | grep -q "DYN" || fail "$d is not PIE"
	readelf -d "$BIN/$d" | grep -q "BIND_NOW" || fail "$d lacks full RELRO"
done
echo "ok"
