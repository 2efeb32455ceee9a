#!/bin/sh
# san_known.sh — drop from LeakSanitizer logs the leaks listed in
# tests/san-known-leaks.txt (allocation sites inside other people's
# libraries, named by file, build-id and offset), so that make check-asan
# fails only on the rest.
#   sh tests/san_known.sh KNOWN_FILE LOG_DIR
# A log left with no leak and no other report is removed; one with
# something else keeps that. Prints what it dropped.
known=$1
dir=$2
[ -f "$known" ] && [ -d "$dir" ] || { echo "usage: $0 KNOWN LOG_DIR" >&2; exit 2; }

build_id() {
	readelf -n "$1" 2>/dev/null | sed -n 's/.*Build ID: *//p'
}

# The exact "path+offset" keys that apply here: the library a log names
# must have the build-id the entry was written for.
keys=
for log in "$dir"/asan.*; do
	[ -f "$log" ] || continue
	while read -r lib id off; do
		case $lib in '#'* | '') continue ;; esac
		for path in $(grep -o "(/[^ ()]*/$lib+$off)" "$log" |
			sed 's/^(//; s/+.*//' | sort -u); do
			if [ "$(build_id "$path")" = "$id" ]; then
				keys="$keys $path+$off"
			else
				echo "san_known: $path is not build-id $id: entry $lib $off not applied"
			fi
		done
	done <"$known"
done
keys=$(echo $keys | tr ' ' '\n' | sort -u | tr '\n' ' ')
[ -n "$keys" ] || exit 0

for log in "$dir"/asan.*; do
	[ -f "$log" ] || continue
	awk -v keys="$keys" -v out="$log.kept" '
	BEGIN { RS = ""; n = split(keys, k, " "); for (i = 1; i <= n; i++) known["(" k[i] ")"] = 1 }
	function is_known(rec,   lines, j, m, f) {
		m = split(rec, lines, "\n")
		for (j = 1; j <= m; j++)
			if (lines[j] ~ /^ *#1 /) {
				f = lines[j]; sub(/.* /, "", f)
				return f in known
			}
		return 0
	}
	/leak of [0-9]+ byte/ {
		if (is_known($0)) {
			split($0, w, " "); dropped += w[4]; objs += w[7]; next
		}
		leaks++
	}
	!/LeakSanitizer: detected memory leaks/ && !/^SUMMARY: AddressSanitizer: [0-9]+ byte\(s\) leaked/ { other++ }
	{ print $0 "\n" > out }
	END {
		if (dropped) printf "san_known: %s: dropped %d bytes in %d objects (known leaks)\n", FILENAME, dropped, objs
		exit (leaks || other) ? 1 : 0
	}' "$log"
	if [ $? -eq 0 ]; then
		rm -f "$log" "$log.kept"
	else
		mv "$log.kept" "$log"
	fi
done
exit 0
