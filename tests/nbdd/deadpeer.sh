#!/bin/bash
# A powered-off Pi releases its image: a client whose network vanishes
# (its end of a veth link taken down, no FIN, no RST) is dropped by TCP
# keepalive within about a minute, and its claim and lock with it. Takes
# about a minute.
. "$(dirname "$0")/../lib/lib.sh"
need_root
need ip flock
RAW="/usr/bin/python3 $TOP/tests/nbdd/raw.py"

netns_add srv
netns_add pi
SRV=${NS_PREFIX}srv PI=${NS_PREFIX}pi
ip link add nbv-s$$ netns "$SRV" type veth peer name nbv-p$$ netns "$PI"
ip -n "$SRV" addr add 10.231.0.1/24 dev nbv-s$$
ip -n "$PI" addr add 10.231.0.2/24 dev nbv-p$$
ip -n "$SRV" link set nbv-s$$ up
ip -n "$PI" link set nbv-p$$ up

mkdir "$T/root"
truncate -s 8M "$T/root/pi.img"
start_bg nbdd ip netns exec "$SRV" "$BIN/nbdd" -r "$T/root" -l 10.231.0.1 -p 10809 -v
pid=$LAST_PID
wait_port tcp 10809 "$SRV"

# The "Pi" takes the image and then never says anything again.
cat >"$T/pi.py" <<PY
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("raw", "$TOP/tests/nbdd/raw.py")
raw = importlib.util.module_from_spec(spec); spec.loader.exec_module(raw)
c = raw.Client(10809, host="10.231.0.1")
c.greet()
size, flags, _ = c.go("pi")
assert isinstance(flags, int), flags
print("holding", flush=True)
time.sleep(600)
PY
start_bg pi ip netns exec "$PI" /usr/bin/python3 "$T/pi.py"
for _ in $(seq 50); do grep -q holding "$T/pi.log" && break; sleep 0.1; done
grep -q holding "$T/pi.log" || fail "the Pi could not take its image"
flock -n -x "$T/root/pi.img" true && fail "image not locked while the Pi holds it"

# Power off: the Pi's link goes down, nothing more reaches nbdd.
ip -n "$PI" link set nbv-p$$ down
start=$(date +%s)
released=
for _ in $(seq 90); do
	if flock -n -x "$T/root/pi.img" true; then released=$(( $(date +%s) - start )); break; fi
	sleep 1
done
[ -n "$released" ] || fail "a dead peer still holds its image after 90 s"
note "dead peer dropped after ${released}s"
[ "$released" -le 75 ] || fail "dead peer dropped only after ${released}s"
assert_log "$T/nbdd.log" 'releases image pi'
assert_alive "$pid"
stop_pid "$pid"
