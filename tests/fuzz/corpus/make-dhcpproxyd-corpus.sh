#!/bin/sh
# Regenerates the seed corpus of fuzz_dhcpproxyd_packet with the Pi-like
# test client (tests/tools/pi-dhcp.c): good requests of each kind and each
# named way of spoiling one.
# usage: tests/fuzz/corpus/make-dhcpproxyd-corpus.sh [BUILD-DIR]
set -eu
cd "$(dirname "$0")/../../.."
tool=${1:-build}/tools/pi-dhcp
out=tests/fuzz/corpus/fuzz_dhcpproxyd_packet
mkdir -p "$out"
for mode in pi pi-old pxe ipxe plain; do
	"$tool" -m "$mode" -o "$out/$mode"
done
"$tool" -m pxe -A 7 -T request -o "$out/pxe-request-4011"
"$tool" -m pi -g 192.168.0.254 -o "$out/pi-relayed"
for bad in short op htype hlen cookie overrun overload noend long43 long97 \
    dup53 dup97; do
	"$tool" -B "$bad" -o "$out/bad-$bad"
done
