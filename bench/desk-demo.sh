#!/usr/bin/env bash
# The credit desk at scale, measured end to end (issue #16 item 6): an engine and a desk started with --demo of
# CUSTOMERS customers (default 100,000), each with 1..PURCHASES_MAX purchases, so that the engine records about a
# million events; waits until the desk's projection has applied every engine event, then requests /cockpit and
# /collections REPEATS times each as the demo manager and prints the desk's Server-Timing (median, p90, max), plus the
# time to fill and to project. Writes bench/results/desk-demo.json. Loopback only; every wait is bounded.
#
#   bash bench/desk-demo.sh                      # 100,000 customers
#   CUSTOMERS=2000 bash bench/desk-demo.sh       # a quick look
set -euo pipefail
cd "$(dirname "$0")/.."

customers=${CUSTOMERS:-100000}
purchases_max=${PURCHASES_MAX:-9}
concurrency=${CONCURRENCY:-16}
repeats=${REPEATS:-10}
deadline_seconds=${DEADLINE_SECONDS:-5400}
engine_port=${ENGINE_PORT:-5170}
desk_port=${DESK_PORT:-5180}
json=${JSON:-bench/results/desk-demo.json}
work=$(mktemp -d /tmp/desk-demo.XXXXXX)
engine_url="http://127.0.0.1:$engine_port"
desk_url="http://127.0.0.1:$desk_port"
cookies="$work/cookies"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "logs and data kept in $work"
}
trap cleanup EXIT

fail() { echo "desk-demo: $*" >&2; exit 1; }
now() { date +%s.%N; }
deadline=$(( $(date +%s) + deadline_seconds ))
past_deadline() { [ "$(date +%s)" -ge "$deadline" ]; }

dotnet build -c Release src/Engine.Server >/dev/null
dotnet build -c Release src/Desk.Web >/dev/null

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
dotnet src/Engine.Server/bin/Release/net10.0/Engine.Server.dll --urls "$engine_url" \
  --Engine:DataDirectory="$work/engine" >"$work/engine.log" 2>&1 &
pids+=($!)
until curl -fsS --http2-prior-knowledge "$engine_url/v1/portfolio" >/dev/null 2>&1; do
  past_deadline && fail "the engine did not start (see $work/engine.log)"
  sleep 1
done

started=$(now)
# The desk fills the demo before it starts listening; its follower projects the engine's events once it runs.
dotnet src/Desk.Web/bin/Release/net10.0/Desk.Web.dll --demo --urls "$desk_url" \
  --Desk:EngineUrl="$engine_url" --Desk:DataDirectory="$work/desk" \
  --Desk:DemoCustomers="$customers" --Desk:DemoPurchasesMax="$purchases_max" --Desk:DemoConcurrency="$concurrency" >"$work/desk.log" 2>&1 &
pids+=($!)
until curl -fsS -o /dev/null "$desk_url/login" 2>/dev/null; do
  past_deadline && fail "the desk did not finish the demo in time (see $work/desk.log)"
  kill -0 "${pids[1]}" 2>/dev/null || fail "the desk exited (see $work/desk.log)"
  sleep 5
done
filled=$(now)
echo "demo filled in $(echo "$filled - $started" | bc) s"

token=$(curl -fsS -c "$cookies" -b "$cookies" "$desk_url/login" | grep -o 'name="__RequestVerificationToken" type="hidden" value="[^"]*"' | sed 's/.*value="//; s/"$//')
[ -n "$token" ] || fail "no antiforgery token on /login"
curl -fsS -o /dev/null -c "$cookies" -b "$cookies" -X POST "$desk_url/login" \
  --data-urlencode "username=manager1" --data-urlencode "password=demo-password" \
  --data-urlencode "__RequestVerificationToken=$token" --data-urlencode "returnUrl=/"

engine_sequence() { curl -fsS --http2-prior-knowledge "$engine_url/v1/portfolio" | grep -o '"sequence": *"\?[0-9]*' | grep -o '[0-9]*$'; }
desk_position() { curl -fsS -b "$cookies" "$desk_url/collections" | grep -o 'id="position">[0-9]*' | grep -o '[0-9]*$'; }

target=$(engine_sequence)
[ -n "$target" ] || fail "GetPortfolio gave no sequence"
echo "engine at sequence $target; waiting for the desk's projection"
while :; do
  position=$(desk_position || echo 0)
  [ "${position:-0}" -ge "$target" ] && break
  past_deadline && fail "the projection reached $position of $target in time"
  sleep 10
done
projected=$(now)
project_seconds=$(echo "$projected - $filled" | bc)
echo "projection reached $target in $project_seconds s after the desk started listening"

# Server time of a page: the desk's Server-Timing header (request received -> first byte), ms.
server_ms() { curl -fsS -o /dev/null -D - -b "$cookies" "$desk_url$1" | tr -d '\r' | grep -i '^server-timing:' | grep -o 'dur=[0-9.]*' | cut -d= -f2; }
declare -A results
for page in /cockpit /collections; do
  server_ms "$page" >/dev/null # first request: warms the page's code path
  times=()
  for ((i = 0; i < repeats; i++)); do times+=("$(server_ms "$page")"); done
  sorted=$(printf '%s\n' "${times[@]}" | sort -g)
  median=$(echo "$sorted" | awk -v n="$repeats" 'NR == int((n + 1) / 2)')
  p90=$(echo "$sorted" | awk -v n="$repeats" 'NR == int(n * 0.9 + 0.999)')
  max=$(echo "$sorted" | tail -1)
  echo "$page: server time median $median ms, p90 $p90 ms, max $max ms (n=$repeats)"
  results[$page]="{\"median_ms\": $median, \"p90_ms\": $p90, \"max_ms\": $max, \"samples_ms\": [$(IFS=,; echo "${times[*]}")]}"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$(dirname "$json")"
cat >"$json" <<EOF
{
  "benchmark": "desk-demo",
  "date_utc": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "machine_cores": $(nproc),
  "command": "CUSTOMERS=$customers PURCHASES_MAX=$purchases_max CONCURRENCY=$concurrency REPEATS=$repeats bash bench/desk-demo.sh",
  "customers": $customers,
  "engine_events": $target,
  "fill_seconds": $(echo "$filled - $started" | bc),
  "projection_seconds_after_fill": $project_seconds,
  "cockpit": ${results[/cockpit]},
  "worklist": ${results[/collections]},
  "load_average_before": "$load_before",
  "load_average_after": "$load_after"
}
EOF
echo "wrote $json"
