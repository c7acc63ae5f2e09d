#!/usr/bin/env bash
# kelips demo: 16 real agents on loopback (127.0.0.11-26), k from `kelips-ctl plan` (2 for 16 agents), sample files
# published and looked up with kelips-ctl.
# Does its own set-up (npm ci, build) on a fresh clone. Ctrl-C stops every agent gracefully (SIGTERM: leave).
#
#   scripts/demo.sh            run until Ctrl-C
#   scripts/demo.sh --once     stop after printing the results (for scripts and CI)
#
# Environment: DEMO_AGENTS (16), DEMO_PORT (gossip UDP port, 7946), DEMO_HTTP_PORT (metrics/API port, 9946).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
AGENTS=${DEMO_AGENTS:-16}
PORT=${DEMO_PORT:-7946}
HTTP_PORT=${DEMO_HTTP_PORT:-9946}
ONCE=0
[[ ${1:-} == --once ]] && ONCE=1

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# ---- set-up ---------------------------------------------------------------------------------------------------
if ! command -v node >/dev/null; then
  echo "demo: Node.js 20 or newer is required (node not found)" >&2
  exit 2
fi
if [[ ! -d node_modules/dgram-as-promised || ! -d node_modules/prom-client ]]; then
  say "installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
if [[ ! -f dist/src/cli/kelips.js || ! -f dist/src/cli/kelips-ctl.js || -n $(find src -name '*.ts' -newer dist/src/cli/kelips.js -print -quit) ]]; then
  say "building (tsc)"
  npx tsc -p tsconfig.build.json || [[ -f dist/src/cli/kelips.js ]]
fi

KELIPS=(node "$ROOT/dist/src/cli/kelips.js")
CTL=(node "$ROOT/dist/src/cli/kelips-ctl.js")
# k from kelips-ctl plan: round(sqrt N) within the sizing rule, so no group is likely to start with fewer than 2
# members (16 agents: k = 2, a 0.052% chance; k = 4 would be 25%).
K=$("${CTL[@]}" plan --nodes "$AGENTS" --files 10 --json | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).groupsRecommended))')
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kelips-demo.XXXXXX")
PIDS=()
KEEP_LOGS=0

ip_of() { echo "127.0.0.$((11 + $1))"; }

stop_all() {
  # Runs once, whatever ended the script; output may go to a closed pipe, so never stop half-way.
  trap - INT TERM HUP EXIT
  trap '' PIPE
  set +e
  if ((${#PIDS[@]} > 0)); then
    say "stopping ${#PIDS[@]} agents (SIGTERM: each leaves the cluster)"
    kill -TERM "${PIDS[@]}" 2>/dev/null || true
    local failed=0
    for pid in "${PIDS[@]}"; do
      wait "$pid" || failed=$((failed + 1))
    done
    if ((failed == 0)); then echo "all agents stopped cleanly (exit 0)"; else echo "$failed agent(s) exited with an error; logs: $WORK" >&2; fi
  fi
  if ((KEEP_LOGS)); then echo "logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap stop_all EXIT
# Ctrl-C is how the demo ends: stop the agents and exit 0. Other signals stop them too, with the usual status.
trap 'exit 0' INT
trap 'exit 143' TERM
trap 'exit 129' HUP PIPE

# ---- start the cluster ----------------------------------------------------------------------------------------
say "starting $AGENTS agents, k=$K groups, preset local (200 ms gossip rounds)"
SEEDS="$(ip_of 0):$PORT,$(ip_of 1):$PORT"
# Job control: each agent in its own process group, so Ctrl-C reaches only this script, which then stops the
# agents with one SIGTERM each (a second signal would make an agent skip its graceful leave).
set -m
for ((i = 0; i < AGENTS; i++)); do
  ip=$(ip_of "$i")
  join=()
  if ((i == 1)); then join=(--join "$(ip_of 0):$PORT"); elif ((i > 1)); then join=(--join "$SEEDS"); fi
  "${KELIPS[@]}" --bind "$ip:$PORT" --metrics "$ip:$HTTP_PORT" --data-dir "$WORK/agent-$i" \
    --preset local --groups "$K" --cluster demo "${join[@]}" >"$WORK/agent-$i.log" 2>&1 &
  PIDS+=($!)
done
set +m

# Wait until every agent has joined and holds a contact in every group that has members (HTTP /v1/status).
ready() {
  # shellcheck disable=SC2016 # JavaScript, not shell, expands these
  node -e '
    const [n, port] = [Number(process.argv[1]), process.argv[2]];
    const ips = Array.from({ length: n }, (_, i) => `127.0.0.${11 + i}`);
    Promise.all(ips.map((ip) => fetch(`http://${ip}:${port}/v1/status`).then((r) => r.json())))
      .then((all) => {
        const size = new Map();
        for (const s of all) size.set(s.group, (size.get(s.group) ?? 0) + 1);
        const empty = all[0].groups - size.size;
        const waiting = all.filter((s) => !(s.joined && s.synced && s.groupsWithoutContact === empty && s.membersAlive === size.get(s.group)));
        if (process.argv[3] === "explain")
          for (const s of waiting)
            console.error(`  ${s.address}: joined ${s.joined}, synced ${s.synced}, ${s.membersAlive} of ${size.get(s.group)} members of group ${s.group} alive, ${s.groupsWithoutContact - empty} groups without a contact`);
        process.exit(waiting.length === 0 ? 0 : 1);
      })
      .catch((e) => {
        if (process.argv[3] === "explain") console.error(`  /v1/status: ${e.message}`);
        process.exit(1);
      });
  ' "$AGENTS" "$HTTP_PORT" "${1:-}"
}
for ((t = 0; ; t++)); do
  for ((i = 0; i < AGENTS; i++)); do
    if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
      echo "demo: agent $i exited; its log:" >&2
      cat "$WORK/agent-$i.log" >&2
      KEEP_LOGS=1
      exit 1
    fi
  done
  if ready; then break; fi
  if ((t > 120)); then
    echo "demo: the cluster did not converge in time; agents not ready:" >&2
    ready explain || true
    KEEP_LOGS=1
    exit 1
  fi
  sleep 0.5
done
echo "all $AGENTS agents joined; each holds contacts in every other group"
"${CTL[@]}" --node "$(ip_of 0):$PORT" status

# ---- publish and look up --------------------------------------------------------------------------------------
FILES=(ubuntu-24.04.iso debian-12.iso alpine-3.20.tar.gz fedora-40.iso llama-weights.bin
  holiday-2024.mp4 thesis-final-v3.pdf dataset-2023.parquet kernel-6.9.tar.xz backup-monday.tar)
say "publishing ${#FILES[@]} sample files, each from a different agent"
for ((j = 0; j < ${#FILES[@]}; j++)); do
  owner=$(((j * 3 + 2) % AGENTS))
  "${CTL[@]}" --node "$(ip_of "$owner"):$PORT" publish "${FILES[$j]}" "http://$(ip_of "$owner"):8080/${FILES[$j]}"
done
sleep 1 # a few gossip rounds: each tuple spreads through its affinity group

say "looking each file up from another agent (kelips-ctl lookup)"
for ((j = 0; j < ${#FILES[@]}; j++)); do
  from=$(((j * 5 + 7) % AGENTS))
  echo "\$ kelips-ctl --node $(ip_of "$from"):$PORT lookup ${FILES[$j]}"
  "${CTL[@]}" --node "$(ip_of "$from"):$PORT" lookup "${FILES[$j]}" || true
done
echo "\$ kelips-ctl --node $(ip_of 3):$PORT lookup no-such-file.txt   # exit 1: not found"
"${CTL[@]}" --node "$(ip_of 3):$PORT" lookup no-such-file.txt || echo "(exit $?)"

say "members of group 0 and the contacts of $(ip_of 0):$PORT"
"${CTL[@]}" --node "$(ip_of 0):$PORT" members --group 0
"${CTL[@]}" --node "$(ip_of 0):$PORT" contacts

say "metrics (Prometheus) and the JSON API"
for ((i = 0; i < AGENTS; i++)); do printf '  http://%s:%s/metrics\n' "$(ip_of "$i")" "$HTTP_PORT"; done
echo "  e.g. curl 'http://$(ip_of 0):$HTTP_PORT/v1/lookup?name=${FILES[0]}'"
echo "agent logs (JSON lines, removed when the demo stops): $WORK/agent-*.log"

if ((ONCE)); then exit 0; fi
say "the cluster keeps running; try:"
echo "  node dist/src/cli/kelips-ctl.js --node $(ip_of 4):$PORT lookup ${FILES[1]}"
echo "  node dist/src/cli/kelips-ctl.js --node $(ip_of 4):$PORT publish my-file.txt"
echo "  node dist/src/cli/kelips-ctl.js plan --nodes 10000 --files 1000000"
echo "Ctrl-C stops every agent."
declare -A REPORTED=()
while true; do
  sleep 1
  for ((i = 0; i < AGENTS; i++)); do
    if [[ -z ${REPORTED[$i]:-} ]] && ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
      echo "agent $i ($(ip_of "$i"):$PORT) exited; log: $WORK/agent-$i.log"
      REPORTED[$i]=1
      KEEP_LOGS=1
    fi
  done
done
