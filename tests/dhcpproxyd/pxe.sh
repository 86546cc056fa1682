#!/bin/bash
# Generic PXE clients get the boot file for their architecture (option
# 93), in the proxy offer and through PXE boot server discovery on port
# 4011; iPXE gets its script; -O adds option 66, -m changes the menu text,
# -t names another TFTP server.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/net.inc"

dp_net
dp_dnsmasq
dp_start -a -O -M "Raspberry Pi Boot   " -b 0=undionly.kpxe -b 7=old.efi \
	-b 7=ipxe.efi -b 9=ipxe.efi -b ipxe=boot.ipxe
wait_port udp 4011 "$BOOT_NS"

# file and option 67 name the file; discovery control 11 says boot it.
pxe_file() {	# pxe_file OUT FILE CTL
	local r
	r=$(replies_from "$1" "$BOOT_IP")
	[ -n "$r" ] || fail "no proxy reply: $(cat "$1")"
	grep -q " file=\"$2\" " <<<"$r" || fail "file is not $2: $r"
	if [ -n "$2" ]; then
		grep -q " opt67=\"$2\" " <<<"$r" || fail "option 67 is not $2: $r"
	fi
	grep -q " ctl=$3 " <<<"$r" || fail "discovery control is not $3: $r"
	grep -q " opt66=\"$BOOT_IP\" " <<<"$r" || fail "no option 66: $r"
	grep -q ' menu="Raspberry Pi Boot   " ' <<<"$r" || fail "menu text not from -m: $r"
	assert_proxy_replies "$1"
}

dp_client -m pxe -A 7 -M 02:00:00:00:07:01 >"$T/efi.out"
assert_lan_offer "$T/efi.out"
pxe_file "$T/efi.out" ipxe.efi 11
dp_client -m pxe -A 9 -M 02:00:00:00:09:01 >"$T/efi9.out"
pxe_file "$T/efi9.out" ipxe.efi 11
dp_client -m pxe -A 0 -M 02:00:00:00:00:01 >"$T/bios.out"
pxe_file "$T/bios.out" undionly.kpxe 11
dp_client -m ipxe -A 0 -M 02:00:00:00:00:02 >"$T/ipxe.out"
pxe_file "$T/ipxe.out" boot.ipxe 11
dp_client -m pxe -A 11 -M 02:00:00:00:11:01 >"$T/arm.out"
pxe_file "$T/arm.out" "" 3
assert_log "$T/dhcpproxyd.log" "02:00:00:00:07:01: answered, tftp $BOOT_IP, boot file ipxe.efi"

# Port 4011: a REQUEST from a client with an address, ACKed to its source.
ip -n "$CLIENT_NS" addr add 192.168.50.201/24 dev eth0
dp_client -m pxe -A 7 -T request -d "$BOOT_IP" -p 4011 -L 68 \
	-M 02:00:00:00:07:01 >"$T/4011.out"
r=$(replies_from "$T/4011.out" "$BOOT_IP")
grep -q "from=$BOOT_IP:4011 to=192.168.50.201 type=ACK " <<<"$r" ||
	fail "no DHCPACK from port 4011: $(cat "$T/4011.out")"
pxe_file "$T/4011.out" ipxe.efi 11
# A DISCOVER there is not for port 4011.
dp_client -m pxe -A 7 -d "$BOOT_IP" -p 4011 -L 68 -M 02:00:00:00:07:03 >"$T/4011d.out"
[ -z "$(replies_from "$T/4011d.out" "$BOOT_IP")" ] ||
	fail "a DISCOVER on port 4011 was answered"
# A REQUEST on port 67 naming us (the client took our offer): ACK; naming
# the LAN's server: none of our business.
dp_client -m pxe -A 7 -T request -S "$BOOT_IP" -M 02:00:00:00:07:04 >"$T/req.out"
replies_from "$T/req.out" "$BOOT_IP" | has " type=ACK " ||
	fail "REQUEST for us not ACKed: $(cat "$T/req.out")"
dp_client -m pxe -A 7 -T request -S "$SERVER_IP" -M 02:00:00:00:07:05 >"$T/req2.out"
[ -z "$(replies_from "$T/req2.out" "$BOOT_IP")" ] ||
	fail "a REQUEST for the LAN's server was answered"
ip -n "$CLIENT_NS" addr flush dev eth0

# Known by entry, no -b ipxe: iPXE gets ENTRY/boot.ipxe; -t: another
# TFTP server in siaddr and option 54.
mkdir "$T/boot/02-00-00-00-00-09"
dp_restart -t 192.168.50.9 -b 0=undionly.kpxe
dp_client -m ipxe -A 0 -M 02:00:00:00:00:09 >"$T/entry.out"
r=$(replies_from "$T/entry.out" "$BOOT_IP")
grep -q ' file="02-00-00-00-00-09/boot.ipxe" ' <<<"$r" ||
	fail "iPXE did not get its entry's script: $r"
grep -q " siaddr=192.168.50.9 .* server=192.168.50.9 " <<<"$r" ||
	fail "-t not in siaddr and option 54: $r"
grep -q " opt66=" <<<"$r" && fail "option 66 without -O: $r"
assert_proxy_replies "$T/entry.out"
dp_client -m pxe -A 0 -M 02:00:00:00:00:09 >"$T/entry0.out"
replies_from "$T/entry0.out" "$BOOT_IP" | has ' file="undionly.kpxe" ' ||
	fail "BIOS PXE did not get undionly.kpxe: $(cat "$T/entry0.out")"

stop_pid "$DP_PID"
stop_pid "$DNSMASQ_PID"
echo ok
