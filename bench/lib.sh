# shellcheck shell=bash
# Shared by the bench scripts (sourced): messages, process clean-up, ports,
# and the readiness probe. BENCH names the calling script in messages.
BENCH=$(basename "${BASH_SOURCE[1]:-bench}")

die() { echo "$BENCH: ERROR: $*" >&2; exit 1; }
log() { echo "== $*"; }

descendants() { # pid -> its children, grandchildren, ... (deepest last)
  local kid
  for kid in $(ps -o pid= --ppid "$1" 2>/dev/null || true); do
    echo "$kid"
    descendants "$kid"
  done
}

stop_pid() { # pid, name: SIGTERM, wait up to 5 s, then SIGKILL (also its descendants)
  local pid=$1 name=$2 i kids
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kids=$(descendants "$pid")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$BENCH: $name ($pid) did not stop in 5 s; killing" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  for k in $kids; do kill -KILL "$k" 2>/dev/null || true; done
}

free_port() { # a loopback port nothing listens on
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' && return
  fi
  local p
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  die "no free port found"
}

healthz_ok() { # port
  local line=
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3 2>/dev/null || true
  IFS= read -r -t 2 line <&3 || true
  exec 3<&- 3>&-
  [[ $line == "HTTP/1."?" 200"* ]]
}

wait_ready() { # port pid timeout_s name log: until /healthz answers; dies (showing the log's tail) if the server exits or is late
  local port=$1 pid=$2 limit=$3 name=$4 logfile=$5 i
  for ((i = 0; i < limit * 20; i++)); do
    healthz_ok "$port" && return 0
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$logfile" >&2; die "$name exited before /healthz answered"; }
    sleep 0.05
  done
  tail -n 30 "$logfile" >&2
  die "$name not ready after ${limit}s"
}

dur_s() { # 10s / 2m / 1h / 10 -> seconds
  local d=$1
  case $d in
    *ms) echo 1 ;; *s) echo "${d%s}" ;; *m) echo $((${d%m} * 60)) ;; *h) echo $((${d%h} * 3600)) ;; *) echo "$d" ;;
  esac
}

to_ms() { # wrk latency like 812.00us / 1.23ms / 1.02s / 2.00m
  awk -v v="$1" 'BEGIN{
    n=v+0; u=v; sub(/^[0-9.]+/, "", u)
    if (u=="us") n/=1000; else if (u=="s") n*=1000; else if (u=="m") n*=60000; else if (u=="ns") n/=1e6
    printf "%.3f\n", n }'
}

verdict() { # value op(>= or <) goal -> OK or MISSED
  awk -v v="$1" -v g="$3" -v op="$2" 'BEGIN{ ok = (op == ">=") ? (v >= g) : (v < g); print ok ? "OK" : "MISSED" }'
}

# A bench's exit: `stop_on_exit VAR:label ...` stops, in that order, the
# processes whose pids the named variables hold when the script ends (by
# finishing, failing, Ctrl-C or TERM), then removes $T unless KEEP=1.
stop_on_exit() {
  STOP_ON_EXIT=("$@")
  trap leave_bench EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

leave_bench() {
  local rc=$? entry variable
  trap - EXIT INT TERM
  for entry in "${STOP_ON_EXIT[@]}"; do
    variable=${entry%%:*}
    stop_pid "${!variable:-}" "${entry#*:}"
  done
  if [[ ${KEEP:-0} == 1 ]]; then
    echo "$BENCH: kept $T"
  else
    rm -rf "$T"
  fi
  exit $rc
}

# The release binary in BIN: KHABAR=path to choose one, SKIP_BUILD=1 to use it as it is.
build_khabar() {
  BIN=${KHABAR:-$ROOT/target/release/khabar}
  if [[ ${SKIP_BUILD:-0} == 1 ]]; then
    log "SKIP_BUILD=1: using the existing $BIN"
  else
    [[ -z ${KHABAR:-} ]] || log "KHABAR=$KHABAR is used as it is after the build (set SKIP_BUILD=1 to skip the build)"
    log "building: cargo build --release -p khabar (in $ROOT)"
    (cd "$ROOT" && cargo build --release -p khabar) || die "cargo build failed"
  fi
  [[ -x $BIN ]] || die "no binary at $BIN"
}

create_demo_site() { # dir port: `khabar demo` fills DIR (serving on PORT until ready), then stops; KPID is the script's khabar while it runs
  log "khabar demo: creating the site in $1"
  "$BIN" demo --data "$1" --addr "127.0.0.1:$2" >>"$T/khabar.log" 2>&1 &
  KPID=$!
  wait_ready "$2" "$KPID" 120 "khabar demo" "$T/khabar.log"
  stop_pid "$KPID" "khabar demo"
  KPID=
  [[ -f $1/khabar.toml ]] || die "the demo left no $1/khabar.toml"
}

revision() { # short commit, +dirty when crates/ has changes or new files
  local r
  r=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null) || { echo '?'; return; }
  if ! (cd "$ROOT" && git diff --quiet HEAD -- crates 2>/dev/null) \
    || [[ -n $(cd "$ROOT" && git ls-files --others --exclude-standard crates 2>/dev/null) ]]; then
    r+=+dirty
  fi
  echo "$r"
}

cpu_idle_pct() { # share of the CPUs idle over one second, before we load them (others' builds spoil figures)
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN{split(a, x, " "); split(b, y, " "); t = y[1] - x[1]; printf "%.0f\n", (t > 0) ? 100 * (y[2] - x[2]) / t : 100}'
}

json_int() { # key file -> the first integer value of "key" in a JSON file
  grep -o "\"$1\":[0-9]*" "$2" | awk -F: 'NR==1{print $2}'
}
