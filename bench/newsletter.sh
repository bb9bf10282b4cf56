#!/usr/bin/env bash
# bench/newsletter.sh — sending the digest to 100,000 subscribers, and what it
# costs the readers meanwhile:
#   * a demo site with SUBSCRIBERS confirmed subscribers (imported from a CSV with
#     Arabic names), mail going to a local counting SMTP sink
#     (crates/khabar/examples/smtp_sink.rs) with newsletter_concurrency = 16 and
#     newsletter_rate = 0 (as fast as the relay accepts);
#   * wrk on a cached article page while idle, then again while
#     `khabar newsletter send-digest` runs (a separate process, as an editor or
#     a cron job would start it);
#   * messages/s (SUBSCRIBERS / wall time of the send), the sender's peak RSS
#     (/usr/bin/time -v), the server's peak RSS (VmHWM), and the ratio of the
#     during-send to the idle req/s; the sink must have received every message.
#
# Usage: bench/newsletter.sh        (from anywhere; builds the release binaries)
# Env:   SUBSCRIBERS=100000   confirmed subscribers imported and mailed
#        DURATION=10s  THREADS=2  CONNECTIONS=32   wrk settings for both measurements
#        ENCODING=gzip        gzip (what browsers ask for) or identity
#        CONCURRENCY=16  RATE=0                    newsletter_concurrency / newsletter_rate
#        DKIM=none            none, rsa or ed25519: also sign every message (keys made here)
#        SENDER=shell         shell: `khabar newsletter send-digest` beside the server;
#                             server: the server's own scheduled digest (restarted with a past digest time)
#        SEND_TIMEOUT=900     seconds the send may take before the bench gives up
#        SKIP_BUILD=1         use the existing target/release binaries instead of building
#        KEEP=1               keep the temp dir (data, CSV, logs)
# Everything runs on 127.0.0.1 only and is stopped on exit.
set -euo pipefail

SUBSCRIBERS=${SUBSCRIBERS:-100000}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
ENCODING=${ENCODING:-gzip}
CONCURRENCY=${CONCURRENCY:-16}
RATE=${RATE:-0}
DKIM=${DKIM:-none}
SENDER=${SENDER:-shell}
SEND_TIMEOUT=${SEND_TIMEOUT:-900}
KEEP=${KEEP:-0}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ -d $HOME/.cargo/bin ]] && PATH=$HOME/.cargo/bin:$PATH

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $SUBSCRIBERS =~ ^[1-9][0-9]*$ ]] || die "SUBSCRIBERS must be a positive whole number"
[[ $ENCODING == gzip || $ENCODING == identity ]] || die "ENCODING must be gzip or identity"
[[ $DKIM == none || $DKIM == rsa || $DKIM == ed25519 ]] || die "DKIM must be none, rsa or ed25519"
[[ $SENDER == shell || $SENDER == server ]] || die "SENDER must be shell or server"

# ---------------------------------------------------------------- tools
need_pkgs=()
command -v wrk >/dev/null 2>&1 || need_pkgs+=(wrk)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
[[ -x /usr/bin/time ]] || need_pkgs+=(time)
[[ $DKIM == none ]] || command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
if ((${#need_pkgs[@]})); then
  log "installing missing tools: ${need_pkgs[*]}"
  SUDO=; [[ $(id -u) == 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
fi
[[ $(/usr/bin/time -v true 2>&1) == *'Maximum resident set size'* ]] || die "/usr/bin/time -v does not report the peak RSS (need GNU time)"

# ---------------------------------------------------------------- build
BIN=$ROOT/target/release/khabar
SINK=$ROOT/target/release/examples/smtp_sink
if [[ ${SKIP_BUILD:-0} == 1 ]]; then
  log "SKIP_BUILD=1: using the existing $BIN and $SINK"
else
  log "building: cargo build --release --bin khabar --example smtp_sink (in $ROOT)"
  (cd "$ROOT" && cargo build --release --bin khabar --example smtp_sink) || die "cargo build failed"
fi
[[ -x $BIN ]] || die "no binary at $BIN"
[[ -x $SINK ]] || die "no sink at $SINK"

# ---------------------------------------------------------------- temp + cleanup
T=$(mktemp -d "${TMPDIR:-/tmp}/khabar-newsletter.XXXXXX")
KPID=  # khabar demo / serve
SPID=  # smtp sink
XPID=  # the send (a subshell running /usr/bin/time running khabar)
WPID=  # wrk



stop_send() { # the subshell does not pass SIGTERM on: stop khabar itself first
  local k
  [[ -n $XPID ]] && kill -0 "$XPID" 2>/dev/null || return 0
  for k in $(descendants "$XPID"); do
    [[ $(ps -o comm= -p "$k" 2>/dev/null) == khabar ]] && stop_pid "$k" "khabar newsletter send-digest"
  done
  stop_pid "$XPID" "send"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$WPID" wrk
  stop_send
  stop_pid "$KPID" khabar
  stop_pid "$SPID" smtp_sink
  if [[ $KEEP == 1 ]]; then
    echo "newsletter.sh: kept $T"
  else
    rm -rf "$T"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM




sink_count() { # the last messages= line of the sink (0 before the first)
  awk -F= '/^messages=/{n=$2} END{print n+0}' "$T/sink.log"
}

set_key() { # key value(TOML) -> DATA/khabar.toml: drop the key's line(s), then append it
  local file=$DATA/khabar.toml
  sed -i "/^[[:space:]]*$1[[:space:]]*=/d" "$file"
  printf '%s = %s\n' "$1" "$2" >>"$file"
}

WRK_LIMIT=$(($(dur_s "$DURATION") + 30))

OUT_DIR=$ROOT/bench/out/newsletter-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT_DIR"

run_wrk() { # name url duration -> sets WRK_RPS; raw output in OUT_DIR/wrk-NAME.txt
  local name=$1 url=$2 d=$3 f bad
  f=$OUT_DIR/wrk-$name.txt
  local hdr=(); [[ $ENCODING == gzip ]] && hdr=(-H 'Accept-Encoding: gzip')
  echo "# wrk -t$THREADS -c$CONNECTIONS -d$d --latency ${hdr[*]:+${hdr[*]} }$url" >"$f"
  timeout --kill-after=5 "$WRK_LIMIT" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$d" --latency "${hdr[@]}" "$url" >>"$f" 2>&1 &
  WPID=$!
  wait "$WPID" || die "wrk failed (see $f)"
  WPID=
  WRK_RPS=$(awk '/^Requests\/sec:/{print $2}' "$f")
  [[ -n $WRK_RPS ]] || die "could not parse wrk output $f"
  bad=$(awk '/Non-2xx or 3xx responses:/{print $NF}' "$f")
  [[ -z $bad ]] || die "wrk saw $bad non-2xx/3xx responses from $url (see $f)"
  if grep -q 'Socket errors:' "$f"; then echo "   warning: $(grep 'Socket errors:' "$f") ($url)" >&2; fi
}

DATA=$T/data
KPORT=$(free_port)
KURL=http://127.0.0.1:$KPORT
export RUST_LOG=warn

# ---------------------------------------------------------------- demo site
create_demo_site "$DATA" "$KPORT"

# ---------------------------------------------------------------- smtp sink
"$SINK" --addr 127.0.0.1:0 >"$T/sink.log" 2>"$T/sink.err" &
SPID=$!
for ((i = 0; i < 200; i++)); do
  grep -q '^LISTENING ' "$T/sink.log" 2>/dev/null && break
  kill -0 "$SPID" 2>/dev/null || { cat "$T/sink.err" >&2; die "smtp_sink exited"; }
  sleep 0.05
done
SPORT=$(awk '/^LISTENING /{print $2; exit}' "$T/sink.log")
[[ -n $SPORT ]] || die "smtp_sink did not report its port"

# ---------------------------------------------------------------- configuration
# The demo writes every key with its default, so keys are replaced, not appended twice.
set_key smtp_url "\"smtp://127.0.0.1:$SPORT\""
set_key newsletter_concurrency "$CONCURRENCY"
set_key newsletter_rate "$RATE"
# No scheduled digest from `khabar serve` while we measure (empty = none).
set_key newsletter_digest_time '""'
if [[ $DKIM != none ]]; then
  case $DKIM in
    rsa)
      openssl genrsa -traditional -out "$DATA/dkim.pem" 2048 2>/dev/null || die "openssl genrsa failed"
      ;;
    ed25519)
      openssl genpkey -algorithm ed25519 -outform DER 2>/dev/null | tail -c 32 | base64 >"$DATA/dkim.pem" \
        || die "openssl genpkey failed"
      ;;
  esac
  set_key dkim_selector '"bench"'
  set_key dkim_domain '"example.org"'
  set_key dkim_private_key_file '"dkim.pem"'
  set_key dkim_algorithm "\"$DKIM\""
fi
log "khabar.toml: smtp_url = smtp://127.0.0.1:$SPORT, newsletter_concurrency = $CONCURRENCY, newsletter_rate = $RATE, newsletter_digest_time = \"\", DKIM $DKIM"

# ---------------------------------------------------------------- subscribers
CSV=$T/subscribers.csv
awk -v n="$SUBSCRIBERS" 'BEGIN{ print "email,name"; for (i = 1; i <= n; i++) printf "reader%06d@example.com,قارئ %d\n", i, i }' >"$CSV"
log "importing $SUBSCRIBERS confirmed subscribers ($(wc -c <"$CSV") bytes of CSV)"
t0=$(date +%s.%N)
"$BIN" newsletter import --data "$DATA" --confirmed "$CSV" >"$T/import.log" 2>&1 \
  || { tail -n 30 "$T/import.log" >&2; die "khabar newsletter import failed"; }
t1=$(date +%s.%N)
IMPORT_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
echo "   imported in ${IMPORT_S} s"

# ---------------------------------------------------------------- serve + idle throughput
"$BIN" serve --data "$DATA" --addr "127.0.0.1:$KPORT" >>"$T/khabar.log" 2>&1 &
KPID=$!
wait_ready "$KPORT" "$KPID" 30 "khabar serve" "$T/khabar.log"

curl -fsS --max-time 10 -o "$T/home.html" "$KURL/" || die "GET / from khabar failed"
# (awk reads all input: `head -n1` would SIGPIPE grep and trip pipefail)
ARTICLE=$(grep -o 'href="/news/[^"]*"' "$T/home.html" | awk 'NR==1{sub(/^href="/, ""); sub(/"$/, ""); print}')
[[ -n $ARTICLE ]] || die "no /news/ link in the home page"
ARTICLE=${ARTICLE//&amp;/&}
URL=$KURL$ARTICLE
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$URL")
[[ $code == 200 ]] || die "article $ARTICLE: HTTP $code"

log "wrk -t$THREADS -c$CONNECTIONS -d$DURATION ($ENCODING) on the article page, $(nproc) CPUs"
run_wrk warmup "$URL" 3s
run_wrk idle "$URL" "$DURATION"
IDLE_RPS=$WRK_RPS
printf '   idle:        %10.0f req/s\n' "$IDLE_RPS"

# ---------------------------------------------------------------- the send, and throughput meanwhile
wait_for_mail() { # measure while mail is actually flowing, not while the sender starts up
  for ((i = 0; i < 1200; i++)); do
    (($(sink_count) > 0)) && break
    [[ -e $T/send.times ]] && break
    sleep 0.05
  done
  # A short send can end before the sink's once-a-second count line.
  for ((i = 0; i < 30; i++)); do
    (($(sink_count) > 0)) && break
    sleep 0.1
  done
  (($(sink_count) > 0)) || { tail -n 30 "$T/send.log" "$T/khabar.log" >&2; die "the sink received nothing within 60 s of starting the send"; }
}

measure_during() {
  run_wrk during "$URL" "$DURATION"
  DURING_RPS=$WRK_RPS
  DURING_PARTIAL=0
  [[ -e $T/send.times ]] && DURING_PARTIAL=1
  printf '   during send: %10.0f req/s%s\n' "$DURING_RPS" \
    "$( ((DURING_PARTIAL)) && echo '  (WARNING: the send ended before this measurement did; partly idle)')"
}

if [[ $SENDER == shell ]]; then
  log "khabar newsletter send-digest to $SUBSCRIBERS subscribers"
  (
    s=$(date +%s.%N)
    rc=0
    /usr/bin/time -v -o "$T/send.time" "$BIN" newsletter send-digest --data "$DATA" >"$T/send.log" 2>&1 || rc=$?
    e=$(date +%s.%N)
    echo "$s $e $rc" >"$T/send.times"
  ) &
  XPID=$!
  wait_for_mail
  measure_during
  for ((i = 0; i < SEND_TIMEOUT * 10; i++)); do
    [[ -e $T/send.times ]] && break
    sleep 0.1
  done
  [[ -e $T/send.times ]] || die "the send did not finish within ${SEND_TIMEOUT}s (sink has $(sink_count) messages)"
  wait "$XPID" 2>/dev/null || true
  XPID=
  read -r SEND_START SEND_END SEND_RC <"$T/send.times"
  cp "$T/send.time" "$OUT_DIR/send-time-v.txt" 2>/dev/null || true
  tail -n 50 "$T/send.log" >"$OUT_DIR/send-log-tail.txt" 2>/dev/null || true
  [[ $SEND_RC == 0 ]] || { tail -n 30 "$T/send.log" >&2; die "khabar newsletter send-digest exited with $SEND_RC"; }
  SENDER_RSS_KB=$(awk -F: '/Maximum resident set size/{gsub(/ /, "", $2); print $2}' "$T/send.time")
  [[ -n $SENDER_RSS_KB ]] || die "no 'Maximum resident set size' in the time -v output"
else
  # The scheduled digest, sent by the server itself: restart it with a digest
  # time that has passed, so its first tick makes today's digest and sends it.
  log "khabar serve sends the scheduled digest to $SUBSCRIBERS subscribers"
  stop_pid "$KPID" "khabar serve"
  set_key newsletter_digest_time '"00:00"'
  SEND_START=$(date +%s.%N)
  "$BIN" serve --data "$DATA" --addr "127.0.0.1:$KPORT" >>"$T/khabar.log" 2>&1 &
  KPID=$!
  wait_ready "$KPORT" "$KPID" 30 "khabar serve" "$T/khabar.log"
  wait_for_mail
  measure_during
  for ((i = 0; i < SEND_TIMEOUT * 10; i++)); do
    (($(sink_count) >= SUBSCRIBERS)) && break
    sleep 0.1
  done
  (($(sink_count) >= SUBSCRIBERS)) || die "the server's send did not finish within ${SEND_TIMEOUT}s (sink has $(sink_count))"
  # The sink reports once a second: the end is known to within a second.
  SEND_END=$(date +%s.%N)
  SEND_RC=0
  SENDER_RSS_KB=$(awk '/^VmHWM:/{print $2}' "/proc/$KPID/status" 2>/dev/null || true)
  [[ -n $SENDER_RSS_KB ]] || die "could not read VmHWM of khabar serve ($KPID)"
fi

SEND_S=$(awk -v a="$SEND_START" -v b="$SEND_END" 'BEGIN{printf "%.3f", b-a}')
SERVER_HWM_KB=$(awk '/^VmHWM:/{print $2}' "/proc/$KPID/status" 2>/dev/null || true)
[[ -n $SERVER_HWM_KB ]] || die "could not read VmHWM of khabar serve ($KPID)"

# ---------------------------------------------------------------- did every message arrive?
stop_pid "$SPID" smtp_sink # it prints a last messages= line on SIGTERM
SPID=
RECEIVED=$(sink_count)

# ---------------------------------------------------------------- report
MPS=$(awk -v n="$SUBSCRIBERS" -v s="$SEND_S" 'BEGIN{printf "%.0f", n/s}')
SENDER_MB=$(awk -v k="$SENDER_RSS_KB" 'BEGIN{printf "%.1f", k/1024}')
SERVER_MB=$(awk -v k="$SERVER_HWM_KB" 'BEGIN{printf "%.1f", k/1024}')
RATIO=$(awk -v a="$DURING_RPS" -v b="$IDLE_RPS" 'BEGIN{printf "%.3f", a/b}')
{
  echo
  echo "khabar newsletter send — $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m), $(nproc) CPUs, commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && git diff --quiet HEAD 2>/dev/null || echo '+dirty')"
  echo "$SUBSCRIBERS confirmed subscribers; sent by the $SENDER; newsletter_concurrency = $CONCURRENCY, newsletter_rate = $RATE, DKIM $DKIM; counting SMTP sink on 127.0.0.1"
  echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency ($ENCODING) on ${ARTICLE:0:60}…"
  echo
  printf '  send wall time        %10s s   (import took %s s)\n' "$SEND_S" "$IMPORT_S"
  printf '  messages/s            %10s     %s\n' "$MPS" "$(verdict "$MPS" ">=" 2000)"
  printf '  sender peak RSS       %10s MB  %s\n' "$SENDER_MB" "$(verdict "$SENDER_MB" "<" 200)"
  printf '  server VmHWM          %10s MB\n' "$SERVER_MB"
  printf '  idle req/s            %10.0f\n' "$IDLE_RPS"
  printf '  during-send req/s     %10.0f%s\n' "$DURING_RPS" "$( ((DURING_PARTIAL)) && echo '   (send ended early: partly idle)')"
  printf '  during/idle           %10s     %s\n' "$RATIO" "$(verdict "$RATIO" ">=" 0.70)"
  printf '  sink received         %10s of %s  %s\n' "$RECEIVED" "$SUBSCRIBERS" "$([[ $RECEIVED == "$SUBSCRIBERS" ]] && echo OK || echo MISMATCH)"
  echo
  echo "goal: >= 2000 messages/s, peak RSS < 200 MB, during/idle >= 0.70"
} | tee "$OUT_DIR/summary.txt"
echo "(raw output: $OUT_DIR)"
[[ $RECEIVED == "$SUBSCRIBERS" ]] || die "the sink received $RECEIVED messages, expected exactly $SUBSCRIBERS"
