#!/bin/bash
# Damaged images, each behind its own entry, served by one tftpd at the
# default log level: every request gets a TFTP error ("file not found"),
# the log gets exactly one line for it, naming the entry and the problem,
# and the daemon keeps serving the good image next to them.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/image.inc"

# The good one: MBR, FAT16 in partition 1 at 1 MiB.
G=$T/good.img
truncate -s 24M "$G"
printf 'label: dos\nstart=2048, size=40960, type=6\n' | sfdisk -q "$G"
mkfs.vfat -F 16 -s 1 --offset 2048 "$G" 20480 >/dev/null 2>&1
head -c 1536 /dev/urandom > "$T/v.bin"
for i in 0 1 2 3 4; do mcopy -i "$G@@1M" "$T/v.bin" "::VICTIM$i.BIN"; done
mcopy -i "$G@@1M" "$T/v.bin" "::bcm2711 long name.dtb"
ln -s ../good.img "$B/00000000"
P=1048576			# the partition's first byte
BPS=$(od -An -tu2 -j $((P + 11)) -N2 "$G" | tr -d ' ')
RSVD=$(od -An -tu2 -j $((P + 14)) -N2 "$G" | tr -d ' ')
FAT=$((P + RSVD * BPS))		# the first FAT

# bad NAME: a copy of the good image behind entry NAME.
bad() { cp "$G" "$T/$1.img"; ln -s "../$1.img" "$B/$1"; }
# poke NAME OFFSET OCTAL-BYTES...: patch bytes, as dd conv=notrunc does.
poke() {
	local img=$T/$1.img off=$2; shift 2
	printf "$(printf '\\%s' "$@")" |
		dd of="$img" bs=1 seek="$off" conv=notrunc status=none
}
le16() { printf '%03o %03o' $(($1 & 255)) $(($1 >> 8 & 255)); }
le32() { printf '%03o %03o %03o %03o' $(($1 & 255)) $(($1 >> 8 & 255)) \
	$(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
# entry NAME 8.3-NAME: the offset of a directory entry.
entry() { grep -obaF "$2" "$T/$1.img" | head -1 | cut -d: -f1; }
cluster_of() { od -An -tu2 -j $(($(entry "$1" "$2") + 26)) -N2 "$T/$1.img" | tr -d ' '; }

bad short;     truncate -s 12M "$T/short.img"
bad overlap;   poke overlap $((446 + 16 + 4)) 203		# type 0x83
               poke overlap $((446 + 16 + 8)) $(le32 20000) $(le32 1000)
bad pastend;   poke pastend $((446 + 12)) $(le32 400000)
bad bps0;      poke bps0 $((P + 11)) $(le16 0)
bad bps3k;     poke bps3k $((P + 11)) $(le16 3072)
bad spc0;      poke spc0 $((P + 13)) 000
bad spc3;      poke spc3 $((P + 13)) 003
bad range;     c=$(cluster_of range "VICTIM0 BIN"); poke range $((FAT + 2 * c)) $(le16 65520)
bad loop;      c=$(cluster_of loop "VICTIM1 BIN"); poke loop $((FAT + 2 * (c + 1))) $(le16 "$c")
bad sizepast;  e=$(entry sizepast "VICTIM2 BIN"); poke sizepast $((e + 28)) $(le32 100000)
bad garbage;   e=$(entry garbage "VICTIM3 BIN"); poke garbage "$e" 001 002 003 004 005 006 007 010 011 012 013
bad lfnchain;  e=$(grep -obaP 'b\x00c\x00m\x00' "$T/lfnchain.img" | head -1 | cut -d: -f1)
               poke lfnchain $((e - 1)) 005		# ordinal 1 -> 5
bad lfnsum;    e=$(grep -obaP 'b\x00c\x00m\x00' "$T/lfnsum.img" | head -1 | cut -d: -f1)
               # flip every checksum of the name, so they agree among
               # themselves but not with the 8.3 entry
               for o in $((e - 1)) $((e - 33)) $((e - 65)); do
                   s=$(od -An -tu1 -j $((o + 13)) -N1 "$T/lfnsum.img" | tr -d ' ')
                   poke lfnsum $((o + 13)) "$(printf '%03o' $((s ^ 1)))"
                   [ $(( $(od -An -tu1 -j "$o" -N1 "$T/lfnsum.img") & 64 )) = 0 ] || break
               done
# GPT with a bad header CRC, and an MBR whose extended chain loops.
truncate -s 24M "$T/gptcrc.img"
sgdisk -n 1:2048:0 -t 1:0700 "$T/gptcrc.img" >/dev/null
# Flip a byte of the disk GUID: writing a fixed byte would leave the CRC
# intact whenever the random GUID already held it.
gpt_byte=$(od -An -tu1 -j $((512 + 60)) -N1 "$T/gptcrc.img" | tr -d ' ')
poke gptcrc $((512 + 60)) "$(printf '%03o' $((gpt_byte ^ 255)))"
ln -s ../gptcrc.img "$B/gptcrc"
truncate -s 8M "$T/ebrloop.img"
printf 'label: dos\nstart=2048, type=5\nstart=4096, size=2048, type=6\n' | sfdisk -q "$T/ebrloop.img"
poke ebrloop $((2048 * 512 + 446 + 16 + 4)) 005
poke ebrloop $((2048 * 512 + 446 + 16 + 8)) $(le32 0) $(le32 100)
ln -s ../ebrloop.img "$B/ebrloop"

start_tftpd
# check NAME PATH REGEX: the fetch fails; one new log line, matching.
check() {
	local before after
	before=$(wc -l < "$T/tftpd.log")
	local rc=0
	fetch_curl "$1/$2" "$O/x" 2>"$T/curl.err" || rc=$?
	# curl's exit status 68 is TFTP error 1, "file not found".
	[ "$rc" = 68 ] || fail "$1/$2: curl exit $rc: $(cat "$T/curl.err")"
	sleep 0.1
	after=$(wc -l < "$T/tftpd.log")
	[ $((after - before)) = 1 ] ||
		{ tail -n +$((before + 1)) "$T/tftpd.log"; fail "$1: $((after - before)) log lines"; }
	tail -1 "$T/tftpd.log" | grep -Eq "image $1 \(/.*/$1\.img\): .*$3" ||
		fail "$1: log line '$(tail -1 "$T/tftpd.log")' lacks /$3/"
	note "$1: $(tail -1 "$T/tftpd.log")"
	assert_alive "$TFTPD_PID"
	# The good image is still served.
	want "$G@@1M" VICTIM4.BIN
	fetch_curl 00000000/VICTIM4.BIN "$O/g"
	assert_same_file "$O/g" "$O/want"
}
check short VICTIM0.BIN "runs past the end of the image"
check overlap VICTIM0.BIN "partitions 1 and 2 overlap"
check pastend VICTIM0.BIN "runs past the end of the image"
check gptcrc config.txt "GPT header CRC mismatch"
check ebrloop config.txt "extended partition chain loops"
check bps0 VICTIM0.BIN "bytes per sector 0 is not a power of two"
check bps3k VICTIM0.BIN "bytes per sector 3072 is not a power of two"
check spc0 VICTIM0.BIN "sectors per cluster 0 is not a power of two"
check spc3 VICTIM0.BIN "sectors per cluster 3 is not a power of two"
check range VICTIM0.BIN "links to cluster 65520, out of range"
check loop VICTIM1.BIN "cluster chain loops"
check sizepast VICTIM2.BIN "file size 100000 runs past its chain"
check garbage VICTIM3.BIN "entry [0-9]+ is garbage"
check lfnchain "bcm2711 long name.dtb" "does not chain"
check lfnsum "bcm2711 long name.dtb" "wrong checksum"
stop_pid "$TFTPD_PID"
