#!/usr/bin/env bash
# run.sh (make conformance): runs the official Engine.IO and Socket.IO
# protocol test suites (the test-suite folders of socketio/engine.io-protocol
# and socketio/socket.io-protocol) against `gateway --conformance`, then
# against the Node socket.io 4.8 reference fixture (node-fixture.mjs), and
# prints the pass counts side by side.
#
# The suites are never committed here: they are exported from local git
# mirrors (default /work/.mirror/socketio+*-protocol/repo; override with
# SIO_PROTOCOL_GIT / EIO_PROTOCOL_GIT, or point them at any clone) into
# $CONFORMANCE_DIR (default $TMPDIR/fph-conformance) and their npm
# dependencies are installed there. The suites hard-code localhost:3000, so
# port 3000 must be free. ROUNDS (default 3) runs per suite per server.
# NODE_REFERENCE=0 skips the Node side.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${ROUNDS:-3}
PORT=3000
MIRRORS=${MIRRORS:-/work/.mirror}
SIO_GIT=${SIO_PROTOCOL_GIT:-$MIRRORS/socketio+socket.io-protocol/repo}
EIO_GIT=${EIO_PROTOCOL_GIT:-$MIRRORS/socketio+engine.io-protocol/repo}
WORK=${CONFORMANCE_DIR:-${TMPDIR:-/tmp}/fph-conformance}
NODE_REFERENCE=${NODE_REFERENCE:-1}

die() { echo "conformance: $*" >&2; exit 2; }

for g in "$SIO_GIT" "$EIO_GIT"; do
  git --git-dir="$g" rev-parse --verify -q HEAD >/dev/null 2>&1 ||
    die "no git mirror at $g (set SIO_PROTOCOL_GIT / EIO_PROTOCOL_GIT to a clone of the protocol repositories)"
done
command -v node >/dev/null || die "node is required"
if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/"; then
  die "port $PORT is busy; the suites only talk to localhost:$PORT"
fi

mkdir -p "$WORK"
# suite <name> <git dir>: export test-suite/ and install its dependencies
# (kept between runs while the suite's commit is unchanged).
suite() {
  local name=$1 git=$2 rev dir
  rev=$(git --git-dir="$git" rev-parse --short=12 HEAD)
  dir="$WORK/$name-$rev"
  if [[ ! -d "$dir/test-suite/node_modules" ]]; then
    rm -rf "$dir" && mkdir -p "$dir"
    git --git-dir="$git" archive --format=tar HEAD test-suite | tar -x -C "$dir"
    (cd "$dir/test-suite" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
      die "npm ci failed in $dir/test-suite"
  fi
  echo "$dir/test-suite"
}
EIO_DIR=$(suite engine.io-protocol "$EIO_GIT")
SIO_DIR=$(suite socket.io-protocol "$SIO_GIT")
echo "suites: engine.io-protocol@$(git --git-dir="$EIO_GIT" rev-parse --short=12 HEAD) socket.io-protocol@$(git --git-dir="$SIO_GIT" rev-parse --short=12 HEAD)"

(cd "$ROOT" && go build -o "$WORK/gateway" ./gateway/cmd/gateway) || die "go build failed"

SERVER_PID=
stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
trap stop_server EXIT

start_server() { # go | node
  case $1 in
    go) PORT=$PORT LOG_LEVEL=warn "$WORK/gateway" --conformance >>"$WORK/$1.log" 2>&1 & ;;
    node) PORT=$PORT FPH_JS_DIR="$ROOT/test/js" node "$ROOT/test/conformance/node-fixture.mjs" >>"$WORK/$1.log" 2>&1 & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 100); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/socket.io/?EIO=4&transport=polling" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  die "$1 fixture did not start (see $WORK/$1.log)"
}

# run_suite <dir> <label>: prints "<passes> <tests>" and records failures.
run_suite() {
  local dir=$1 label=$2 out="$WORK/result.json"
  (cd "$dir" && node_modules/.bin/mocha --reporter json test-suite.js >"$out" 2>/dev/null) || true
  node -e '
    const fs = require("fs");
    let r; try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch { console.log("0 0"); process.exit(0); }
    for (const f of r.failures) fs.appendFileSync(process.argv[2], process.argv[3] + "\t" + f.fullTitle + "\n");
    console.log(r.stats.passes + " " + (r.stats.passes + r.stats.failures));
  ' "$out" "$WORK/failures.tsv" "$label"
}

: >"$WORK/failures.tsv"
declare -A PASS TOTAL RUNS
servers=(go)
if [[ "$NODE_REFERENCE" != 0 ]]; then
  if [[ -d "$ROOT/test/js/node_modules/socket.io" ]]; then
    servers+=(node)
  else
    echo "node reference skipped: run npm ci in test/js first" >&2
  fi
fi
for round in $(seq "$ROUNDS"); do
  for server in "${servers[@]}"; do
    start_server "$server"
    for s in engine.io socket.io; do
      dir=$EIO_DIR; [[ $s == socket.io ]] && dir=$SIO_DIR
      read -r p t < <(run_suite "$dir" "$server $s")
      PASS[$server.$s]=$(( ${PASS[$server.$s]:-0} + p ))
      TOTAL[$server.$s]=$(( ${TOTAL[$server.$s]:-0} + t ))
      RUNS[$server.$s]="${RUNS[$server.$s]:-} $p/$t"
    done
    stop_server
  done
done

echo
printf '%-22s %-8s %-18s %s\n' suite server "passes/executions" "per run"
for s in engine.io socket.io; do
  for server in "${servers[@]}"; do
    printf '%-22s %-8s %-18s %s\n' "$s-protocol" "$server" "${PASS[$server.$s]}/${TOTAL[$server.$s]}" "${RUNS[$server.$s]}"
  done
done
if [[ -s "$WORK/failures.tsv" ]]; then
  echo
  echo "failures (count, server suite, test):"
  sort "$WORK/failures.tsv" | uniq -c | sort -rn
fi
# Success means: the gateway passes every test that the Node reference
# passes in the same number of runs, give or take the known racy ones.
