#!/bin/bash
# bench/web/web-bench.sh [N] [PARALLEL] [THREADS]: one-click unsubscribes per second through the real
# campaignd-web and campaignd (SQLite, private session bus, --user), and the latency of each.
# Sends a campaign to N recipients (default 5000) through the maildir transport, takes each
# message's List-Unsubscribe URL, then POSTs List-Unsubscribe=One-Click to all of them with one
# curl process (--parallel, PARALLEL connections at once, default 16). Baselines in the same run:
# the same number of requests for a static 404 (/nothing: no bus call) and for a token-shaped
# but unknown link (a bus call, no database write). Prints requests/s, median and p99.
# The daemon logs at info, its default. THREADS: campaignd-web's --threads (default: its own default). CAMPAIGND_DAEMON=PATH runs
# another build of the daemon (e.g. an older commit's, for a before/after in one sitting).
# Needs a build in ./build (script/build).
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
n=${1:-5000}
parallel=${2:-16}
threads=${3:+--threads $3}
dir=$(mktemp -d /tmp/campaignd-web-bench.XXXXXX)
addr=127.0.$((RANDOM % 200 + 20)).$((RANDOM % 200 + 20))
port=$((20000 + RANDOM % 20000))

cat > "$dir/campaignd.conf" <<CONF
[Daemon]
Database=sqlite:$dir/campaignd.db
PluginDirectory=$top/build/plugins
AdminEmail=admin@example.org
StateDirectory=$dir/state
LogLevel=info
[Sending]
DefaultTransport=outbox
From=News <news@example.org>
EnvelopeDomain=bounces.example.org
[Web]
PublicURL=https://news.example.org
[Transport outbox]
Plugin=maildir
Path=$dir/outbox
CONF

bus_pid= daemon_pid= web_pid=
cleanup() {
    for p in $web_pid $daemon_pid $bus_pid; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
read -r address bus_pid < <(dbus-daemon --session --print-address=1 --print-pid=1 --fork --nopidfile | paste -s -d' ')
export DBUS_SESSION_BUS_ADDRESS=$address
"${CAMPAIGND_DAEMON:-$top/build/daemon/campaignd}" --user --config "$dir/campaignd.conf" 2>"$dir/campaignd.log" &
daemon_pid=$!
ctl() { "$top/build/ctl/campaignd-ctl" --user "$@"; }
for _ in $(seq 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
"$top/build/web/campaignd-web" --user --listen "$addr:$port" $threads 2>"$dir/web.log" &
web_pid=$!

{ echo email,name; for i in $(seq 1 "$n"); do echo "r$i@example.org,Person $i"; done; } > "$dir/people.csv"
ctl group create bench >/dev/null
ctl recipients import "$dir/people.csv" --group bench >/dev/null
ctl campaign create --name Bench --subject Bench --html '<p>Hello {{name}}</p>' >/dev/null
ctl campaign attach 1 --group bench >/dev/null
ctl campaign send 1 --watch >/dev/null
grep -h '^List-Unsubscribe: <' "$dir"/outbox/new/* | sed -e 's/^List-Unsubscribe: <//' -e 's/>\r\?$//' |
    sed "s|https://news.example.org|http://$addr:$port|" > "$dir/urls"
echo "campaignd-web bench: $(wc -l < "$dir/urls") recipients, $parallel connections, campaignd-web ${threads:-default threads}, SQLite, $(nproc) cores"

# One curl, all transfers in parallel; per transfer: its status and total time.
measure() {  # measure NAME FILE-OF-URLS
    local cfg=$dir/$1.curl
    : > "$cfg"
    while read -r url; do printf 'url = "%s"\noutput = "/dev/null"\n' "$url" >> "$cfg"; done < "$2"
    local start end
    start=$(date +%s.%N)
    curl -s --no-progress-meter --parallel --parallel-immediate --parallel-max "$parallel" -X POST -d 'List-Unsubscribe=One-Click' \
         -w '%{http_code} %{time_total}\n' -K "$cfg" > "$dir/$1.times"
    end=$(date +%s.%N)
    python3 - "$1" "$dir/$1.times" "$start" "$end" <<'PY'
import sys
name, path, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
rows = [l.split() for l in open(path) if l.strip()]
codes = {}
for c, _ in rows: codes[c] = codes.get(c, 0) + 1
t = sorted(float(x) * 1000 for _, x in rows)
p = lambda q: t[min(len(t) - 1, int(q * len(t)))]
print(f"{name:14s} {len(t)/(end-start):8.0f} req/s  median {p(0.5):6.2f} ms  p99 {p(0.99):6.2f} ms  statuses {codes}")
PY
}
sed "s|/u/.*|/nothing|" "$dir/urls" > "$dir/static"
sed "s|/u/[0-9]*-.*|/u/999-aaaaaaaaaaaaaaaaa|" "$dir/urls" > "$dir/unknown"
measure static-404 "$dir/static"
measure unknown-token "$dir/unknown"
measure one-click "$dir/urls"
echo "unsubscribed now: $(ctl --json recipients list --status unsubscribed --limit 10000 | grep -c '"email"')"
# How the daemon grouped them: requests, commits and the largest batch (logged when it stops).
kill "$daemon_pid" && wait "$daemon_pid" 2>/dev/null || true
daemon_pid=
grep -ho 'web unsubscribes recorded.*' "$dir/campaignd.log" || true
rm -rf "$dir"
