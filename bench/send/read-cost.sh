#!/bin/bash
# bench/send/read-cost.sh [--recipients N] [--reads-per-second R] [--seconds S] [--daemon PATH]
#                         [--database URL]
# What reading a big campaign costs the daemon: a campaign of N imported, attached recipients
# (default 1,000,000) is read R times a second (default 5) for S seconds (default 30) with
# `campaignd-ctl --user --json campaign show`, as a watcher, a monitor and the bus properties
# do while it sends; the daemon's CPU (user + system, all threads, /proc/PID/stat) is measured
# over those S seconds and, for comparison, over S idle seconds before them. --daemon runs
# another campaignd binary (e.g. one built from an older commit) with this build's plugins and
# campaignd-ctl; --database a PostgreSQL URL instead of a fresh SQLite file.
# A benchmark, not a test: it prints figures and checks none. Everything it starts runs on a
# private session bus and stops when it ends.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
recipients=1000000 rate=5 seconds=30 daemon_bin=$top/build/daemon/campaignd database=
while [ $# -gt 0 ]; do
    case $1 in
        --recipients) recipients=$2; shift 2 ;;
        --reads-per-second) rate=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --daemon) daemon_bin=$(realpath "$2"); shift 2 ;;
        --database) database=$2; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "read-cost.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
ctl_bin=$top/build/ctl/campaignd-ctl
for f in "$daemon_bin" "$ctl_bin" "$top/build/plugins/csv-importer.so"; do
    [ -e "$f" ] || { echo "read-cost.sh: $f is missing; build first (script/build)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/campaignd-read-cost.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

read -r bus_address bus_pid < <(dbus-daemon --session --print-address=1 --print-pid=1 --fork --nopidfile | paste -s -d' ')
pids+=("$bus_pid")
export DBUS_SESSION_BUS_ADDRESS=$bus_address
ctl() { "$ctl_bin" --user "$@"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
ticks_per_second=$(getconf CLK_TCK)

mkdir -p "$work/maildir"
cat > "$work/campaignd.conf" <<CONF
[Daemon]
Database=${database:-sqlite:$work/campaignd.db}
PluginDirectory=$top/build/plugins
StateDirectory=$work/state
[Import]
MaxFileSize=0
[Transport sample]
Plugin=maildir
Path=$work/maildir
[Sending]
DefaultTransport=sample
CONF
"$daemon_bin" --user --config "$work/campaignd.conf" 2>"$work/daemon.log" &
daemon=$!
pids+=("$daemon")
until ctl status >/dev/null 2>&1; do
    kill -0 "$daemon" 2>/dev/null || { cat "$work/daemon.log" >&2; exit 1; }
    sleep 0.1
done

awk -v n="$recipients" 'BEGIN { print "email,name";
    for (i = 0; i < n; i++) printf "person%d@example%d.org,Person %d\n", i, i % 97, i }' > "$work/people.csv"
ctl group create readers >/dev/null
ctl recipients import "$work/people.csv" --group readers >/dev/null
ctl campaign create --name "Winter newsletter" --subject "News" --from "News <news@example.org>" \
    --html "<p>Hello {{name}}</p>" >/dev/null
ctl campaign attach 1 --group readers >/dev/null
count=$(ctl --json campaign show 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["recipient_count"])')
[ "$count" = "$recipients" ] || { echo "read-cost.sh: attached $count, not $recipients" >&2; exit 1; }
sleep 2  # let the attach's aftermath settle

# Idle first, then reads at the given rate (one at a time, each on its own tick: a slow read
# lowers the achieved rate rather than piling up).
idle0=$(cpu_ticks "$daemon"); sleep "$seconds"; idle1=$(cpu_ticks "$daemon")
python3 - "$ctl_bin" "$daemon" "$recipients" "$rate" "$seconds" "$ticks_per_second" "$idle0" "$idle1" <<'PY'
import subprocess, sys, time
ctl, pid, n, rate, secs, hz, i0, i1 = sys.argv[1:]
rate, secs, hz = float(rate), float(secs), float(hz)
def ticks():
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime
reads = 0
c0, start = ticks(), time.monotonic()
while time.monotonic() < start + secs:
    subprocess.run([ctl, "--user", "--json", "campaign", "show", "1"], check=True, stdout=subprocess.DEVNULL)
    reads += 1
    time.sleep(max(0.0, start + reads / rate - time.monotonic()))
elapsed, c1 = time.monotonic() - start, ticks()
idle = (int(i1) - int(i0)) / hz / secs * 100
busy = (c1 - c0) / hz / elapsed * 100
print(f"{int(n):,} recipients: daemon CPU idle {idle:.1f} % of a core; with {reads} reads in {elapsed:.1f} s "
      f"({reads / elapsed:.1f}/s) {busy:.1f} % of a core, {(c1 - c0) / hz / reads * 1000:.1f} ms of CPU per read")
PY
