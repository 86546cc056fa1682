# The boot storm's LAN: a rack of Pis powered on at the same instant, and
# the servers they boot from. Sourced after tests/lib.sh by
# tests/integration/storm.sh (make check) and tests/bench/storm.sh (make
# bench). Everything lives in namespaces made with netns_add:
#
#   namespace lan      bridge br0, and one veth per host: r0 (router), s0
#                      (server), p1..pN (the Pis), x1..x3 (bad hosts)
#   namespace router   10.13.0.1   dnsmasq: the LAN's DHCP server, addresses
#                                  only (examples/dnsmasq-dhcp-only.conf)
#   namespace server   10.13.0.2   one server set at a time:
#       ours:  dhcpproxyd, tftpd and nbdd, each -u nobody, image mode
#              (srv/boot/SERIAL -> ../pi-SERIAL.img; nbdd exports
#              srv/pi-SERIAL.img)
#       comp:  the composition users run today: one dnsmasq doing proxy
#              DHCP (--dhcp-range=...,proxy --pxe-service=0,"Raspberry Pi
#              Boot") and TFTP from a directory (tftp/SERIAL/FILE, the
#              files extracted with mcopy), and nbd-server (forks per
#              client) exporting the same images
#   namespace piI      no address until DHCP: tests/tools/pi-boot, MAC
#                      dc:a6:32 / e4:5f:01 / d8:3a:dd:5e:II:II
#   namespace bad1     DHCP flood; bad2 10.13.255.2 TFTP junk; bad3
#                      10.13.255.3 stalled NBD handshakes
#                      (tests/storm/badhost.py)
#
# The impairments, all set here:
#   STORM_LOSS_PM  loss on each Pi's link, per mille, in each direction, by
#                  nftables netdev rules on the bridge side of the Pi's
#                  veth: ingress (Pi to LAN) and egress (LAN to Pi),
#                  "numgen random mod 1000 < N drop". A dropped packet was
#                  sent as far as the sender can tell, as on a real wire.
#                  Egress hooks need Linux 5.16; without them the LAN-to-Pi
#                  drop is an ingress rule on the Pi's own end instead.
#   STORM_RATE     the server's one link, both directions (htb on the
#                  server's eth0 and on s0 toward it; default 1gbit): the
#                  Pis contend for it, and a full queue drops, as a NIC's
#                  and a switch port's do. The link's queue is kept per
#                  host (STORM_QUEUE=perhost, the default): a class of its
#                  own for each Pi (by the last byte of its MAC, unique up
#                  to 255 Pis), served round robin, each with its own
#                  FIFO. That stands in for fq_codel, the queueing
#                  discipline a Debian server's NIC has by default
#                  (systemd's net.core.default_qdisc), which keeps each
#                  flow's queue apart; this kernel has no fq_codel. In one
#                  FIFO (STORM_QUEUE=fifo) a Pi's NBD reads, which TCP
#                  sends as fast as the queue takes them, put tens of
#                  milliseconds before every other Pi's lock-step TFTP
#                  block, and no TFTP server could serve through that.
#   Each Pi's bootloader sends no ICMP port-unreachable (the namespace's
#   kernel would): the lan namespace drops it from the Pis, and from the
#   bad hosts, whose abandoned transfers must look abandoned.
#
# What is measured, per storm (storm_run NAME): every Pi's line from
# pi-boot; each daemon's CPU (a cgroup per daemon, children
# included) and peak memory (the sum of VmRSS over its cgroup, sampled
# every 0.2 s: the memory cgroup's own peak would count the page cache of
# the images it read); packets the server sent (nft counters on s0), the
# server namespace's TCP retransmissions (/proc/net/snmp), losses. Files
# go to $STORM_OUT/NAME/; tests/storm/report.py reads them.

need_root
need ip nft tc dnsmasq nbd-server mcopy mkfs.vfat sfdisk python3 fallocate

STORM_DIR=$TOP/tests/storm
STORM_PIS=${STORM_PIS:-20}
STORM_LOSS_PM=${STORM_LOSS_PM:-10}
STORM_RATE=${STORM_RATE:-1gbit}
STORM_QUEUE=${STORM_QUEUE:-perhost}
STORM_DEADLINE=${STORM_DEADLINE:-150}	# seconds a Pi may take in all
# A Pi whose boot failed starts it again after this many ms, as the
# bootloader's BOOT_ORDER=0xf12 does (tests/tools/pi-boot.c); -1: never.
STORM_RESTART_MS=${STORM_RESTART_MS:-5000}
STORM_READ=${STORM_READ:-4194304}	# bytes of root a Pi reads
STORM_WRITES=${STORM_WRITES:-16}	# chunks it writes (4-64 KiB each)
STORM_BAD=${STORM_BAD:-1}		# the misbehaving hosts run too
STORM_FLOOD_RATE=${STORM_FLOOD_RATE:-200}	# DISCOVERs a second
STORM_JUNK_RATE=${STORM_JUNK_RATE:-100}		# TFTP junk a second
STORM_STALLS=${STORM_STALLS:-8}			# stalled NBD handshakes
STORM_OUT=${STORM_OUT:-$T/out}
PIBOOT=${PIBOOT:-$BIN/tools/pi-boot}	# the Pi client (another build's daemons may run against this one)
[ -x "$PIBOOT" ] || fail "no $PIBOOT: build with make BUILD=$BUILD"
for d in dhcpproxyd tftpd nbdd; do
	[ -x "$BIN/$d" ] || fail "no $BIN/$d: build with make BUILD=$BUILD"
done

NET=10.13
ROUTER=$NET.0.1
SERVER=$NET.0.2
LAN=${NS_PREFIX}lan RT=${NS_PREFIX}router SRVNS=${NS_PREFIX}server
SRV=$T/xfs/srv			# the server's /srv
TFTPDIR=$T/xfs/tftp		# the composition's TFTP root
TEMPLATE=$T/xfs/template.img
REF=$T/xfs/ref			# reference boot files, one directory per Pi
CG_CPU=			# our cgroup directory (cg_init)
STORM_LOOP=
STORM_PIDS=()			# every pi-boot we started
OURS_PIDS=()
COMP_PIDS=()
BAD_PIDS=()
EGRESS=0

# T must be traversable by the daemons' user (nobody).
chmod 755 "$T"
mkdir -p "$STORM_OUT"

# --- identities -----------------------------------------------------------
# Pi I: serial 5e70III (8 hex digits), a real Pi OUI, option 97 in the new
# form for two Pis in three and the old form for the third.
pi_serial() { printf '%08x' $((0x5e700000 + $1)); }
pi_mac() {
	local ouis=(dc:a6:32 e4:5f:01 d8:3a:dd)
	printf '%s:5e:%02x:%02x' "${ouis[$(($1 % 3))]}" $(($1 >> 8)) $(($1 & 255))
}
pi_ns() { echo "${NS_PREFIX}pi$1"; }

# --- cgroups: CPU and memory of each daemon ---------------------------------
# cgroup v1's cpuacct controller where there is one (usage in ns, children
# included), else cgroup v2 (cpu.stat's usage_usec, which every v2 group
# has). STORM_CGROUP=v1|v2 picks one.
cg_init() {
	local v2
	v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	case ${STORM_CGROUP:-} in
	v1|"") if [ -w /sys/fs/cgroup/cpuacct ]; then
		CG_KIND=v1 CG_CPU=/sys/fs/cgroup/cpuacct/netboot-storm-$$
	   fi ;;
	esac
	if [ -z "$CG_CPU" ] && [ "${STORM_CGROUP:-v2}" = v2 ] && [ -n "$v2" ] &&
	    [ -w "$v2" ]; then
		CG_KIND=v2 CG_CPU=$v2/netboot-storm-$$
	fi
	[ -n "$CG_CPU" ] || skip "no writable cgroup (v1 cpuacct or v2) to measure the servers in"
	mkdir "$CG_CPU"
}
# cg_cpu_ns SET/DAEMON: CPU time of everything that ran in the group.
cg_cpu_ns() {
	if [ "$CG_KIND" = v1 ]; then
		cat "$(cg_path "$1")/cpuacct.usage"
	else
		awk '$1 == "usage_usec" { printf "%.0f\n", $2 * 1000 }' "$(cg_path "$1")/cpu.stat"
	fi
}
cg_path() { echo "$CG_CPU/$1"; }	# cg_path SET/DAEMON
cg_procs() { cat "$(cg_path "$1")/cgroup.procs" 2>/dev/null || true; }

# start_in_cg SET/DAEMON LOGNAME CMD...: start_bg, the process (and all it
# forks) in the daemon's cgroup from its first instruction.
start_in_cg() {
	local cg=$1 name=$2; shift 2
	mkdir -p "$(cg_path "$cg")"
	start_bg "$name" sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' \
		"$(cg_path "$cg")" "$@"
}

# Kills what is left in our cgroups (by pid) and removes them.
cg_cleanup() {
	local d p
	[ -d "$CG_CPU" ] || return 0
	for d in $(find "$CG_CPU" -mindepth 1 -type d | sort -r); do
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
	done
	sleep 0.2
	find "$CG_CPU" -depth -type d -exec rmdir {} \; 2>/dev/null
}

# The sum of VmRSS (KiB) over cgroup CG's processes now.
cg_rss() {
	cg_procs "$1" | sed 's|.*|/proc/&/status|' |
		xargs -r awk '/^VmRSS:/ { s += $2 } END { print s + 0 }' 2>/dev/null
}

# The peak of the sum of VmRSS (KiB) over each daemon's cgroup, sampled
# until killed; written to FILE as "DAEMON KIB" lines.
rss_sampler() {
	local file=$1; shift
	local -A peak=()
	local cg kib
	set +e		# a process may end between listing and reading it
	while :; do
		for cg in "$@"; do
			kib=$(cg_rss "$cg")
			[ "${kib:-0}" -le "${peak[$cg]:-0}" ] || peak[$cg]=$kib
		done
		for cg in "$@"; do echo "${cg#*/} ${peak[$cg]:-0}"; done > "$file.new"
		mv "$file.new" "$file"
		sleep 0.2
	done
}

# --- the LAN ----------------------------------------------------------------------
# veth NAME NS: a veth from the bridge to namespace NS, eth0 there.
veth() {
	ip -n "$LAN" link add name "$1" type veth peer name eth0 netns "$2"
	ip -n "$LAN" link set "$1" master br0 up
	ip -n "$2" link set eth0 up
}

# storm_link NS DEV AT MASK: htb at STORM_RATE on DEV, its queue per host
# (STORM_QUEUE above): u32 hashes the MAC byte that MASK picks out of the
# 32-bit word AT bytes from the IP header (the link header is before it)
# into one of 256 classes, which share the rate round robin.
storm_link() {
	local ns=$1 dev=$2 at=$3 mask=$4 i
	{
		echo "qdisc add dev $dev root handle 1: htb default $([ "$STORM_QUEUE" = perhost ] && echo 100 || echo 1) r2q 1000"
		echo "class add dev $dev parent 1: classid 1:1 htb rate $STORM_RATE ceil $STORM_RATE"
		if [ "$STORM_QUEUE" = perhost ]; then
			echo "filter add dev $dev parent 1: prio 1 handle 2: protocol all u32 divisor 256"
			for i in $(seq 0 255); do
				printf 'class add dev %s parent 1:1 classid 1:%x htb rate 1kbit ceil %s quantum 1514\n' \
					"$dev" $((0x100 + i)) "$STORM_RATE"
				printf 'filter add dev %s parent 1: prio 1 protocol all u32 ht 2:%x: match u8 0 0 flowid 1:%x\n' \
					"$dev" "$i" $((0x100 + i))
			done
			echo "filter add dev $dev parent 1: prio 1 protocol all u32 ht 800:: match u8 0 0 hashkey mask $mask at $at link 2:"
		fi
	} > "$T/tc-$dev.batch"
	ip netns exec "$ns" tc -batch "$T/tc-$dev.batch" ||
		fail "setting up the link on $dev failed"
}

storm_has_egress() {
	ip netns exec "$LAN" nft -f - 2>/dev/null <<-EOF
	table netdev probe {
		chain e { type filter hook egress device r0 priority 0; }
	}
	EOF
	local rc=$?
	ip netns exec "$LAN" nft delete table netdev probe 2>/dev/null
	return $rc
}

storm_lan() {
	local i ns devs=""
	netns_add lan
	netns_add router
	netns_add server
	ip -n "$LAN" link add br0 type bridge forward_delay 0 stp_state 0
	ip -n "$LAN" link set br0 up
	veth r0 "$RT"
	veth s0 "$SRVNS"
	ip -n "$RT" addr add "$ROUTER/16" dev eth0
	ip -n "$SRVNS" addr add "$SERVER/16" dev eth0
	for i in $(seq "$STORM_PIS"); do
		netns_add "pi$i"
		ns=$(pi_ns "$i")
		ip -n "$LAN" link add name "p$i" type veth peer name eth0 netns "$ns"
		ip -n "$ns" link set eth0 address "$(pi_mac "$i")" up
		ip -n "$LAN" link set "p$i" master br0 up
		devs="$devs${devs:+, }p$i"
	done
	for i in 1 2 3; do
		netns_add "bad$i"
		veth "x$i" "${NS_PREFIX}bad$i"
	done
	ip -n "${NS_PREFIX}bad2" addr add "$NET.255.2/16" dev eth0
	ip -n "${NS_PREFIX}bad3" addr add "$NET.255.3/16" dev eth0

	# The server's one link: STORM_RATE each way. Toward the Pis a
	# packet's class is picked by its destination MAC, toward the
	# server by its source MAC.
	storm_link "$SRVNS" eth0 -12 0x000000ff
	storm_link "$LAN" s0 -4 0x00ff0000

	[ "${STORM_NO_EGRESS:-0}" = 1 ] || ! storm_has_egress || EGRESS=1
	# What the server sends to the Pis (not to the bad hosts), counted on
	# its link: TFTP DATA, OACK and ERROR by opcode; DHCP replies. The
	# loss rules live in chains of their own (storm_loss).
	ip netns exec "$LAN" nft -f - <<-EOF
	table netdev storm {
		counter lost {}
		counter srv_data {}
		counter srv_oack {}
		counter srv_error {}
		counter srv_dhcp {}
		chain loss_up {}
		chain loss_down {}
		chain from_pis {
			type filter hook ingress devices = { $devs } priority 0;
			ether type ip ip protocol icmp icmp type destination-unreachable drop
			jump loss_up
		}
		chain from_bad {
			type filter hook ingress devices = { x1, x2, x3 } priority 0;
			ether type ip ip protocol icmp icmp type destination-unreachable drop
		}
		chain from_server {
			type filter hook ingress device s0 priority 0;
			ether type ip ip daddr $NET.255.0/24 accept
			ether type ip udp sport 67 counter name srv_dhcp accept
			ether type ip udp sport != 67 @th,64,16 3 counter name srv_data accept
			ether type ip udp sport != 67 @th,64,16 6 counter name srv_oack accept
			ether type ip udp sport != 67 @th,64,16 5 counter name srv_error accept
		}
	}
	EOF
	if [ "$EGRESS" = 1 ]; then
		ip netns exec "$LAN" nft add chain netdev storm to_pis \
			"{ type filter hook egress devices = { $devs } priority 0; }"
		ip netns exec "$LAN" nft add rule netdev storm to_pis jump loss_down
	else
		note "no nftables egress hook (Linux < 5.16, or STORM_NO_EGRESS=1): LAN-to-Pi loss on each Pi's own ingress"
		for i in $(seq "$STORM_PIS"); do
			ip netns exec "$(pi_ns "$i")" nft -f - <<-EOF
			table netdev storm {
				counter lost {}
				chain loss_down {}
				chain to_pi {
					type filter hook ingress device eth0 priority 0;
					jump loss_down
				}
			}
			EOF
		done
	fi
	storm_loss "$STORM_LOSS_PM"
}

# storm_loss PERMILLE: the loss on every Pi's link from now on, each way.
storm_loss() {
	local drop="numgen random mod 1000 < $1 counter name lost drop" i
	STORM_LOSS_PM=$1
	ip netns exec "$LAN" nft flush chain netdev storm loss_up
	ip netns exec "$LAN" nft flush chain netdev storm loss_down 2>/dev/null
	[ "$1" -gt 0 ] || return 0
	ip netns exec "$LAN" nft add rule netdev storm loss_up $drop
	if [ "$EGRESS" = 1 ]; then
		ip netns exec "$LAN" nft add rule netdev storm loss_down $drop
	else
		for i in $(seq "$STORM_PIS"); do
			ip netns exec "$(pi_ns "$i")" nft flush chain netdev storm loss_down
			ip netns exec "$(pi_ns "$i")" nft add rule netdev storm loss_down $drop
		done
	fi
}

# Packets dropped so far by the loss rules, both directions.
storm_lost() {
	local n
	n=$(ip netns exec "$LAN" nft list counter netdev storm lost | awk '/packets/ { print $2 }')
	if [ "$EGRESS" = 0 ]; then
		for i in $(seq "$STORM_PIS"); do
			n=$((n + $(ip netns exec "$(pi_ns "$i")" nft list counter netdev storm lost |
				awk '/packets/ { print $2 }')))
		done
	fi
	echo "$n"
}

# "name=value" lines of the server-side counters.
storm_counters() {
	local c
	for c in srv_data srv_oack srv_error srv_dhcp; do
		echo "$c=$(ip netns exec "$LAN" nft list counter netdev storm "$c" |
			awk '/packets/ { print $2 }')"
	done
	echo "lost=$(storm_lost)"
	# Packets the kernel dropped because a CPU's input backlog was full
	# (all of the machine's, not only ours): loss the harness adds.
	local a b rest d=0
	while read -r a b rest; do d=$((d + 0x$b)); done < /proc/net/softnet_stat
	echo "backlog_drops=$d"
	# The server's TCP retransmissions; datagrams the server's and the
	# router's sockets had no room for (RcvbufErrors) or could not send.
	ip netns exec "$SRVNS" awk '/^Tcp:/ { if (!h) { split($0, k); h = 1 }
		else for (i = 2; i <= NF; i++) if (k[i] == "RetransSegs" || k[i] == "OutSegs")
			print "tcp_" k[i] "=" $i }
		/^Udp:/ { if (!u) { split($0, q); u = 1 }
		else for (i = 2; i <= NF; i++) if (q[i] ~ /^(OutDatagrams|SndbufErrors|RcvbufErrors)$/)
			print "udp_" q[i] "=" $i }' /proc/net/snmp
	ip netns exec "$RT" awk '/^Udp:/ { if (!u) { split($0, q); u = 1 }
		else for (i = 2; i <= NF; i++) if (q[i] == "RcvbufErrors")
			print "router_udp_" q[i] "=" $i }' /proc/net/snmp
	# Which sockets: the DHCP (67) and TFTP (69) ports' own drop counts.
	udp_drops "$SRVNS" srv
	udp_drops "$RT" router
}

# udp_drops NS PREFIX: "PREFIX_drops_PORT=N" for ports 67 and 69 in NS
# (the last field of /proc/net/udp; a port with two sockets sums them).
udp_drops() {
	local sl local rest port drops
	local -A sum=([67]=0 [69]=0)
	while read -r sl local rest; do
		port=$((16#${local#*:}))
		[ -n "${sum[$port]+x}" ] || continue
		drops=${rest##* }
		sum[$port]=$((sum[$port] + drops))
	done < <(ip netns exec "$1" cat /proc/net/udp | tail -n +2)
	echo "$2_drops_67=${sum[67]}"
	echo "$2_drops_69=${sum[69]}"
}

# --- the images ------------------------------------------------------------------
# An XFS file system on a loop device, so that each Pi's image is a reflink
# copy of the template; sparse copies in $T where that cannot be had.
storm_fs() {
	mkdir -p "$T/xfs"
	if command -v mkfs.xfs >/dev/null && command -v losetup >/dev/null; then
		truncate -s 8G "$T/xfs.img"
		if STORM_LOOP=$(losetup -f --show "$T/xfs.img" 2>/dev/null) &&
		    mkfs.xfs -q -m reflink=1 "$STORM_LOOP" &&
		    mount "$STORM_LOOP" "$T/xfs"; then
			chmod 755 "$T/xfs"
			STORM_COPY="cp --reflink=always"
			note "per-Pi images: reflink copies on XFS ($STORM_LOOP)"
			return
		fi
		[ -z "$STORM_LOOP" ] || losetup -d "$STORM_LOOP"
		STORM_LOOP=
	fi
	STORM_COPY="cp --sparse=always"
	note "per-Pi images: sparse copies (no XFS on a loop device here)"
}

storm_images() {
	local i s img off root
	storm_fs
	"$STORM_DIR/make-image.sh" "$TEMPLATE" "$REF/template" ||
		fail "building the template image failed"
	off=$(( $(sfdisk -d "$TEMPLATE" |
		sed -n 's/.*1 : start= *\([0-9]*\),.*/\1/p') * 512 ))
	mkdir -p "$SRV/boot" "$TFTPDIR"
	cat > "$T/nbd-server.conf" <<-CONF
	[generic]
	    port = 10809
	    user = nobody
	    group = nogroup
	    allowlist = false
	CONF
	for i in $(seq "$STORM_PIS"); do
		s=$(pi_serial "$i")
		img=$SRV/pi-$s.img
		$STORM_COPY "$TEMPLATE" "$img"
		# Half the fleet names the port, as nbdroot= allows.
		if [ $((i % 2)) = 0 ]; then root=$SERVER/pi-$s; else root=$SERVER:10809/pi-$s; fi
		sed "s|@NBDROOT@|$root|" "$REF/template/cmdline.txt" > "$T/cmdline-$s.txt"
		MTOOLS_SKIP_CHECK=1 mcopy -o -i "$img@@$off" "$T/cmdline-$s.txt" ::/cmdline.txt
		ln -s "../pi-$s.img" "$SRV/boot/$s"
		printf '[pi-%s]\n    exportname = %s\n' "$s" "$img" >> "$T/nbd-server.conf"
		# The composition's directory and the client's reference: the
		# template's files (hard links) and this image's own
		# cmdline.txt, read back out of it.
		cp -al "$REF/template" "$REF/$s"
		rm "$REF/$s/cmdline.txt"
		MTOOLS_SKIP_CHECK=1 mcopy -n -i "$img@@$off" ::/cmdline.txt "$REF/$s/cmdline.txt"
		cmp -s "$REF/$s/cmdline.txt" "$T/cmdline-$s.txt" ||
			fail "cmdline.txt in $img is not the one written"
		cp -al "$REF/$s" "$TFTPDIR/$s"
	done
	chown -R nobody:nogroup "$SRV"
	chmod -R a+rX "$REF" "$TFTPDIR"
}

# Every Pi's write area back to zeros, so that each storm's writes are its
# own; then what the Pis will read (the boot files, the root partition) is
# read once, so that every storm, whichever server set, starts with the
# same page cache.
storm_fresh_images() {
	local f sz p1 p2 files
	p1=$(sfdisk -d "$TEMPLATE" | sed -n 's/.*1 : start= *\([0-9]*\),.*/\1/p')
	p2=$(sfdisk -d "$TEMPLATE" | sed -n 's/.*2 : start= *\([0-9]*\),.*/\1/p')
	files=$(cd "$REF/template" && find . -type f | sed 's|^\./|::/|')
	for f in "$SRV"/pi-*.img; do
		sz=$(stat -c %s "$f")
		fallocate -p -o $((sz - 4194304)) -l 4194304 "$f"
		for b in $files; do
			MTOOLS_SKIP_CHECK=1 mtype -i "$f@@$((p1 * 512))" "$b"
		done > /dev/null
		dd if="$f" bs=1M skip=$((p2 * 512)) iflag=skip_bytes status=none > /dev/null
	done
	cat "$TEMPLATE" > /dev/null
	find "$REF/template" -type f -exec cat {} + > /dev/null
}

# --- the router ---------------------------------------------------------------------
storm_router() {
	sed -e "s/^interface=.*/interface=eth0/" \
	    -e "s/^dhcp-range=.*/dhcp-range=$NET.1.0,$NET.250.255,255.255.0.0,1h/" \
	    -e "s/192\.168\.0\.1\$/$ROUTER/" \
	    -e "s|^dhcp-leasefile=.*|dhcp-leasefile=$T/leases|" \
	    "$TOP/examples/dnsmasq-dhcp-only.conf" > "$T/router.conf"
	# No ping before an offer: the router is not what is measured, and
	# dnsmasq's ping check would add its own delay to every first offer.
	printf 'no-ping\ndhcp-lease-max=100000\nuser=root\n' >> "$T/router.conf"
	start_bg router ip netns exec "$RT" dnsmasq --keep-in-foreground \
		--conf-file="$T/router.conf" --pid-file= --log-facility=-
	ROUTER_PID=$LAST_PID
	wait_port udp 67 "$RT"
}

# --- the server sets ------------------------------------------------------------------
# storm_start_ours [DIR]: our daemons, from DIR (default $BIN: another
# build's, such as the start commit's, for a before and after).
storm_start_ours() {
	local bin=${1:-$BIN}
	OURS_PIDS=()
	start_in_cg ours/dhcpproxyd ours-dhcpproxyd \
		ip netns exec "$SRVNS" "$bin/dhcpproxyd" -u nobody -r "$SRV/boot"
	OURS_PIDS+=("$LAST_PID")
	start_in_cg ours/tftpd ours-tftpd \
		ip netns exec "$SRVNS" "$bin/tftpd" -u nobody -r "$SRV/boot" ${STORM_TFTPD_FLAGS:-}
	OURS_PIDS+=("$LAST_PID")
	start_in_cg ours/nbdd ours-nbdd \
		ip netns exec "$SRVNS" "$bin/nbdd" -u nobody -r "$SRV"
	OURS_PIDS+=("$LAST_PID")
	wait_port udp 67 "$SRVNS"
	wait_port udp 69 "$SRVNS"
	wait_port tcp 10809 "$SRVNS"
	STORM_CGS="ours/dhcpproxyd ours/tftpd ours/nbdd"
}

storm_start_comp() {
	COMP_PIDS=()
	# As many TFTP transfers as tftpd allows by default (dnsmasq's own
	# default is 50).
	start_in_cg comp/dnsmasq comp-dnsmasq \
		ip netns exec "$SRVNS" dnsmasq --keep-in-foreground \
		--conf-file=/dev/null --port=0 --interface=eth0 --pid-file= \
		--user=nobody --log-facility=- \
		--dhcp-range="$NET.0.0,proxy,255.255.0.0" \
		--pxe-service=0,"Raspberry Pi Boot" \
		--enable-tftp --tftp-root="$TFTPDIR" --tftp-max=512
	COMP_PIDS+=("$LAST_PID")
	# nbd-server in the foreground serves one client; it daemonizes, and
	# is ended by the pid it writes.
	rm -f "$T/nbd-server.pid"
	mkdir -p "$(cg_path comp/nbd-server)"
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$(cg_path comp/nbd-server)" \
		ip netns exec "$SRVNS" nbd-server -C "$T/nbd-server.conf" \
		-p "$T/nbd-server.pid" >"$T/comp-nbd-server.log" 2>&1 ||
		fail "nbd-server did not start: $(cat "$T/comp-nbd-server.log")"
	for _ in $(seq 50); do [ -s "$T/nbd-server.pid" ] && break; sleep 0.1; done
	[ -s "$T/nbd-server.pid" ] || fail "nbd-server wrote no pid file"
	NBDSRV_PID=$(cat "$T/nbd-server.pid")
	wait_port udp 67 "$SRVNS"
	wait_port udp 69 "$SRVNS"
	wait_port tcp 10809 "$SRVNS"
	STORM_CGS="comp/dnsmasq comp/nbd-server"
}

storm_alive() {	# storm_alive SET: every daemon of the set still runs
	local p
	for p in $([ "$1" = ours ] && echo "${OURS_PIDS[@]}" || echo "${COMP_PIDS[@]}"); do
		kill -0 "$p" 2>/dev/null || fail "$1: process $p died during the storm"
	done
	[ "$1" = ours ] || kill -0 "$NBDSRV_PID" 2>/dev/null ||
		fail "comp: nbd-server died during the storm"
}

# Stops a set: ours must exit 0 on SIGTERM; then nothing may be left in
# any of its cgroups.
storm_stop() {
	local p cg
	if [ "$1" = ours ]; then
		for p in "${OURS_PIDS[@]}"; do stop_pid "$p"; done
	else
		stop_pid "${COMP_PIDS[0]}"
		kill -TERM "$NBDSRV_PID" 2>/dev/null
	fi
	for cg in $STORM_CGS; do
		for _ in $(seq 50); do [ -z "$(cg_procs "$cg")" ] && break; sleep 0.1; done
		[ -z "$(cg_procs "$cg")" ] ||
			fail "$cg: still running after SIGTERM: $(cg_procs "$cg" | tr '\n' ' ')"
	done
}

# --- the bad hosts -------------------------------------------------------------------
storm_bad_start() {
	BAD_PIDS=()
	[ "$STORM_BAD" = 1 ] || return 0
	local py="python3 $STORM_DIR/badhost.py" l
	start_bg bad-flood ip netns exec "${NS_PREFIX}bad1" $py dhcp-flood eth0 "$STORM_FLOOD_RATE"
	BAD_PIDS+=("$LAST_PID")
	start_bg bad-junk ip netns exec "${NS_PREFIX}bad2" $py tftp-junk "$SERVER" "$(pi_serial 1)" "$STORM_JUNK_RATE"
	BAD_PIDS+=("$LAST_PID")
	start_bg bad-stall ip netns exec "${NS_PREFIX}bad3" $py nbd-stall "$SERVER" 10809 "$STORM_STALLS"
	BAD_PIDS+=("$LAST_PID")
	# Running, with their SIGTERM handlers in place.
	for l in bad-flood bad-junk bad-stall; do
		for _ in $(seq 100); do grep -q '^ready' "$T/$l.log" && break; sleep 0.1; done
		grep -q '^ready' "$T/$l.log" || fail "$l did not start: $(cat "$T/$l.log")"
	done
}

# Stops them; each must have run the whole storm and said what it sent.
storm_bad_stop() {
	local p out=$1
	[ "$STORM_BAD" = 1 ] || return 0
	for p in "${BAD_PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null || fail "a bad host (pid $p) died early"
		stop_pid "$p"
	done
	cat "$T/bad-flood.log" "$T/bad-junk.log" "$T/bad-stall.log" > "$out"
	[ "$(grep -c '^bad ' "$out")" = 3 ] || fail "the bad hosts did not report: $(cat "$out")"
}

# --- one storm ----------------------------------------------------------------------
# storm_run NAME SET [N]: every Pi (or the first N) powers on at the same
# instant; returns when all are done. Writes $STORM_OUT/NAME/{pis.txt,
# meta.txt,bad.txt}.
storm_run() {
	local name=$1 set=$2 dir=$STORM_OUT/$1 npis=${3:-$STORM_PIS}
	local i n s rc t0 cg pid crashed=0
	local -a rcs=()
	mkdir -p "$dir"
	storm_fresh_images
	: > "$dir/pis.txt"
	{
		echo "name=$name"
		echo "set=$set"
		echo "pis=$npis"
		echo "loss_pm=$STORM_LOSS_PM"
		echo "rate=$STORM_RATE"
		echo "queue=$STORM_QUEUE"
		echo "deadline=$STORM_DEADLINE"
		echo "restart_ms=$STORM_RESTART_MS"
		echo "bad=$STORM_BAD"
		echo "egress_hook=$EGRESS"
		echo "load_before=$(cut -d' ' -f1 /proc/loadavg)"
		for cg in $STORM_CGS; do echo "cpu0_${cg#*/}=$(cg_cpu_ns "$cg")"; done
		# Each daemon's memory before any Pi or bad host: what the
		# storm adds to it is its memory per Pi.
		for cg in $STORM_CGS; do echo "rss0_${cg#*/}=$(cg_rss "$cg")"; done
		storm_counters | sed 's/^/before_/'
	} > "$dir/meta.txt"
	storm_bad_start
	start_bg "rss-$name" rss_sampler "$dir/rss.txt" $STORM_CGS
	local sampler=$LAST_PID
	sleep 1		# the bad hosts are at it before the power comes on
	# Every Pi's process first, all in one cgroup (their CPU is the
	# harness's share of the machine); they wait for the start file, which
	# names the instant the power comes on.
	mkdir -p "$(cg_path pis)"
	rm -f "$T/go" "$T/go.new"
	STORM_PIDS=()
	for i in $(seq "$npis"); do
		s=$(pi_serial "$i")
		sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$(cg_path pis)" \
			ip netns exec "$(pi_ns "$i")" "$PIBOOT" -i eth0 -n "$i" -s "0x$s" \
			$([ $((i % 3)) = 0 ] && echo -o) -R "$REF/$s" -T "$TEMPLATE" \
			-G "$T/go" -D "$STORM_DEADLINE" -b "$STORM_READ" -w "$STORM_WRITES" \
			-x "$STORM_RESTART_MS" \
			>"$dir/pi-$i.out" 2>"$dir/pi-$i.err" &
		STORM_PIDS+=("$!")
	done
	local pis0
	pis0=$(cg_cpu_ns pis)
	t0=$(awk -v now="$(date +%s.%N)" 'BEGIN { printf "%.3f", now + 0.2 }')
	echo "$t0" > "$T/go.new"
	mv "$T/go.new" "$T/go"
	for i in "${!STORM_PIDS[@]}"; do
		rc=0; wait "${STORM_PIDS[$i]}" || rc=$?
		rcs+=("$rc")
	done
	local wall
	wall=$(awk -v now="$(date +%s.%N)" -v t0="$t0" 'BEGIN { printf "%.3f", now - t0 }')
	STORM_PIDS=()
	kill -TERM "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	storm_bad_stop "$dir/bad.txt"
	for i in "${!rcs[@]}"; do
		n=$((i + 1))
		cat "$dir/pi-$n.out" >> "$dir/pis.txt"
		# 0 booted, 1 failed to boot, with its line said why; anything
		# else, no line, or a sanitizer's report is a crash of the client.
		if [ "${rcs[$i]}" -gt 1 ] || ! grep -q '^pi ' "$dir/pi-$n.out" ||
		    grep -Eq 'runtime error|Sanitizer' "$dir/pi-$n.err"; then
			crashed=$((crashed + 1))
			echo "pi $n: pi-boot exited with status ${rcs[$i]}: $(tail -5 "$dir/pi-$n.err")" >&2
		fi
	done
	{
		echo "wall=$wall"
		echo "crashed=$crashed"
		echo "load_after=$(cut -d' ' -f1 /proc/loadavg)"
		for cg in $STORM_CGS; do echo "cpu1_${cg#*/}=$(cg_cpu_ns "$cg")"; done
		echo "pis_cpu_ns=$(( $(cg_cpu_ns pis) - pis0 ))"
		echo "ncpu=$(nproc)"
		storm_counters | sed 's/^/after_/'
		awk '{ print "rss_" $1 "=" $2 }' "$dir/rss.txt" 2>/dev/null
		for pid in $([ "$set" = ours ] && echo "${OURS_PIDS[@]}" || echo "${COMP_PIDS[0]} $NBDSRV_PID"); do
			awk -v p="$pid" '/^Name:/ { n = $2 } /^VmHWM:/ { print "hwm_" n "=" $2 }' "/proc/$pid/status" 2>/dev/null
		done
	} >> "$dir/meta.txt"
	cat "$dir"/pi-*.err > "$dir/errors.txt"
	[ "$crashed" = 0 ] || fail "$name: $crashed Pi client(s) crashed (see above)"
}

# --- the end -------------------------------------------------------------------------
# Everything down, by pid; then every namespace, the mount, the loop device
# and the cgroups must be gone.
storm_teardown() {
	local ns left
	for ns in "${NETNS[@]}"; do
		[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] ||
			fail "processes left in namespace $ns: $(ip netns pids "$ns" | tr '\n' ' ')"
		ip netns del "$ns" || fail "could not delete namespace $ns"
	done
	left=$(ip netns list | grep -c "^$NS_PREFIX" || true)
	[ "$left" = 0 ] || fail "$left namespaces left: $(ip netns list | grep "^$NS_PREFIX" | tr '\n' ' ')"
	NETNS=()
	storm_unmount
	# The detach completes when the last user lets go: mount namespaces of
	# exited processes (ip netns exec makes one each) are freed lazily.
	for _ in $(seq 300); do
		losetup -a | has "$T/xfs.img" || break
		sleep 0.1
	done
	! losetup -a | has "$T/xfs.img" || fail "loop device $STORM_LOOP still attached;" \
		"mounted in: $(grep -l "$T/xfs" /proc/[0-9]*/mountinfo 2>/dev/null | tr '\n' ' ')"
	cg_cleanup
	[ ! -d "$CG_CPU" ] || fail "cgroup $CG_CPU left behind"
}

storm_unmount() {
	if mountpoint -q "$T/xfs" && ! umount "$T/xfs"; then
		echo "storm: $T/xfs busy: $(fuser -vm "$T/xfs" 2>&1 | tr '\n' ' ')" >&2
		umount -l "$T/xfs"
	fi
	[ -z "$STORM_LOOP" ] || losetup -d "$STORM_LOOP" 2>/dev/null
}

# On any exit: our processes by pid, then the mount and the cgroups (lib.sh
# removes the namespaces after this).
storm_cleanup() {
	local p
	for p in "${STORM_PIDS[@]+"${STORM_PIDS[@]}"}" "${PIDS[@]+"${PIDS[@]}"}"; do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.3
	for p in "${STORM_PIDS[@]+"${STORM_PIDS[@]}"}" "${PIDS[@]+"${PIDS[@]}"}"; do
		kill -KILL "$p" 2>/dev/null
	done
	cg_cleanup
	storm_unmount
}
CLEANUPS+=(storm_cleanup)
cg_init
