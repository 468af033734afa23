#!/bin/bash
# check_unit_security.sh BUILD_DIR PREFIX: installs the build into PREFIX and holds every
# installed systemd service at an exposure of 2.0 or less by `systemd-analyze security
# --offline=yes` (systemd's own scoring of a unit's sandboxing; 10 is none). A unit that loses a
# protection, or a new unit without them, fails here with systemd's list of what it lacks.
set -euo pipefail
build=$1 prefix=$2
limit=2.0
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" > /dev/null
units=("$prefix"/lib/systemd/system/*.service)
[ -e "${units[0]}" ] || { echo "no service installed under $prefix/lib/systemd/system"; exit 1; }
failed=0
for unit in "${units[@]}"; do
    out=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1) || true
    score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    if [ -z "$score" ]; then
        printf '%s\n' "$out"
        echo "FAILED: no score for $(basename "$unit")"
        failed=1
    elif awk -v s="$score" -v l="$limit" 'BEGIN { exit !(s > l) }'; then
        printf '%s\n' "$out" | grep '✗'
        echo "FAILED: $(basename "$unit") scores $score, above $limit"
        failed=1
    else
        echo "$(basename "$unit"): $score"
    fi
done
rm -rf "$prefix"
exit $failed
