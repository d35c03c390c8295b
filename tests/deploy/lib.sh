# shellcheck shell=bash
# Shared by the tests in tests/deploy that start real processes (source it, don't run it).
# Everything listens on 127.0.0.1; every wait is a bounded poll; deploy_cleanup (installed as the EXIT
# trap by deploy_init) stops exactly the processes started through deploy_spawn and removes the work dir.

DEPLOY_PIDS=()
DEPLOY_DIR=""

deploy_fail() {
  echo "FAIL: $*" >&2
  exit 1
}

deploy_cleanup() {
  local status=$?
  local pid
  for pid in "${DEPLOY_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${DEPLOY_PIDS[@]}"; do
    # Bounded: a process that ignores SIGTERM for 5 s is killed.
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ] && [ -n "$DEPLOY_DIR" ]; then
    local f
    for f in "$DEPLOY_DIR"/*.log; do
      [ -f "$f" ] || continue
      echo "---- $(basename "$f") (last 30 lines)" >&2
      tail -n 30 "$f" >&2
    done
  fi
  [ -n "$DEPLOY_DIR" ] && rm -rf "$DEPLOY_DIR"
  exit "$status"
}

# deploy_init NAME: work dir, traps, and the tools the test needs.
deploy_init() {
  DEPLOY_DIR="$(mktemp -d "${TMPDIR:-/tmp}/mgw-$1.XXXXXX")"
  trap deploy_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  shift
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || deploy_fail "$tool is not installed (scripts/install-deps.sh installs it)"
  done
}

# deploy_spawn LOG CMD...: starts CMD in the background with stdout+stderr in LOG; sets SPAWNED_PID.
deploy_spawn() {
  local log="$1"; shift
  "$@" >"$log" 2>&1 &
  SPAWNED_PID=$!
  DEPLOY_PIDS+=("$SPAWNED_PID")
}

# deploy_wait SECONDS WHAT CMD...: polls CMD every 50 ms until it succeeds; fails the test after SECONDS.
deploy_wait() {
  local seconds="$1" what="$2"; shift 2
  local deadline=$(( $(date +%s%N) + seconds * 1000000000 ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s%N)" -lt "$deadline" ] || deploy_fail "timed out after ${seconds}s waiting for $what"
    sleep 0.05
  done
}

# deploy_free_port: a port that was free on 127.0.0.1 a moment ago (callers retry on a lost race).
deploy_free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# deploy_start_redis: a private redis-server on a free loopback port; sets REDIS_PORT.
deploy_start_redis() {
  for _ in 1 2 3 4 5; do
    REDIS_PORT="$(deploy_free_port)"
    deploy_spawn "$DEPLOY_DIR/redis.log" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
      --appendonly no --dir "$DEPLOY_DIR"
    local pid=$SPAWNED_PID
    local deadline=$(( $(date +%s%N) + 5000000000 ))
    while kill -0 "$pid" 2>/dev/null && [ "$(date +%s%N)" -lt "$deadline" ]; do
      redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true   # port taken meanwhile, or too slow: try another port
  done
  deploy_fail "redis-server did not start"
}

# deploy_listening_port LOG LISTENER: the port of the gateway's {"event":"listening","listener":...} line.
deploy_listening_port() {
  grep "\"event\":\"listening\"" "$1" 2>/dev/null | grep "\"listener\":\"$2\"" | head -n1 |
    sed -n 's/.*"address":"[^"]*:\([0-9][0-9]*\)".*/\1/p' | grep .
}

# deploy_start_gateway BINARY ARGS...: starts the gateway on free ports against $REDIS_PORT;
# sets GATEWAY_PID, GATEWAY_PORT and ADMIN_PORT once both listeners are up and /readyz says 200.
deploy_start_gateway() {
  local binary="$1"; shift
  local log="$DEPLOY_DIR/gateway.log"
  deploy_spawn "$log" "$binary" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
    --redis "redis://127.0.0.1:$REDIS_PORT/0" --spool-dir "$DEPLOY_DIR/spool" "$@"
  GATEWAY_PID=$SPAWNED_PID
  deploy_wait 10 "the gateway's listening lines" deploy_listening_port "$log" admin
  deploy_wait 10 "the gateway's listening lines" deploy_listening_port "$log" tracking
  kill -0 "$GATEWAY_PID" 2>/dev/null || deploy_fail "the gateway exited"
  # shellcheck disable=SC2034  # used by the sourcing test
  GATEWAY_PORT="$(deploy_listening_port "$log" tracking)"
  ADMIN_PORT="$(deploy_listening_port "$log" admin)"
  deploy_wait 10 "the gateway's /readyz" curl -fsS -o /dev/null "http://127.0.0.1:$ADMIN_PORT/readyz"
}
