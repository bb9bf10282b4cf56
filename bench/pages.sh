#!/usr/bin/env bash
# bench/pages.sh — khabar vs nginx serving the same page bytes, measured the way
# shared/BENCHMARKS.md prescribes:
#   * same machine, same run, alternating A B A B A B, median of per-pair ratios;
#   * same bytes: nginx serves exactly what khabar sent (page.html, and the gzip
#     response as page.html.gz with gzip_static on), checked by sha256 first;
#   * nginx at its best (sendfile on, tcp_nopush off, tcp_nodelay on, ...);
#   * wrk -t1 -cN -dD --latency, identity and 'Accept-Encoding: gzip'.
# It also measures how long `khabar serve` takes to answer /healthz after start.
#
# Usage: bench/pages.sh            (from anywhere; builds the release binary)
# Env:   DURATION=10s  CONNECTIONS=64  ROUNDS=3   wrk duration, connections, A/B pairs
#        CONNECTIONS may list several values, e.g. CONNECTIONS="64 256"
#        STARTS=5      serve restarts timed for the readiness figure
#        SKIP_BUILD=1  use the existing target/release/khabar instead of building
#        KEEP=1        keep the temp dir (data, nginx root, raw wrk output)
# Everything runs on 127.0.0.1 only and is stopped on exit.
set -euo pipefail

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-3}
STARTS=${STARTS:-5}
KEEP=${KEEP:-0}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ -d $HOME/.cargo/bin ]] && PATH=$HOME/.cargo/bin:$PATH

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---------------------------------------------------------------- tools
need_pkgs=()
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need_pkgs+=(nginx)
command -v wrk >/dev/null 2>&1 || need_pkgs+=(wrk)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
if ((${#need_pkgs[@]})); then
  log "installing missing tools: ${need_pkgs[*]}"
  SUDO=; [[ $(id -u) == 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  pkgs=()
  for p in "${need_pkgs[@]}"; do
    if [[ $p == nginx ]]; then
      if apt-cache show nginx-light >/dev/null 2>&1; then pkgs+=(nginx-light); else pkgs+=(nginx); fi
    else
      pkgs+=("$p")
    fi
  done
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
  # Debian starts the packaged nginx on :80; it is not ours and not in the way
  # (we use our own config on a free loopback port), so leave it alone.
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || die "nginx not found after install"
"$NGINX" -V 2>&1 | grep -q -- --with-http_gzip_static_module \
  || die "this nginx lacks the gzip_static module"

# ---------------------------------------------------------------- build
BIN=$ROOT/target/release/khabar
if [[ ${SKIP_BUILD:-0} == 1 ]]; then
  log "SKIP_BUILD=1: using the existing $BIN"
else
  log "building: cargo build --release -p khabar (in $ROOT)"
  (cd "$ROOT" && cargo build --release -p khabar) || die "cargo build failed"
fi
[[ -x $BIN ]] || die "no binary at $BIN"

# ---------------------------------------------------------------- temp + cleanup
T=$(mktemp -d "${TMPDIR:-/tmp}/khabar-bench.XXXXXX")
KPID=
NPID=
WPID=


stop_on_exit "WPID:wrk" "KPID:khabar" "NPID:nginx"


# One GET /healthz over bash's /dev/tcp (no fork, so the poll is cheap and the
# readiness time is not inflated by spawning curl each time).

now_ns() { date +%s%N; }

# time_until_ready port pid timeout_s name -> prints elapsed ms since $START_NS
time_until_ready() {
  local port=$1 pid=$2 limit=$3 name=$4 deadline
  deadline=$(($(now_ns) + limit * 1000000000))
  while :; do
    if healthz_ok "$port"; then
      echo $((($(now_ns) - START_NS) / 1000000))
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$T/khabar.log" >&2; die "$name exited before /healthz answered"; }
    (($(now_ns) < deadline)) || { cat "$T/khabar.log" >&2; die "$name not ready after ${limit}s"; }
    sleep 0.002
  done
}

median() { # numbers on stdin -> median
  sort -g | awk '{a[NR]=$1} END{ if (NR==0) {print "nan"; exit}
    if (NR%2) printf "%.6g\n", a[(NR+1)/2]; else printf "%.6g\n", (a[NR/2]+a[NR/2+1])/2 }'
}

DATA=$T/data
KPORT=$(free_port)
KURL=http://127.0.0.1:$KPORT
export RUST_LOG=warn

# ---------------------------------------------------------------- khabar demo, then timed serve starts
log "khabar: demo site in $DATA on 127.0.0.1:$KPORT (RUST_LOG=warn: per-request logs off, as nginx runs with access_log off)"
START_NS=$(now_ns)
"$BIN" demo --data "$DATA" --addr "127.0.0.1:$KPORT" >>"$T/khabar.log" 2>&1 &
KPID=$!
ms=$(time_until_ready "$KPORT" "$KPID" 120 "khabar demo")
echo "   demo created and ready in ${ms} ms"

start_samples=()
for ((s = 1; s <= STARTS; s++)); do
  stop_pid "$KPID" khabar
  KPID=
  START_NS=$(now_ns)
  "$BIN" serve --data "$DATA" --addr "127.0.0.1:$KPORT" >>"$T/khabar.log" 2>&1 &
  KPID=$!
  ms=$(time_until_ready "$KPORT" "$KPID" 20 "khabar serve")
  start_samples+=("$ms")
done
SERVE_READY_MS=$(printf '%s\n' "${start_samples[@]}" | median)
verdict=OK; awk -v m="$SERVE_READY_MS" 'BEGIN{exit !(m < 500)}' || verdict="OVER GOAL"
echo "   khabar serve ready (process start -> /healthz 200): median ${SERVE_READY_MS} ms of ${STARTS} starts [${start_samples[*]}] (goal < 500 ms: $verdict)"
# The khabar that is benchmarked is this last `khabar serve`.

# ---------------------------------------------------------------- fetch pages, build the nginx root
WWW=$T/www
mkdir -p "$WWW"
curl -fsS --max-time 10 -o "$T/home.html" "$KURL/" || die "GET / from khabar failed"
# (awk reads all input: `head -n1` would SIGPIPE grep and trip pipefail)
ARTICLE=$(grep -o 'href="/news/[^"]*"' "$T/home.html" | awk 'NR==1{sub(/^href="/, ""); sub(/"$/, ""); print}')
[[ -n $ARTICLE ]] || die "no /news/ link in the home page"
ARTICLE=${ARTICLE//&amp;/&}

PAGES=(article home)
declare -A PATHOF=([home]=/ [article]=$ARTICLE)

urldecode() { printf '%b' "${1//%/\\x}"; }

for page in "${PAGES[@]}"; do
  path=${PATHOF[$page]}
  dec=$(urldecode "$path")
  [[ $dec != *..* && $dec == /* ]] || die "unsafe path: $dec"
  dir=$WWW${dec%/}
  mkdir -p "$dir"
  # identity: no Accept-Encoding at all (curl sends none without --compressed)
  code=$(curl -sS --max-time 10 -o "$dir/page.html" -D "$T/$page.k.id.h" -w '%{http_code}' "$KURL$path")
  [[ $code == 200 ]] || die "khabar $page identity: HTTP $code"
  grep -qi '^content-encoding:' "$T/$page.k.id.h" && die "khabar $page: identity request got a content-encoding"
  code=$(curl -sS --max-time 10 -H 'Accept-Encoding: gzip' -o "$dir/page.html.gz" -D "$T/$page.k.gz.h" -w '%{http_code}' "$KURL$path")
  [[ $code == 200 ]] || die "khabar $page gzip: HTTP $code"
  grep -qi '^content-encoding: *gzip' "$T/$page.k.gz.h" || die "khabar $page: no content-encoding: gzip for Accept-Encoding: gzip"
  gzip -dc "$dir/page.html.gz" | cmp -s - "$dir/page.html" \
    || die "khabar $page: gunzipped gzip response differs from the identity response"
done

# ---------------------------------------------------------------- nginx
NPORT=$(free_port)
NURL=http://127.0.0.1:$NPORT
NG=$T/nginx
mkdir -p "$NG"/{client_body,proxy,fastcgi,uwsgi,scgi}
user_line=
[[ $(id -u) == 0 ]] && user_line='user root;'
cat >"$NG/nginx.conf" <<EOF
$user_line
worker_processes auto;
pid $NG/nginx.pid;
error_log $NG/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    sendfile on;
    tcp_nopush off;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    gzip_static on;
    default_type text/html;
    charset utf-8;
    client_body_temp_path $NG/client_body;
    proxy_temp_path $NG/proxy;
    fastcgi_temp_path $NG/fastcgi;
    uwsgi_temp_path $NG/uwsgi;
    scgi_temp_path $NG/scgi;
    server {
        listen 127.0.0.1:$NPORT;
        root $WWW;
        # \$uri is the decoded path, so /news/1/%D8%A7... maps to the UTF-8 directory name.
        location / { try_files \$uri/page.html =404; }
    }
}
EOF
"$NGINX" -e "$NG/error.log" -p "$NG" -c "$NG/nginx.conf" -t -q || die "nginx config test failed"
"$NGINX" -e "$NG/error.log" -p "$NG" -c "$NG/nginx.conf" -g 'daemon off;' >>"$NG/stdout.log" 2>&1 &
NPID=$!
for ((i = 0; i < 200; i++)); do
  curl -fsS --max-time 1 -o /dev/null "$NURL/" 2>/dev/null && break
  kill -0 "$NPID" 2>/dev/null || { cat "$NG/error.log" >&2; die "nginx exited"; }
  sleep 0.05
done
curl -fsS --max-time 2 -o /dev/null "$NURL/" || { cat "$NG/error.log" >&2; die "nginx not answering on $NURL"; }

# ---------------------------------------------------------------- same bytes?
log "checking both servers return byte-identical bodies (sha256)"
sha() { sha256sum | cut -c1-64; }
declare -A SIZE HDR
for page in "${PAGES[@]}"; do
  path=${PATHOF[$page]}
  for enc in identity gzip; do
    hdr=(); [[ $enc == gzip ]] && hdr=(-H 'Accept-Encoding: gzip')
    for srv in khabar nginx; do
      [[ $srv == khabar ]] && base=$KURL || base=$NURL
      f=$T/$page.$srv.$enc
      code=$(curl -sS --max-time 10 "${hdr[@]}" -o "$f" -D "$f.h" -w '%{http_code} %{size_header}' "$base$path")
      [[ ${code%% *} == 200 ]] || die "$srv $page $enc: HTTP ${code%% *} for $base$path"
      HDR[$page.$srv.$enc]=${code#* }
      if [[ $enc == gzip ]]; then
        grep -qi '^content-encoding: *gzip' "$f.h" || die "$srv $page: gzip request answered without content-encoding: gzip"
      else
        grep -qi '^content-encoding:' "$f.h" && die "$srv $page: identity request answered with a content-encoding"
      fi
    done
    a=$(sha <"$T/$page.khabar.$enc"); b=$(sha <"$T/$page.nginx.$enc")
    if [[ $a != "$b" ]]; then
      die "BODY MISMATCH for $page ($enc): khabar sha256 $a, nginx sha256 $b — refusing to benchmark different bytes"
    fi
    SIZE[$page.$enc]=$(wc -c <"$T/$page.khabar.$enc")
    printf '   %-8s %-8s sha256 %s  %7d bytes  OK\n' "$page" "$enc" "${a:0:16}…" "${SIZE[$page.$enc]}"
  done
done

# ---------------------------------------------------------------- wrk
WRK_LIMIT=$(($(dur_s "$DURATION") + 30))


OUT_DIR=$ROOT/bench/out/pages-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT_DIR"
RUN=0

run_wrk() { # url enc conns -> sets WRK_RPS, WRK_P99 (ms); raw output kept in OUT_DIR
  local url=$1 enc=$2 c=$3 f rps p99 bad
  RUN=$((RUN + 1))
  f=$OUT_DIR/wrk-$(printf %03d $RUN).txt
  local hdr=(); [[ $enc == gzip ]] && hdr=(-H 'Accept-Encoding: gzip')
  echo "# wrk -t1 -c$c -d$DURATION --latency ${hdr[*]:+${hdr[*]} }$url" >"$f"
  # in the background + wait, so a SIGTERM/SIGINT to this script runs cleanup at once
  timeout --kill-after=5 "$WRK_LIMIT" wrk -t1 -c"$c" -d"$DURATION" --latency "${hdr[@]}" "$url" >>"$f" 2>&1 &
  WPID=$!
  wait "$WPID" || die "wrk failed (see $f)"
  WPID=
  rps=$(awk '/^Requests\/sec:/{print $2}' "$f")
  p99=$(awk '$1=="99%"{print $2}' "$f")
  [[ -n $rps && -n $p99 ]] || die "could not parse wrk output $f"
  bad=$(awk '/Non-2xx or 3xx responses:/{print $NF}' "$f")
  [[ -z $bad ]] || die "wrk saw $bad non-2xx/3xx responses from $url (see $f)"
  if grep -q 'Socket errors:' "$f"; then echo "   warning: $(grep 'Socket errors:' "$f") ($url)" >&2; fi
  WRK_RPS=$rps
  WRK_P99=$(to_ms "$p99")
}

nproc_=$(nproc)
log "wrk: -t1 -c{$CONNECTIONS} -d$DURATION --latency, $ROUNDS alternating khabar/nginx pairs per case; $nproc_ CPUs"
echo "   khabar: $BIN serve (RUST_LOG=warn)   nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), worker_processes auto, access_log off, sendfile on, tcp_nopush off"

declare -a ROWS=()
for c in $CONNECTIONS; do
  for page in "${PAGES[@]}"; do
    path=${PATHOF[$page]}
    for enc in identity gzip; do
      kr=(); nr=(); kp=(); np=(); ratios=()
      for ((r = 1; r <= ROUNDS; r++)); do
        run_wrk "$KURL$path" "$enc" "$c"; krps=$WRK_RPS; kp99=$WRK_P99
        run_wrk "$NURL$path" "$enc" "$c"; nrps=$WRK_RPS; np99=$WRK_P99
        kr+=("$krps"); nr+=("$nrps"); kp+=("$kp99"); np+=("$np99")
        ratios+=("$(awk -v a="$krps" -v b="$nrps" 'BEGIN{printf "%.4f", a/b}')")
        printf '   %-8s %-8s c=%-4s round %d: khabar %10.0f req/s p99 %8.2f ms | nginx %10.0f req/s p99 %8.2f ms | ratio %.3f\n' \
          "$page" "$enc" "$c" "$r" "$krps" "$kp99" "$nrps" "$np99" "${ratios[-1]}"
      done
      ROWS+=("$page|$enc|$c|$(printf '%s\n' "${kr[@]}" | median)|$(printf '%s\n' "${nr[@]}" | median)|$(printf '%s\n' "${ratios[@]}" | median)|$(printf '%s\n' "${kp[@]}" | median)|$(printf '%s\n' "${np[@]}" | median)|$(printf '%s\n' "${kp[@]}" | sort -g | tail -n1)|$(printf '%s\n' "${np[@]}" | sort -g | tail -n1)")
    done
  done
done

# ---------------------------------------------------------------- report
{
  echo
  echo "khabar vs nginx, same bytes — $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m), $nproc_ CPUs, commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && git diff --quiet HEAD 2>/dev/null || echo '+dirty')"
  echo "wrk -t1 -c<conns> -d$DURATION --latency; $ROUNDS pairs alternating khabar,nginx; medians; ratio = median of per-pair khabar/nginx"
  echo "khabar ran with RUST_LOG=warn (no per-request logs; nginx has access_log off)"
  echo
  printf '%-8s %-9s %5s %13s %13s %7s %14s %13s   %s\n' page encoding conns "khabar req/s" "nginx req/s" "ratio" "khabar p99 ms" "nginx p99 ms" "worst p99 ms k/n"
  printf '%-8s %-9s %5s %13s %13s %7s %14s %13s   %s\n' -------- --------- ----- ------------- ------------- ------- -------------- ------------- ----------------
  for row in "${ROWS[@]}"; do
    IFS='|' read -r page enc c krps nrps ratio kp99 np99 kworst nworst <<<"$row"
    printf '%-8s %-9s %5s %13.0f %13.0f %7.3f %14.2f %13.2f   %.2f / %.2f\n' "$page" "$enc" "$c" "$krps" "$nrps" "$ratio" "$kp99" "$np99" "$kworst" "$nworst"
  done
  echo "(req/s and p99 are medians over the rounds; 'worst p99' is the largest single-run p99 of each server)"
  echo
  echo "body sizes (identical for both servers; response header bytes khabar / nginx):"
  for page in "${PAGES[@]}"; do
    printf '  %-8s identity %7d B (headers %d / %d)   gzip %7d B (headers %d / %d)\n' "$page" \
      "${SIZE[$page.identity]}" "${HDR[$page.khabar.identity]}" "${HDR[$page.nginx.identity]}" \
      "${SIZE[$page.gzip]}" "${HDR[$page.khabar.gzip]}" "${HDR[$page.nginx.gzip]}"
  done
  echo "  article URL: ${PATHOF[article]:0:60}…"
  echo
  echo "khabar serve ready (process start -> GET /healthz 200): median ${SERVE_READY_MS} ms of ${STARTS} starts [${start_samples[*]}] — goal < 500 ms: $verdict"
} | tee "$OUT_DIR/summary.txt"
echo "(raw wrk output: $OUT_DIR)"
