#!/bin/bash
# The shared command line and the install: every daemon answers -h and -V,
# exits 2 naming the flag on bad usage, and make install puts binaries and
# man pages where PREFIX and DESTDIR say.
. "$(dirname "$0")/../lib/lib.sh"

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

# make -o all: install what $BUILD holds, never build into it (it may be
# the frozen build of another commit).
make -s -o all -C "$TOP" BUILD="$BUILD" install DESTDIR="$T/dest" PREFIX=/usr >/dev/null
for d in dhcpproxyd tftpd nbdd; do
	[ -x "$T/dest/usr/sbin/$d" ] || fail "make install did not install /usr/sbin/$d"
	[ -f "$T/dest/usr/share/man/man8/$d.8" ] || fail "no man page $d.8 installed"
	man -l "$T/dest/usr/share/man/man8/$d.8" 2>/dev/null | has "$d" ||
		fail "installed $d.8 does not render"
done
[ -f "$T/dest/usr/share/man/man7/netboot.7" ] || fail "no netboot.7 installed"
# The examples, installed with the paths of the prefix installed into: as
# documented (the default, /usr/local) and for a package (PREFIX=/usr).
# Every program or file of ours they name is there.
for prefix in /usr/local /usr; do
	dest=$T/inst${prefix//\//-}
	make -s -o all -C "$TOP" BUILD="$BUILD" install DESTDIR="$dest" PREFIX="$prefix" >/dev/null
	ex=$dest$prefix/share/netboot/examples
	for f in nbdd.service nbdd.socket tftpd.service tftpd.socket \
	    dhcpproxyd.service inetd.conf.nbdd inetd.conf.tftpd \
	    inetd.conf.dhcpproxyd runit/nbdd/run runit/tftpd/run \
	    runit/dhcpproxyd/run; do
		[ -f "$ex/$f" ] || fail "make install PREFIX=$prefix: no examples/$f in $ex"
	done
	[ -x "$ex/runit/nbdd/run" ] || fail "runit/nbdd/run is not executable"
	other=/usr/local; [ "$prefix" = /usr/local ] && other=/usr/sbin
	for f in "$ex"/* "$ex"/runit/*/run "$dest$prefix"/share/man/man*/*; do
		[ -f "$f" ] || continue
		if [ "$prefix" = /usr ] && grep -n '/usr/local' "$f"; then
			fail "installed with PREFIX=/usr, $f still names /usr/local"
		fi
		for path in $(grep -oE "$prefix/(sbin|share/netboot)/[A-Za-z0-9._/-]+" "$f" |
		    sed 's/[.,)]*$//' | sort -u); do
			[ -e "$dest$path" ] ||
				fail "${f#"$dest"} names $path, which make install PREFIX=$prefix did not install"
		done
	done
	grep -q "ExecStart=$prefix/sbin/nbdd " "$ex/nbdd.service" ||
		fail "nbdd.service does not run $prefix/sbin/nbdd"
done

# Bind errors say what to do: who holds the port, and how to bind a port
# below 1024.
port=$(free_port udp)
start_bg holder "$BIN/tftpd" -l 127.0.0.1 -p "$port" -r "$T"
HOLDER=$LAST_PID
wait_port udp "$port"
rc=0; "$BIN/tftpd" -l 127.0.0.1 -p "$port" -r "$T" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "a second tftpd on port $port exited $rc"
grep -q "error: bind 127.0.0.1 port $port: Address already in use: is another server running? ss -ulpn 'sport = :$port' names what holds the port" "$T/err" ||
	fail "tftpd's bind error: $(cat "$T/err")"
# SIGTERM is logged at the default level, as the other daemons do.
stop_pid "$HOLDER"
assert_log "$T/holder.log" '^tftpd: signal 15: shutting down$'
port=$(free_port tcp)
start_bg holder2 "$BIN/nbdd" -l 127.0.0.1 -p "$port" -r "$T"
HOLDER=$LAST_PID
wait_port tcp "$port"
rc=0; "$BIN/nbdd" -l 127.0.0.1 -p "$port" -r "$T" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "a second nbdd on port $port exited $rc"
grep -q "bind 127.0.0.1 port $port: Address already in use: .* ss -tlpn 'sport = :$port'" "$T/err" ||
	fail "nbdd's bind error: $(cat "$T/err")"
stop_pid "$HOLDER"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	# In a namespace of its own, where nothing holds port 69.
	netns_add cli
	rc=0
	ip netns exec "${NS_PREFIX}cli" setpriv --reuid=nobody --regid=nogroup \
		--clear-groups "$BIN/tftpd" -p 69 -r / 2>"$T/err" || rc=$?
	[ "$rc" = 1 ] || fail "tftpd on port 69 as nobody exited $rc"
	grep -q "bind .* port 69: Permission denied: ports below 1024 need root: run as root (-u USER drops it once the port is bound), or give the program CAP_NET_BIND_SERVICE" "$T/err" ||
		fail "tftpd's bind error as nobody: $(cat "$T/err")"
fi

# Under socket activation nbdd says which socket it serves, not -p's port.
if command -v systemd-socket-activate >/dev/null; then
	port=$(free_port tcp)
	start_bg activated systemd-socket-activate -l "127.0.0.1:$port" \
		"$BIN/nbdd" -r "$T"
	ACT=$LAST_PID
	wait_port tcp "$port"
	# nbdd starts at the first connection.
	nbdinfo --list "nbd://127.0.0.1:$port" >/dev/null 2>&1 || true
	for _ in $(seq 50); do
		grep -q 'serving' "$T/activated.log" && break
		sleep 0.1
	done
	assert_log "$T/activated.log" "serving $T/\*\.img on 127\.0\.0\.1:$port \(from systemd\)"
	! grep -q 'port 10809' "$T/activated.log" || fail "nbdd named -p's port: $(cat "$T/activated.log")"
	stop_pid "$ACT"
fi

# Hardening the issue asks for: PIE and full RELRO.
for d in dhcpproxyd tftpd nbdd; do
	readelf -h "$BIN/$d" | has "DYN" || fail "$d is not PIE"
	readelf -d "$BIN/$d" | has "BIND_NOW" || fail "$d lacks full RELRO"
done
echo "ok"
