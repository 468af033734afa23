#!/bin/bash
# bench/send/read-cost.sh [--recipients N] [--reads-per-second R] [--seconds S] [--daemon PATH]
#                         [--database URL [--postmaster PID]]
# What reading a big campaign costs the daemon: a campaign of N imported, attached recipients
# (default 1,000,000) is read R times a second (default 5) for S seconds (default 30) with
# `campaignd-ctl --user --json campaign show`, as a watcher, a monitor and the bus properties
# do while it sends; the daemon's CPU (user + system, all threads, /proc/PID/stat) is measured
# over those S seconds and, for comparison, over S idle seconds before them. --daemon runs
# another campaignd binary (e.g. one built from an older commit) with this build's plugins and
# campaignd-ctl; --database a PostgreSQL URL (an empty database) instead of a fresh SQLite
# file, and --postmaster that server's postmaster PID (first line of postmaster.pid): then the
# server's CPU (postmaster and backends, live and exited) is measured too, since there the
# counting happens in the server, not in the daemon.
# A benchmark, not a test: it prints figures and checks none. Everything it starts runs on a
# private session bus and stops when it ends.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
recipients=1000000 rate=5 seconds=30 daemon_bin=$top/build/daemon/campaignd database= postmaster=
while [ $# -gt 0 ]; do
    case $1 in
        --recipients) recipients=$2; shift 2 ;;
        --reads-per-second) rate=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --daemon) daemon_bin=$(realpath "$2"); shift 2 ;;
        --database) database=$2; shift 2 ;;
        --postmaster) postmaster=$2; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
python3 - "$ctl_bin" "$daemon" "${postmaster:-0}" "$recipients" "$rate" "$seconds" "$ticks_per_second" <<'PY'
import os, subprocess, sys, time
ctl, pid, postmaster, n, rate, secs, hz = sys.argv[1:]
rate, secs, hz = float(rate), float(secs), float(hz)
def stat(p):
    with open(f"/proc/{p}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()  # fields from 3 (state) on
def ticks():  # the daemon: utime + stime of all its threads
    f = stat(pid)
    return int(f[11]) + int(f[12])
def server_ticks():  # the postmaster with its exited (reaped) children, and its live children
    if postmaster == "0":
        return 0
    f = stat(postmaster)
    total = sum(int(x) for x in f[11:15])  # utime, stime, cutime, cstime
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                c = stat(p)
            except OSError:
                continue
            if c[1] == postmaster:
                total += int(c[11]) + int(c[12])
    return total
i0, s0 = ticks(), server_ticks()
time.sleep(secs)
i1, s1 = ticks(), server_ticks()
reads = 0
c0, r0, start = ticks(), server_ticks(), time.monotonic()
while time.monotonic() < start + secs:
    subprocess.run([ctl, "--user", "--json", "campaign", "show", "1"], check=True, stdout=subprocess.DEVNULL)
    reads += 1
    time.sleep(max(0.0, start + reads / rate - time.monotonic()))
elapsed, c1, r1 = time.monotonic() - start, ticks(), server_ticks()
pct = lambda t, s: t / hz / s * 100
print(f"{int(n):,} recipients, idle {secs:.0f} s: daemon {pct(i1 - i0, secs):.1f} % of a core"
      + (f", PostgreSQL {pct(s1 - s0, secs):.1f} %" if postmaster != "0" else ""))
print(f"{reads} reads in {elapsed:.1f} s ({reads / elapsed:.1f}/s): daemon {pct(c1 - c0, elapsed):.1f} % of a core, "
      f"{(c1 - c0) / hz / reads * 1000:.1f} ms of CPU per read"
      + (f"; PostgreSQL {pct(r1 - r0, elapsed):.1f} %, {(r1 - r0) / hz / reads * 1000:.1f} ms per read"
         if postmaster != "0" else ""))
PY
