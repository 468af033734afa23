#!/bin/bash
# bench/import/daemon-import.sh [ROWS]: the whole import path as an administrator runs it:
# campaignd (SQLite, a private session bus, the csv-importer plugin from the build tree) and
# `campaignd-ctl recipients import` of a generated ROWS-row file (email,name,group), timed,
# with the daemon's peak resident memory (VmHWM) read from /proc when the import ends.
# A benchmark, not a test: it prints figures and checks none. Needs a build (script/build).
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
rows=${1:-1000000}
work=$(mktemp -d /tmp/campaignd-bench.XXXXXX)
trap 'kill $daemon_pid 2>/dev/null; kill $bus_pid 2>/dev/null; rm -rf "$work"' EXIT

awk -v n="$rows" 'BEGIN { print "email,name,group";
    for (i = 0; i < n; i++) printf "person%d@example%d.org,Person %d,group%d\n", i, i % 97, i, i % 10 }' \
    > "$work/people.csv"
printf '[Daemon]\nDatabase=sqlite:%s/c.db\nPluginDirectory=%s/build/plugins\n[Import]\nMaxFileSize=0\n' \
    "$work" "$top" > "$work/campaignd.conf"
read -r address bus_pid < <(dbus-daemon --session --print-address=1 --print-pid=1 --fork --nopidfile | paste -s -d' ')
export DBUS_SESSION_BUS_ADDRESS=$address
"$top/build/daemon/campaignd" --user --config "$work/campaignd.conf" 2>"$work/daemon.log" &
daemon_pid=$!
until "$top/build/ctl/campaignd-ctl" --user status >/dev/null 2>&1; do sleep 0.1; done
before=$(awk '/VmHWM/ { print $2 }' "/proc/$daemon_pid/status")
start=$(date +%s.%N)
"$top/build/ctl/campaignd-ctl" --user --json recipients import --create-groups "$work/people.csv" > "$work/summary.json"
end=$(date +%s.%N)
peak=$(awk '/VmHWM/ { print $2 }' "/proc/$daemon_pid/status")
seconds=$(echo "$end - $start" | bc)
echo "rows: $rows ($(du -m "$work/people.csv" | cut -f1) MiB)"
echo "import through the daemon (SQLite): ${seconds} s, $(echo "$rows / $seconds" | bc) rows/s"
echo "daemon peak RSS: $((peak / 1024)) MiB (at start: $((before / 1024)) MiB)"
grep -o '"imported": *[0-9]*' "$work/summary.json"
