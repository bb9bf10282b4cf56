#!/usr/bin/env bash
# bench/polls.sh — a storm of votes on the demo site's sidebar poll, and what it
# costs the readers meanwhile:
#   * `khabar demo` (SQLite) in a temp dir; the poll's form token and an option
#     id are read from the home page, as a browser would;
#   * idle: wrk on a cached article page (gzip, as browsers ask);
#   * the storm: wrk POSTing `option=ID&csrf=TOKEN` to /polls/1/vote with
#     `Accept: application/json` and no cookie, so every request is a new
#     voter; a Lua script counts the answers by status (only 200 is an
#     acknowledged vote) and the requests sent;
#   * at the same time, wrk on the same article page again: the ratio of its
#     req/s to the idle figure;
#   * afterwards /api/content/polls/1 must count the voters wrk saw
#     acknowledged (plus those counted before the storm): MATCH when equal, or
#     when the excess is no more than the votes wrk sent but stopped waiting
#     for (it drops the requests in flight when its time is up; the server
#     still commits them); MISMATCH (exit 2) otherwise. The options' votes must
#     add up to the voters (one answer per voter).
#
# Usage: bench/polls.sh             (from anywhere; builds the release binary)
# Env:   DURATION=10s               wrk duration of each measurement
#        VOTE_CONNECTIONS=64        wrk -c of the storm (-t1)
#        READ_CONNECTIONS=16        wrk -c of the page reads (-t1)
#        ENCODING=gzip              page reads: gzip (what browsers ask for) or identity
#        OPTION=                    option id to vote for (default: the first on the page)
#        SKIP_BUILD=1               use the existing target/release/khabar instead of building
#        KEEP=1                     keep the temp dir (data, logs)
# Everything runs on 127.0.0.1 only and is stopped on exit.
set -euo pipefail

DURATION=${DURATION:-10s}
VOTE_CONNECTIONS=${VOTE_CONNECTIONS:-64}
READ_CONNECTIONS=${READ_CONNECTIONS:-16}
ENCODING=${ENCODING:-gzip}
OPTION=${OPTION:-}
KEEP=${KEEP:-0}
POLL=1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ -d $HOME/.cargo/bin ]] && PATH=$HOME/.cargo/bin:$PATH

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $ENCODING == gzip || $ENCODING == identity ]] || die "ENCODING must be gzip or identity"
[[ $VOTE_CONNECTIONS =~ ^[1-9][0-9]*$ ]] || die "VOTE_CONNECTIONS must be a positive whole number"
[[ $READ_CONNECTIONS =~ ^[1-9][0-9]*$ ]] || die "READ_CONNECTIONS must be a positive whole number"
[[ -z $OPTION || $OPTION =~ ^[1-9][0-9]*$ ]] || die "OPTION must be an option id"

# ---------------------------------------------------------------- tools
need_pkgs=()
command -v wrk >/dev/null 2>&1 || need_pkgs+=(wrk)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
if ((${#need_pkgs[@]})); then
  log "installing missing tools: ${need_pkgs[*]}"
  SUDO=; [[ $(id -u) == 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
fi

# ---------------------------------------------------------------- build
BIN=$ROOT/target/release/khabar
if [[ ${SKIP_BUILD:-0} == 1 ]]; then
  log "SKIP_BUILD=1: using the existing $BIN"
else
  log "building: cargo build --release --bin khabar (in $ROOT)"
  (cd "$ROOT" && cargo build --release --bin khabar) || die "cargo build failed"
fi
[[ -x $BIN ]] || die "no binary at $BIN"

# ---------------------------------------------------------------- temp + cleanup
T=$(mktemp -d "${TMPDIR:-/tmp}/khabar-polls.XXXXXX")
KPID=  # khabar demo
WPID=  # wrk: the vote storm (or the idle / warm-up reads)
RPID=  # wrk: the page reads during the storm


stop_on_exit "WPID:wrk" "RPID:wrk" "KPID:khabar"




WRK_LIMIT=$(($(dur_s "$DURATION") + 30))




OUT_DIR=$ROOT/bench/out/polls-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT_DIR"

READ_HDR=()
[[ $ENCODING == gzip ]] && READ_HDR=(-H 'Accept-Encoding: gzip')

# wrk on the page, in the background: sets RPID (or WPID with `fg`); output in OUT_DIR/wrk-NAME.txt
start_reads() { # name url duration
  local f=$OUT_DIR/wrk-$1.txt
  echo "# wrk -t1 -c$READ_CONNECTIONS -d$3 --latency ${READ_HDR[*]:+${READ_HDR[*]} }$2" >"$f"
  timeout --kill-after=5 "$WRK_LIMIT" wrk -t1 -c"$READ_CONNECTIONS" -d"$3" --latency "${READ_HDR[@]}" "$2" >>"$f" 2>&1 &
  RPID=$!
}

check_reads() { # name -> sets WRK_RPS, WRK_P99 (ms) from OUT_DIR/wrk-NAME.txt
  local f=$OUT_DIR/wrk-$1.txt bad p99
  WRK_RPS=$(awk '/^Requests\/sec:/{print $2}' "$f")
  p99=$(awk '$1=="99%"{print $2}' "$f")
  [[ -n $WRK_RPS && -n $p99 ]] || die "could not parse wrk output $f"
  WRK_P99=$(to_ms "$p99")
  bad=$(awk '/Non-2xx or 3xx responses:/{print $NF}' "$f")
  [[ -z $bad ]] || die "wrk saw $bad non-2xx/3xx responses from the page (see $f)"
  if grep -q 'Socket errors:' "$f"; then echo "   warning: $(grep 'Socket errors:' "$f") ($1)" >&2; fi
}

run_reads() { # name url duration (in the foreground, as far as the script is concerned)
  start_reads "$@"
  WPID=$RPID RPID=
  wait "$WPID" || die "wrk failed (see $OUT_DIR/wrk-$1.txt)"
  WPID=
  check_reads "$1"
}

DATA=$T/data
KPORT=$(free_port)
KURL=http://127.0.0.1:$KPORT
export RUST_LOG=warn

# ---------------------------------------------------------------- demo site
log "khabar demo: creating the site in $DATA (SQLite) on 127.0.0.1:$KPORT (RUST_LOG=warn)"
"$BIN" demo --data "$DATA" --addr "127.0.0.1:$KPORT" >>"$T/khabar.log" 2>&1 &
KPID=$!
wait_ready "$KPORT" "$KPID" 120 "khabar demo" "$T/khabar.log"

# ---------------------------------------------------------------- what a browser would read
curl -fsS --max-time 10 -o "$T/home.html" "$KURL/" || die "GET / from khabar failed"
# The poll box, from its <section> to the end of its form.
awk '/<section class="poll-box" data-poll="'"$POLL"'"/{on=1} on{print} on && /<\/form>/{exit}' "$T/home.html" >"$T/poll-box.html"
[[ -s $T/poll-box.html ]] || die "no <section class=\"poll-box\" data-poll=\"$POLL\"> in the home page"
grep -q "action=\"/polls/$POLL/vote\"" "$T/poll-box.html" || die "the poll box has no form posting to /polls/$POLL/vote"
CSRF=$(grep -o 'name="csrf" value="[^"]*"' "$T/poll-box.html" | awk -F'"' 'NR==1{print $4}')
[[ -n $CSRF ]] || die "no csrf token in the poll box"
mapfile -t OPTIONS < <(grep -o 'name="option" value="[0-9]*"' "$T/poll-box.html" | awk -F'"' '{print $4}')
((${#OPTIONS[@]})) || die "no option inputs in the poll box"
if [[ -z $OPTION ]]; then
  OPTION=${OPTIONS[0]}
else
  printf '%s\n' "${OPTIONS[@]}" | grep -qx "$OPTION" || die "OPTION=$OPTION is not one of the poll's options (${OPTIONS[*]})"
fi
# (awk reads all input: `head -n1` would SIGPIPE grep and trip pipefail)
ARTICLE=$(grep -o 'href="/news/[^"]*"' "$T/home.html" | awk 'NR==1{sub(/^href="/, ""); sub(/"$/, ""); print}')
[[ -n $ARTICLE ]] || die "no /news/ link in the home page"
ARTICLE=${ARTICLE//&amp;/&}
URL=$KURL$ARTICLE
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "${READ_HDR[@]}" "$URL")
[[ $code == 200 ]] || die "article $ARTICLE: HTTP $code"
echo "   poll $POLL: csrf ${CSRF:0:8}…, options ${OPTIONS[*]}, voting for $OPTION; article ${ARTICLE:0:60}…"

curl -fsS --max-time 10 -o "$OUT_DIR/api-before.json" "$KURL/api/content/polls/$POLL" || die "GET /api/content/polls/$POLL failed"
VOTERS_BEFORE=$(json_int voters "$OUT_DIR/api-before.json")
[[ -n $VOTERS_BEFORE ]] || die "no \"voters\" in /api/content/polls/$POLL: $(cat "$OUT_DIR/api-before.json")"
echo "   voters before the storm: $VOTERS_BEFORE"

# ---------------------------------------------------------------- the vote script
# No cookie is ever sent (wrk keeps none), so every request is a new voter.
# The request is static and there is no response callback: Lua run per request
# or per answer costs wrk CPU that, on two cores, it takes from the server being
# measured. wrk counts non-2xx answers itself (errors.status); votes still in
# flight when wrk stops are committed by the server but never seen answered,
# at most one per connection.
LUA=$T/vote.lua
cat >"$LUA" <<'LUA'
-- wrk -s vote.lua URL -- OPTION CSRF
function init(args)
  local option, csrf = args[1], args[2]
  if not option or not csrf then error("usage: wrk -s vote.lua URL -- OPTION CSRF") end
  wrk.method = "POST"
  wrk.body = "option=" .. option .. "&csrf=" .. csrf
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Accept"] = "application/json"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("VOTE_ANSWERED %d\n", summary.requests))
  io.write(string.format("VOTE_NON2XX %d\n", e.status))
  io.write(string.format("VOTE_DURATION_US %d\n", summary.duration))
  io.write(string.format("VOTE_ERRORS connect=%d read=%d write=%d status=%d timeout=%d\n",
    e.connect, e.read, e.write, e.status, e.timeout))
end
LUA
cp "$LUA" "$OUT_DIR/vote.lua"

# ---------------------------------------------------------------- idle page reads
IDLE_CPU=$(cpu_idle_pct)
if ((IDLE_CPU < 90)); then
  echo "   warning: the CPUs were only ${IDLE_CPU}% idle just before measuring (something else is running: $(ps -eo comm= --sort=-pcpu | awk 'NR<=3' | paste -sd, -)); figures will be low" >&2
fi
log "page reads: wrk -t1 -c$READ_CONNECTIONS -d$DURATION ($ENCODING) on the article page, $(nproc) CPUs"
run_reads warmup "$URL" 3s
run_reads idle "$URL" "$DURATION"
IDLE_RPS=$WRK_RPS IDLE_P99=$WRK_P99
printf '   idle:           %10.0f req/s  p99 %8.2f ms\n' "$IDLE_RPS" "$IDLE_P99"

# ---------------------------------------------------------------- the storm, and page reads meanwhile
log "vote storm: wrk -t1 -c$VOTE_CONNECTIONS -d$DURATION --latency POST /polls/$POLL/vote (no cookie), with page reads alongside"
SF=$OUT_DIR/wrk-storm.txt
echo "# wrk -t1 -c$VOTE_CONNECTIONS -d$DURATION --latency -s vote.lua $KURL/polls/$POLL/vote -- $OPTION $CSRF" >"$SF"
timeout --kill-after=5 "$WRK_LIMIT" wrk -t1 -c"$VOTE_CONNECTIONS" -d"$DURATION" --latency -s "$LUA" \
  "$KURL/polls/$POLL/vote" -- "$OPTION" "$CSRF" >>"$SF" 2>&1 &
WPID=$!
start_reads during "$URL" "$DURATION"
storm_rc=0
wait "$WPID" || storm_rc=$?
WPID=
wait "$RPID" || die "wrk (page reads during the storm) failed (see $OUT_DIR/wrk-during.txt)"
RPID=
((storm_rc == 0)) || die "wrk (the storm) failed with $storm_rc (see $SF)"
check_reads during
DURING_RPS=$WRK_RPS DURING_P99=$WRK_P99
printf '   during storm:   %10.0f req/s  p99 %8.2f ms\n' "$DURING_RPS" "$DURING_P99"

# the storm's own figures
grep -q '^VOTE_ANSWERED ' "$SF" || die "the vote script printed no counts (see $SF)"
ANSWERED=$(awk '$1=="VOTE_ANSWERED"{print $2}' "$SF")
NON2XX=$(awk '$1=="VOTE_NON2XX"{print $2}' "$SF")
ACK=$((ANSWERED - NON2XX))
STORM_US=$(awk '$1=="VOTE_DURATION_US"{print $2}' "$SF")
STATUSES="2xx=$ACK other=$NON2XX"
VOTE_ERRORS=$(awk '$1=="VOTE_ERRORS"{$1=""; sub(/^ /, ""); print}' "$SF")
p99=$(awk '$1=="99%"{print $2}' "$SF")
[[ -n $p99 && -n $STORM_US && $STORM_US -gt 0 ]] || die "could not parse the storm's wrk output $SF"
STORM_P99=$(to_ms "$p99")
STORM_P50=$(to_ms "$(awk '$1=="50%"{print $2}' "$SF")")
ACK_PER_S=$(awk -v n="$ACK" -v us="$STORM_US" 'BEGIN{printf "%.0f", n / (us / 1e6)}')
# wrk stops with at most one request in flight per connection.
UNANSWERED=$VOTE_CONNECTIONS
printf '   votes: answered %d (%s); at most %d left in flight when wrk stopped\n' \
  "$ANSWERED" "${STATUSES:-none}" "$UNANSWERED"
printf '   acknowledged (200): %d in %.2f s = %s votes/s; p50 %.2f ms, p99 %.2f ms; socket errors: %s\n' \
  "$ACK" "$(awk -v us="$STORM_US" 'BEGIN{print us/1e6}')" "$ACK_PER_S" "$STORM_P50" "$STORM_P99" "$VOTE_ERRORS"
((ACK > 0)) || { tail -n 30 "$T/khabar.log" >&2; die "no vote was acknowledged (statuses: ${STATUSES:-none}; see $SF)"; }

# ---------------------------------------------------------------- did every acknowledged vote count, and only those?
# Votes wrk sent but stopped waiting for are still being committed: wait until the count is still.
prev=-1
for ((i = 0; i < 100; i++)); do
  curl -fsS --max-time 10 -o "$OUT_DIR/api-after.json" "$KURL/api/content/polls/$POLL" || die "GET /api/content/polls/$POLL failed"
  VOTERS_AFTER=$(json_int voters "$OUT_DIR/api-after.json")
  [[ -n $VOTERS_AFTER ]] || die "no \"voters\" in /api/content/polls/$POLL after the storm"
  [[ $VOTERS_AFTER == "$prev" ]] && break
  prev=$VOTERS_AFTER
  sleep 0.3
done
OPTION_SUM=$(grep -o '"votes":[0-9]*' "$OUT_DIR/api-after.json" | awk -F: '{s+=$2} END{print s+0}')
EXPECTED=$((VOTERS_BEFORE + ACK))
DIFF=$((VOTERS_AFTER - EXPECTED))
# wrk stops with a request in flight on (nearly) every connection and never reads
# those answers, but the server has them and commits them: the count may exceed
# the acknowledged votes by at most the unanswered requests. Less than the
# acknowledged votes means acknowledged votes were lost; more than that bound
# means votes were invented.
if ((DIFF == 0)); then
  COUNT_VERDICT=MATCH
  COUNT_NOTE="(exactly)"
elif ((DIFF > 0 && DIFF <= UNANSWERED)); then
  COUNT_VERDICT=MATCH
  COUNT_NOTE="(+$DIFF: votes in flight when wrk stopped (at most $UNANSWERED), committed all the same; none lost, none invented)"
elif ((DIFF < 0)); then
  COUNT_VERDICT=MISMATCH
  COUNT_NOTE="($DIFF: acknowledged votes were lost)"
else
  COUNT_VERDICT=MISMATCH
  COUNT_NOTE="(+$DIFF, more than the $UNANSWERED requests left unanswered: votes were invented)"
fi
[[ $OPTION_SUM == "$VOTERS_AFTER" ]] && SUM_VERDICT=OK || SUM_VERDICT=MISMATCH
COMMITTED_PER_S=$(awk -v n="$((VOTERS_AFTER - VOTERS_BEFORE))" -v us="$STORM_US" 'BEGIN{printf "%.0f", n / (us / 1e6)}')
SERVER_HWM_KB=$(awk '/^VmHWM:/{print $2}' "/proc/$KPID/status" 2>/dev/null || echo 0)
DB_BYTES=$(du -cb "$DATA"/*.db* 2>/dev/null | awk 'END{print $1+0}')
tail -n 50 "$T/khabar.log" >"$OUT_DIR/khabar-log-tail.txt" 2>/dev/null || true

# ---------------------------------------------------------------- report
RATIO=$(awk -v a="$DURING_RPS" -v b="$IDLE_RPS" 'BEGIN{printf "%.3f", a/b}')
{
  echo
  echo "khabar poll vote storm — $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m), $(nproc) CPUs, commit $(revision)"
  echo "CPUs ${IDLE_CPU}% idle just before measuring; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo "demo site on SQLite; poll $POLL, option $OPTION; every vote without a cookie (a new voter each)"
  echo "storm: wrk -t1 -c$VOTE_CONNECTIONS -d$DURATION --latency POST /polls/$POLL/vote (Accept: application/json)"
  echo "reads: wrk -t1 -c$READ_CONNECTIONS -d$DURATION --latency ($ENCODING) on ${ARTICLE:0:60}…, idle and during the storm"
  echo
  printf '  acknowledged votes/s     %10s     %s   (200 answers / wrk duration)\n' "$ACK_PER_S" "$(verdict "$ACK_PER_S" ">=" 10000)"
  printf '  committed votes/s        %10s          (voters counted / wrk duration)\n' "$COMMITTED_PER_S"
  printf '  vote p50 / p99           %6.2f / %.2f ms  %s\n' "$STORM_P50" "$STORM_P99" "$(verdict "$STORM_P99" "<" 20)"
  printf '  vote answers             %s; at most %d in flight at stop; socket errors %s\n' "${STATUSES:-none}" "$UNANSWERED" "$VOTE_ERRORS"
  printf '  idle page req/s          %10.0f     p99 %.2f ms\n' "$IDLE_RPS" "$IDLE_P99"
  printf '  page req/s during storm  %10.0f     p99 %.2f ms\n' "$DURING_RPS" "$DURING_P99"
  printf '  during/idle              %10s     %s\n' "$RATIO" "$(verdict "$RATIO" ">=" 0.5)"
  printf '  voters counted           %10s     = %s before + %s acknowledged? %s %s\n' "$VOTERS_AFTER" "$VOTERS_BEFORE" "$ACK" "$COUNT_VERDICT" "$COUNT_NOTE"
  printf '  options add up           %10s     to the voters? %s\n' "$OPTION_SUM" "$SUM_VERDICT"
  printf '  server VmHWM             %10.1f MB;  database files %.1f MB\n' "$(awk -v k="$SERVER_HWM_KB" 'BEGIN{print k/1024}')" "$(awk -v b="$DB_BYTES" 'BEGIN{print b/1048576}')"
  echo
  echo "goal: >= 10000 acknowledged votes/s on SQLite, p99 < 20 ms, page reads during the storm >= 0.5x idle"
} | tee "$OUT_DIR/summary.txt"
echo "(raw output: $OUT_DIR)"
[[ $COUNT_VERDICT == MATCH && $SUM_VERDICT == OK ]] || exit 2
