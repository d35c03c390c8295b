# Shell helpers shared by the benchmark scripts (make bench, the smoke test, the profile):
# bounded readiness polling and stopping the processes they start. Source it; it defines functions only.

stop_pid() {   # stop_pid PID [SIGNAL=TERM] [TRIES=200]: signal, wait TRIES x 50 ms at most, then SIGKILL
    local pid=$1 sig=${2:-TERM} tries=${3:-200} i
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -"$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < tries; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
}

poll() {   # poll TRIES COMMAND...: run COMMAND every 50 ms until it succeeds, at most TRIES times
    local tries=$1 i
    shift
    for ((i = 0; i < tries; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
    return 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }   # nothing accepts on it

our_redis() {   # the redis-server answering on port $1 is process $2 (not someone else's on a reused port)
    [ "$(redis-cli -h 127.0.0.1 -p "$1" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')" = "$2" ]
}

random_port() {   # a port below the ephemeral range that nothing listens on
    local p i
    for ((i = 0; i < 50; i++)); do
        p=$((20000 + RANDOM % 12000))
        port_free "$p" && { echo "$p"; return 0; }
    done
    return 1
}
