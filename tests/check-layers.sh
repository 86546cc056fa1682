#!/bin/bash
# Holds the source tree in DIR to HACKING's map of layers, and exits 1
# naming each place where they part:
#  - a source file (.c, or a .h with no .c of its name) missing from the
#    map, or a file the map names that is gone;
#  - a header whose first line is not "/* layer: LAYER */", or names
#    another layer than the map gives its file;
#  - a pure or state file that includes the header of an I/O or setup
#    file (logging, the clock, sockets, files, the command line): what
#    a unit test or a fuzzer links must decide without them;
#  - a unit test, tests/unit/AREA_NAME_test.c, with no AREA/NAME.c: each
#    source file's tests are in the one file named after it. Helpers
#    the tests share (tests/unit/rbdfake.c, the fixtures' headers) are
#    named otherwise, and are not held to it.
# usage: tests/check-layers.sh DIR
set -euo pipefail
cd "$1"
DIRS="common dhcpproxyd tftpd nbdd netboot-prep"
problems=()
problem() { problems+=("$*"); }

# The map: the "file  layer  what" lines of HACKING's first section. A
# directory's heading ("nbdd/", "common/ holds ...") sets the directory
# of the names after it; a name with a slash is from the top.
declare -A layer_of
while read -r path layer; do
	layer_of[$path]=$layer
done < <(awk -v dirs="$DIRS" '
	/^One error convention/ { exit }
	{
		n = split(dirs, d, " ")
		for (i = 1; i <= n; i++)
			if (index($0, d[i] "/") == 1) dir = d[i]
	}
	dir != "" && match($0, /^  [A-Za-z0-9_.\/-]+(, [A-Za-z0-9_.\/-]+)* +(pure|state|I\/O|setup)( |$)/) {
		line = substr($0, 3, RLENGTH - 2)
		sub(/ +$/, "", line)
		layer = line; sub(/.* /, "", layer)
		names = line; sub(/ +[^ ]+$/, "", names)
		k = split(names, f, ", ")
		for (i = 1; i <= k; i++)
			print (index(f[i], "/") ? f[i] : dir "/" f[i]), layer
	}' HACKING)

[ "${#layer_of[@]}" -gt 0 ] || problem "HACKING: no map of files and layers found"

for path in "${!layer_of[@]}"; do
	[ -e "$path" ] || problem "HACKING names $path, which is gone"
done

# Each source file's layer: its own map line, or its .c's for a header.
declare -A file_layer
mapfile -t sources < <(for d in $DIRS; do
	git ls-files -- "$d/*.c" "$d/*.h" 2>/dev/null || ls "$d"/*.[ch]
done | sort -u)
for f in "${sources[@]}"; do
	c=${f%.h}.c
	if [ -n "${layer_of[$f]:-}" ]; then
		file_layer[$f]=${layer_of[$f]}
	elif [ "$f" != "$c" ] && [ -e "$c" ] && [ -n "${layer_of[$c]:-}" ]; then
		file_layer[$f]=${layer_of[$c]}
	elif [ "$f" != "$c" ] && [ -e "$c" ]; then
		:	# its .c is reported
	else
		problem "$f: missing from HACKING's map"
	fi
done

for f in "${sources[@]}"; do
	case $f in *.h) ;; *) continue ;; esac
	IFS= read -r first <"$f" || true
	case $first in
	"/* layer: pure */" | "/* layer: state */" | "/* layer: I/O */" | \
	"/* layer: setup */") ;;
	*)
		problem "$f: the first line is not /* layer: pure|state|I/O|setup */"
		continue ;;
	esac
	said=${first#/\* layer: }; said=${said% \*/}
	want=${file_layer[$f]:-}
	[ -z "$want" ] || [ "$said" = "$want" ] ||
		problem "$f: says layer $said, HACKING's map says $want"
done

# What pure and state files include. "common/log.h" is from the top,
# "log.h" from the including file's directory.
lower=()
for f in "${sources[@]}"; do
	case ${file_layer[$f]:-} in pure | state) lower+=("$f") ;; esac
done
while IFS=$'\t' read -r f inc; do
	case $inc in */*) target=$inc ;; *) target=${f%/*}/$inc ;; esac
	case ${file_layer[$target]:-} in
	I/O | setup)
		problem "$f (${file_layer[$f]}) includes $inc (${file_layer[$target]})" ;;
	esac
done < <([ "${#lower[@]}" = 0 ] || grep -H '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' \
	"${lower[@]}" | sed 's/^\([^:]*\):[^"]*"\([^"]*\)".*/\1\t\2/')

for t in tests/unit/*_test.c; do
	[ -e "$t" ] || continue
	b=${t##*/}; b=${b%_test.c}
	[ -e "${b%%_*}/${b#*_}.c" ] ||
		problem "$t: tests no source file (${b%%_*}/${b#*_}.c)"
done

[ "${#problems[@]}" = 0 ] && exit 0
echo "the layers and HACKING's map part (HACKING, \"Three layers\"):" >&2
printf '  %s\n' "${problems[@]}" | sort >&2
exit 1
