#!/bin/sh
# scripts/sizes.sh [DIR] — the tree's size at a glance, for issue notes and
# reviews: lines of .c/.h per folder (daemon/*, common, shim, include),
# then the N longest functions in daemon/ (N=10, or $SIZES_TOP). DIR is a
# checkout (default: this one); compare two by running it on each, e.g.
# on `git worktree add /tmp/old main`. A function is what clang-format
# leaves at column 0: its signature, then "{" ... "}" at column 0; its
# length counts from the signature's first line to the closing brace (as
# universal-ctags' --fields=+e counts it, without needing ctags).
set -eu
dir=${1:-.}
top=${SIZES_TOP:-10}
cd "$dir"

echo "lines per folder (.c and .h):"
for d in daemon/* common shim include; do
	[ -d "$d" ] || continue
	n=$(find "$d" -name '*.[ch]' -exec cat {} + | wc -l)
	printf '  %-16s %6d\n' "$d" "$n"
done
printf '  %-16s %6d\n' total "$(find daemon common shim include -name '*.[ch]' -exec cat {} + | wc -l)"

echo "the $top longest functions in daemon/:"
find daemon -name '*.c' | sort | xargs awk '
	FNR == 1 { sig = 0; body = 0 }
	# A signature starts at column 0 with a name and an opening parenthesis.
	!body && /^[A-Za-z_][^;]*\(/ && !/^(static )?(const )?struct [a-z_]+ [a-z_]+\[\]/ {
		sig = FNR; name = $0
		sub(/\(.*/, "", name); sub(/.*[ *]/, "", name)
	}
	!body && /^\{/ && sig { body = 1; next }
	body && /^\}/ {
		printf "%6d  %s:%d %s\n", FNR - sig + 1, FILENAME, sig, name
		body = 0; sig = 0
	}
	!body && /;[ \t]*$/ && !/^[ \t]/ { sig = 0 }
' | sort -rn | head -n "$top"
