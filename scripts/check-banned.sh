#!/bin/sh
# Fails when a banned function (strcpy, sprintf, strtok, atoi, gets, and their kin) is called in src/ or include/.
root=${1:-.}
hits=$(grep -rnE --include='*.c' --include='*.h' '(^|[^a-z_.>])(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets)[[:space:]]*\(' \
	"$root/src" "$root/include" "$root/tests/unit" "$root/bench" 2>/dev/null | grep -v 'check-banned: allow')
if [ -n "$hits" ]; then
	echo "banned functions used (use snprintf, strtol-based sl_parse_*, memcpy with bounds):" >&2
	echo "$hits" >&2
	exit 1
fi
exit 0
