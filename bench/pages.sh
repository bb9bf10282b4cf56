#!/usr/bin/env bash
# bench/pages.sh — issue 9, "Speed": khabar against nginx serving the same page
# bytes, an uncached render, and peak memory, in one run, measured the way
# shared/BENCHMARKS.md prescribes. Steps:
#   1. `khabar demo` makes the demo site in a temp folder; then `khabar serve` is
#      started STARTS times and the median time from process start to the first
#      GET /healthz 200 is reported (goal < 500 ms). The last one is the khabar
#      measured in step 4 (default page cache cap, RUST_LOG=warn).
#   2. The pages: the article page (the first /news/ link on the home page), the
#      home page `/`, and a section page (the first /section/ link on the home
#      page). Each is fetched from khabar without Accept-Encoding (identity) and
#      with 'Accept-Encoding: gzip'; those exact bytes become nginx's
#      page.html and page.html.gz (gzip_static on). Both servers are then checked
#      to send byte-identical bodies (sha256) for each page and encoding.
#   3. nginx (Debian package, installed with wrk when missing) on its own config:
#      worker_processes auto, access_log off, sendfile on, tcp_nopush off,
#      tcp_nodelay on, keepalive_requests 1000000, gzip_static on.
#   4. For each of CONNECTIONS (-c64 and -c256), each scenario and encoding:
#      ROUNDS rounds of `wrk -t1 -cN -dDURATION --latency` against khabar, then
#      against nginx. Scenarios: article, home, section (each in ENCODINGS), and
#      revalidate: the article page with 'Accept-Encoding: gzip' and
#      'If-None-Match: <the ETag this server sent for the gzip response>'
#      (khabar's "…-gz" ETag, nginx's own mtime-size ETag; both fetched with
#      curl in every round, and both must answer 304 to it before the run).
#      Before each round nginx's copy is brought up to khabar's current bytes
#      (the home page shows "most read" counts, which the article runs change,
#      and khabar re-renders it every 120 s), and after khabar's run its bytes are
#      compared with that copy again; both events are counted and reported.
#      Every run must see no non-2xx/3xx answer, 200 runs must average at least
#      the body size per response, 304 runs less than the gzip body.
#      Reported per scenario × encoding × connections: khabar's and nginx's
#      req/s, p50 and p99 (medians over the rounds) and the ratio khabar/nginx
#      (median of the per-round ratios). Goal for the article and home pages:
#      ratio >= 1.0 and khabar's median p99 <= nginx's median p99 (PASS/MISSED);
#      the section page and the 304 have no goal (reported only).
#   After step 4 that khabar and nginx are stopped and the demo folder is copied
#   twice (no server has it open), for steps 5 and 6.
#   5. Uncached render: a second khabar on a copy of the demo data with
#      KHABAR_PAGE_CACHE_BYTES=0 (every request renders the page; checked by two
#      GETs a second apart carrying different Last-Modified dates), then
#      `wrk -t1 -cUNCACHED_CONNECTIONS -dUNCACHED_DURATION --timeout 30s
#      -H 'Accept-Encoding: gzip'` on the article page: pages/s, p50, p99.
#      Goal >= 5,000 pages/s. No nginx counterpart.
#   6. Peak RSS: a third khabar on another copy with KHABAR_PAGE_CACHE_BYTES=
#      268435456 (256 MB). The site first grows by RSS_ARTICLES generated
#      articles (~400 Arabic words, published through the admin API), so it has
#      more distinct pages than the cap holds. Its cache is filled by GETs (Accept-Encoding:
#      gzip, br) of every distinct public cacheable URL: every article listed by
#      /api/content/articles?limit=100&page=N, every section/tag/author page
#      (from /api/content/{sections,tags,authors} and links) and their ?page=N
#      until 404, their feed.xml/atom.xml, the site feeds, sitemaps, comment
#      pages and any such link found in the pages fetched. Then `wrk -t1
#      -cRSS_CONNECTIONS -dRSS_DURATION` on the article page (gzip), and VmHWM
#      is read from /proc/PID/status (the peak is the larger of it and the VmRSS
#      samples taken on the way: the kernel's high-water mark lags). Goal < 400 MB.
#      The output says how many URLs answered 200, how many went through the
#      page cache (an ETag) and their identity+gzip+br bytes, i.e. whether the
#      cache was full (and evicting, least recently used first).
#   The CPUs' idle share is sampled for a second before steps 4, 5 and 6 (a
#   warning under 90%), and every wrk run records the CPU others used during it
#   (the machine's busy time less our servers', wrk's and kernel threads') and the
#   hypervisor's steal; runs with others > 5% or steal > 10% are listed as
#   suspect. A summary table with every goal and an "overall" line is printed
#   and kept with the raw wrk output in bench/out/pages-DATE/.
# Goals in the overall verdict: article and home (each encoding × connections),
# the uncached render, peak RSS and serve readiness.
# Exit status: 0 when every goal is met, 2 when one is missed, 1 on error.
#
# Usage: bench/pages.sh            (from anywhere; builds the release binary)
# Env:   DURATION=15s              each A/B wrk run
#        CONNECTIONS="64 256"      wrk connections, one pass of step 4 per value
#        ROUNDS=3                  khabar,nginx pairs per scenario × encoding × connections
#        ENCODINGS="identity gzip" for article, home and section (revalidate is gzip only)
#        SCENARIOS="article home section revalidate"   a subset for quick looks
#        UNCACHED_CONNECTIONS=64   UNCACHED_DURATION=$DURATION   step 5
#        RSS_CONNECTIONS=256       RSS_DURATION=10s   FILL_LIMIT=300 (s, bound on the growth and on the fill)
#        RSS_ARTICLES=7000         generated articles published before the fill, step 6
#        STARTS=5                  serve restarts timed for the readiness figure
#        KHABAR=target/release/khabar   the binary (SKIP_BUILD=1 to use it as it is)
#        SKIP_BUILD=1              do not run `cargo build --release -p khabar` first
#        KEEP=1                    keep the temp dir (data, nginx root, logs)
# Everything runs on 127.0.0.1 only and is stopped on exit. With the defaults a
# run takes about 25 minutes on 2 cores (ENCODINGS=gzip: about 15).
set -euo pipefail

DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64 256}
ROUNDS=${ROUNDS:-3}
ENCODINGS=${ENCODINGS:-identity gzip}
SCENARIOS=${SCENARIOS:-article home section revalidate}
UNCACHED_CONNECTIONS=${UNCACHED_CONNECTIONS:-64}
UNCACHED_DURATION=${UNCACHED_DURATION:-$DURATION}
RSS_CONNECTIONS=${RSS_CONNECTIONS:-256}
RSS_DURATION=${RSS_DURATION:-10s}
FILL_LIMIT=${FILL_LIMIT:-300}
RSS_ARTICLES=${RSS_ARTICLES:-7000}
STARTS=${STARTS:-5}
KEEP=${KEEP:-0}

GOAL_READY_MS=500          # khabar serve: process start -> /healthz 200
GOAL_UNCACHED_RPS=5000     # pages/s with the page cache off
GOAL_RSS_MB=400            # VmHWM with a 256 MB page cache cap
RSS_CACHE_BYTES=268435456  # 256 MB

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ -d $HOME/.cargo/bin ]] && PATH=$HOME/.cargo/bin:$PATH

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

posint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
duration_ok() { [[ $1 =~ ^[1-9][0-9]*[smh]?$ ]]; }
for c in $CONNECTIONS; do posint "$c" || die "CONNECTIONS must list positive whole numbers, got '$CONNECTIONS'"; done
[[ -n ${CONNECTIONS// /} ]] || die "CONNECTIONS is empty"
posint "$ROUNDS" || die "ROUNDS must be a positive whole number"
posint "$STARTS" || die "STARTS must be a positive whole number"
posint "$UNCACHED_CONNECTIONS" || die "UNCACHED_CONNECTIONS must be a positive whole number"
posint "$RSS_CONNECTIONS" || die "RSS_CONNECTIONS must be a positive whole number"
posint "$RSS_ARTICLES" || die "RSS_ARTICLES must be a positive whole number"
posint "$FILL_LIMIT" || die "FILL_LIMIT must be a positive whole number (seconds)"
for d in "$DURATION" "$UNCACHED_DURATION" "$RSS_DURATION"; do duration_ok "$d" || die "durations are like 15s, 2m or 15 (seconds), got '$d'"; done
for e in $ENCODINGS; do [[ $e == identity || $e == gzip ]] || die "ENCODINGS may hold identity and gzip, got '$ENCODINGS'"; done
[[ -n ${ENCODINGS// /} ]] || die "ENCODINGS is empty"
for s in $SCENARIOS; do
  [[ $s == article || $s == home || $s == section || $s == revalidate ]] || die "SCENARIOS may hold article, home, section and revalidate, got '$SCENARIOS'"
done
[[ -n ${SCENARIOS// /} ]] || die "SCENARIOS is empty"

# ---------------------------------------------------------------- tools
need_pkgs=()
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need_pkgs+=(nginx)
command -v wrk >/dev/null 2>&1 || need_pkgs+=(wrk)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3)
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
build_khabar
REVISION=$(revision)   # now: others may commit while the bench runs

# ---------------------------------------------------------------- temp + cleanup
T=$(mktemp -d "${TMPDIR:-/tmp}/khabar-bench.XXXXXX")
KPID=    # khabar serve, measured against nginx
NPID=    # nginx
UPID=    # khabar with the page cache off
RPID=    # khabar with a 256 MB page cache cap
WPID=    # wrk

stop_on_exit "WPID:wrk" "KPID:khabar" "UPID:khabar (cache off)" "RPID:khabar (256 MB cache)" "NPID:nginx"
# Errors exit 1 whatever status the failing command had (the ERR trap below
# names it); 2 is kept for "a goal was missed", which only the end says.
FINISHED=0
on_exit() {
  local rc=$?
  if ((rc != 0 && rc != 130 && rc != 143)) && [[ $FINISHED != 1 ]]; then
    rc=1
  fi
  trap - ERR
  set +e
  (exit "$rc")
  leave_bench
}
trap on_exit EXIT
# Say where a command failed (die says why itself); functions and subshells too.
set -E
trap 'rc_=$?; ((BASH_SUBSHELL)) || echo "$BENCH: ERROR: line $LINENO: \`$BASH_COMMAND\` failed (status $rc_)" >&2' ERR

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
    if (NR%2) printf "%.10g\n", a[(NR+1)/2]; else printf "%.10g\n", (a[NR/2]+a[NR/2+1])/2 }'
}
proc_kb() { # pid field (VmHWM, VmRSS) -> kB
  awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}
mb() { awk -v k="$1" 'BEGIN{printf "%.1f", k / 1024}'; }

IDLE_CPUS=()
idle_check() { # phase: others' work on the 2 CPUs spoils the figures
  local idle
  idle=$(cpu_idle_pct)
  IDLE_CPUS+=("$1 ${idle}%")
  if ((idle < 90)); then
    echo "   warning: the CPUs were only ${idle}% idle just before the $1 (something else is running: $(ps -eo comm= --sort=-pcpu | awk 'NR<=3' | paste -sd, -)); figures will be low and noisy" >&2
  fi
}

NOTES=()   # oddities seen on the way, repeated in the summary
note() { NOTES+=("$*"); echo "   note: $*"; }

DATA=$T/data
DATA_UNCACHED=$T/data-uncached
DATA_RSS=$T/data-rss
KPORT=$(free_port)
KURL=http://127.0.0.1:$KPORT
export RUST_LOG=warn
unset KHABAR_PAGE_CACHE_BYTES   # the measured khabar runs with the demo's own khabar.toml

# ---------------------------------------------------------------- 1. khabar demo, copies, timed serve starts
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
V_READY=PASS; awk -v m="$SERVE_READY_MS" -v g="$GOAL_READY_MS" 'BEGIN{exit !(m < g)}' || V_READY=MISSED
echo "   khabar serve ready (process start -> /healthz 200): median ${SERVE_READY_MS} ms of ${STARTS} starts [${start_samples[*]}] (goal < $GOAL_READY_MS ms: $V_READY)"
# The khabar that is benchmarked is this last `khabar serve`.

# ---------------------------------------------------------------- 2. pages, the nginx root
WWW=$T/www
mkdir -p "$WWW"
curl -fsS --max-time 10 -o "$T/home.html" "$KURL/" || die "GET / from khabar failed"
first_link() { # prefix file -> the first href="PREFIX..." in the file (awk reads all input: no SIGPIPE)
  { grep -o "href=\"$1[^\"#]*\"" "$2" || true; } | awk 'NR==1{sub(/^href="/, ""); sub(/"$/, ""); print}'
}
ARTICLE=$(first_link /news/ "$T/home.html")
[[ -n $ARTICLE ]] || die "no /news/ link in the home page"
SECTION=$(first_link /section/ "$T/home.html")
[[ -n $SECTION ]] || die "no /section/ link in the home page"
ARTICLE=${ARTICLE//&amp;/&}
SECTION=${SECTION//&amp;/&}

PAGES=(article home section)
declare -A PATHOF=([article]=$ARTICLE [home]=/ [section]=$SECTION)

urldecode() { printf '%b' "${1//%/\\x}"; }
page_dir() { # page -> its folder in the nginx root
  local dec
  dec=$(urldecode "${PATHOF[$1]}")
  [[ $dec != *..* && $dec == /* ]] || die "unsafe path: $dec"
  echo "$WWW${dec%/}"
}

fetch_khabar() { # page -> khabar's identity and gzip bytes now, in $T/$page.now.{id,gz}, checked
  local page=$1 path=${PATHOF[$1]} code
  # identity: no Accept-Encoding at all (curl sends none without --compressed)
  code=$(curl -sS --max-time 10 -o "$T/$page.now.id" -D "$T/$page.now.id.h" -w '%{http_code}' "$KURL$path")
  [[ $code == 200 ]] || die "khabar $page identity: HTTP $code"
  grep -qi '^content-encoding:' "$T/$page.now.id.h" && die "khabar $page: identity request got a content-encoding"
  code=$(curl -sS --max-time 10 -H 'Accept-Encoding: gzip' -o "$T/$page.now.gz" -D "$T/$page.now.gz.h" -w '%{http_code}' "$KURL$path")
  [[ $code == 200 ]] || die "khabar $page gzip: HTTP $code"
  grep -qi '^content-encoding: *gzip' "$T/$page.now.gz.h" || die "khabar $page: no content-encoding: gzip for Accept-Encoding: gzip"
  gzip -dc "$T/$page.now.gz" | cmp -s - "$T/$page.now.id" \
    || die "khabar $page: gunzipped gzip response differs from the identity response"
}

same_as_copy() { # page -> whether khabar's bytes fetched last equal nginx's copy
  local dir
  dir=$(page_dir "$1")
  cmp -s "$T/$1.now.id" "$dir/page.html" && cmp -s "$T/$1.now.gz" "$dir/page.html.gz"
}

declare -A RESYNCS CHANGED_IN_RUN
sync_copy() { # page [quiet]: nginx's page.html / page.html.gz become what khabar sends now
  local page=$1 quiet=${2:-} dir old
  fetch_khabar "$page"
  same_as_copy "$page" && return 0
  dir=$(page_dir "$page")
  mkdir -p "$dir"
  old=none
  [[ ! -f $dir/page.html ]] || old="$(stat -c %s "$dir/page.html") bytes, sha256 $(sha256sum "$dir/page.html" | cut -c1-12)"
  cp "$T/$page.now.id" "$dir/.page.html.new" && mv -f "$dir/.page.html.new" "$dir/page.html"
  cp "$T/$page.now.gz" "$dir/.page.html.gz.new" && mv -f "$dir/.page.html.gz.new" "$dir/page.html.gz"
  if [[ -z $quiet ]]; then
    RESYNCS[$page]=$((${RESYNCS[$page]:-0} + 1))
    echo "   $page: khabar's bytes changed since the last copy (identity $old -> $(stat -c %s "$dir/page.html") bytes, sha256 $(sha256sum "$dir/page.html" | cut -c1-12)); nginx's copy updated"
  fi
}

for page in "${PAGES[@]}"; do sync_copy "$page" quiet; done

# ---------------------------------------------------------------- 3. nginx
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
OUT_DIR=$ROOT/bench/out/pages-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT_DIR"
RUN=0

to_bytes() { # wrk's 1.23GB / 456.78MB / 12.00KB / 345B -> bytes (wrk counts in 1024s)
  awk -v v="$1" 'BEGIN{ n=v+0; u=v; sub(/^[0-9.]+/, "", u)
    m = (u=="KB") ? 1024 : (u=="MB") ? 1048576 : (u=="GB") ? 1073741824 : (u=="TB") ? 1099511627776 : 1
    printf "%.0f\n", n*m }'
}

# Others' CPU during a run: the machine's user+nice+system+irq+softirq time over
# the run (without IRQ time accounting, as here, softirq time - loopback TCP - is
# also charged to the task it interrupted), less what kernel threads and our servers (every khabar and nginx process of this script) and wrk
# (a child of this shell: bash's `times`) used, as a share of both CPUs; and the
# hypervisor's steal (a few % is usual in this VM). Others above 5% or steal
# above 10% mark the run as having shared the machine.
CLK_TCK=$(getconf CLK_TCK)
NPROC=$(nproc)
# (No command substitution around `times`: a subshell has children of its own.)
ours_ticks() { # -> OURS: utime+stime of our servers and of kernel threads (ksoftirqd does
  #                 loopback TCP work for them) now, plus this shell's reaped children
  local pids t
  pids=" $KPID $UPID $RPID $NPID $( [[ -n $NPID ]] && ps -o pid= --ppid "$NPID" 2>/dev/null | tr '\n' ' ' || true) "
  t=$({ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v ours="$pids" '
    { pid = $1; rest = $0; sub(/^.*\) /, "", rest); split(rest, f, " ")
      if (index(ours, " " pid " ") || f[2] == 2 || pid == 2) sum += f[12] + f[13] }
    END { printf "%d\n", sum }')
  times >"$T/times"
  OURS=$((t + $(awk -v hz="$CLK_TCK" 'NR==2{ n=0; for (i=1; i<=2; i++) { split($i, a, /[ms]/); n += a[1]*60 + a[2] } printf "%d\n", n*hz }' "$T/times")))
}
cpu_mark() { # -> CPU_MARK: "busy steal ours ns"
  ours_ticks
  CPU_MARK="$(awk '/^cpu /{print $2+$3+$4+$7+$8, $9}' /proc/stat) $OURS $(now_ns)"
}
cpu_others() { # mark-before -> sets OTHERS_PCT, STEAL_PCT
  local b0 s0 o0 n0 b1 s1 o1 n1
  read -r b0 s0 o0 n0 <<<"$1"
  cpu_mark
  read -r b1 s1 o1 n1 <<<"$CPU_MARK"
  OTHERS_PCT=$(awk -v b="$((b1 - b0))" -v o="$((o1 - o0))" -v n="$((n1 - n0))" -v hz="$CLK_TCK" -v c="$NPROC" \
    'BEGIN{ x = 100 * (b - o) / (n / 1e9 * hz * c); if (x < 0) x = 0; printf "%.1f", x }')
  OTHERS_TICKS="busy $((b1 - b0)), ours $((o1 - o0)) ticks of $(awk -v n="$((n1 - n0))" -v hz="$CLK_TCK" -v c="$NPROC" 'BEGIN{printf "%.0f", n / 1e9 * hz * c}')"
  STEAL_PCT=$(awk -v s="$((s1 - s0))" -v n="$((n1 - n0))" -v hz="$CLK_TCK" -v c="$NPROC" 'BEGIN{ printf "%.1f", 100 * s / (n / 1e9 * hz * c) }')
}
declare -A SHARED_RUNS=()

# run_wrk label url conns duration [wrk options and -H headers...]
#   -> WRK_RPS, WRK_P50, WRK_P99 (ms), WRK_REQS, WRK_PER_RESPONSE (bytes read / requests),
#      WRK_ERRORS (wrk's "Socket errors" line or empty), WRK_OTHERS (others' CPU %, and
#      steal when there was any); raw output kept in OUT_DIR
run_wrk() {
  local label=$1 url=$2 c=$3 d=$4 f rps p50 p99 bad limit line bytes
  shift 4
  RUN=$((RUN + 1))
  f=$OUT_DIR/wrk-$(printf %03d $RUN)-$label.txt
  limit=$(($(dur_s "$d") + 40))
  { printf '# wrk -t1 -c%s -d%s --latency' "$c" "$d"; (($#)) && printf " '%s'" "$@"; printf ' %s\n' "$url"; } >"$f"
  local mark
  cpu_mark
  mark=$CPU_MARK
  # in the background + wait, so a SIGTERM/SIGINT to this script runs cleanup at once
  timeout --kill-after=5 "$limit" wrk -t1 -c"$c" -d"$d" --latency "$@" "$url" >>"$f" 2>&1 &
  WPID=$!
  wait "$WPID" || die "wrk failed (see $f)"
  WPID=
  cpu_others "$mark"
  WRK_OTHERS="$OTHERS_PCT%"
  [[ $STEAL_PCT == 0.0 ]] || WRK_OTHERS+=" +steal $STEAL_PCT%"
  echo "# others' CPU during the run: $OTHERS_PCT% of $NPROC CPUs ($OTHERS_TICKS); steal $STEAL_PCT%" >>"$f"
  if awk -v o="$OTHERS_PCT" -v s="$STEAL_PCT" 'BEGIN{exit !(o > 5 || s > 10)}'; then
    SHARED_RUNS[$label]="others $OTHERS_PCT%, steal $STEAL_PCT%"
    echo "   warning: during $label other processes used $OTHERS_PCT% of the CPUs (steal $STEAL_PCT%); top processes by lifetime CPU share: $(ps -eo pcpu=,pid=,comm= --sort=-pcpu | awk 'NR<=5{printf "%s%s(%s) %s%%", (NR>1?", ":""), $3, $2, $1}')" >&2
  fi
  rps=$(awk '/^Requests\/sec:/{print $2}' "$f")
  p50=$(awk '$1=="50%"{print $2}' "$f")
  p99=$(awk '$1=="99%"{print $2}' "$f")
  line=$(awk '/ requests in /{print $1, $5}' "$f")
  [[ -n $rps && -n $p50 && -n $p99 && -n $line ]] || die "could not parse wrk output $f"
  bad=$(awk '/Non-2xx or 3xx responses:/{print $NF}' "$f")
  [[ -z $bad ]] || die "wrk saw $bad non-2xx/3xx responses from $url (see $f)"
  WRK_ERRORS=$(awk '/Socket errors:/{sub(/^ +/, ""); print}' "$f")
  [[ -z $WRK_ERRORS ]] || echo "   warning: $WRK_ERRORS ($label, $url)" >&2
  WRK_REQS=${line%% *}
  ((WRK_REQS > 0)) || die "wrk completed no request against $url (see $f)"
  bytes=$(to_bytes "${line#* }")
  WRK_PER_RESPONSE=$(awk -v b="$bytes" -v n="$WRK_REQS" 'BEGIN{printf "%.0f", b / n}')
  WRK_RPS=$rps
  WRK_P50=$(to_ms "$p50")
  WRK_P99=$(to_ms "$p99")
  WRK_FILE=$f
}

etag_of() { # url -> the ETag the server sends for Accept-Encoding: gzip (quotes kept)
  curl -sS --max-time 10 -H 'Accept-Encoding: gzip' -o /dev/null -D - "$1" \
    | awk 'tolower($1)=="etag:" && !done {sub(/^[^:]*: */, ""); sub(/\r$/, ""); print; done=1}'
}
must_304() { # url etag server
  local code
  code=$(curl -sS --max-time 10 -H 'Accept-Encoding: gzip' -H "If-None-Match: $2" -o /dev/null -w '%{http_code}' "$1")
  [[ $code == 304 ]] || die "$3 answered HTTP $code, not 304, to If-None-Match: $2"
}

NGINX_VERSION=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
CASES=()
for s in $SCENARIOS; do
  if [[ $s == revalidate ]]; then CASES+=("revalidate|gzip"); else for e in $ENCODINGS; do CASES+=("$s|$e"); done; fi
done
log "4. khabar vs nginx: wrk -t1 -c{$CONNECTIONS} -d$DURATION --latency, $ROUNDS alternating khabar,nginx rounds for each of: ${CASES[*]//|/ }; $NPROC CPUs"
echo "   khabar: $BIN serve (RUST_LOG=warn)   nginx: $NGINX_VERSION, worker_processes auto, access_log off, sendfile on, tcp_nopush off"
idle_check "khabar vs nginx runs"

med() { printf '%s\n' "$@" | median; }
check_sizes() { # server bytes-per-response wrk-file (uses scen, page, enc): 304s carry no body, 200s at least the body
  local body=${SIZE[$page.$enc]}
  if [[ $scen == revalidate ]]; then
    (($2 < body)) || die "$1: $2 bytes read per response to If-None-Match, not a 304 (the gzip body is $body bytes; see $3)"
  else
    (($2 >= body)) || die "$1: $2 bytes read per response, less than the $body-byte body (see $3)"
  fi
}

declare -a ROWS=()
declare -A ERRS
for c in $CONNECTIONS; do
  for case_ in "${CASES[@]}"; do
    scen=${case_%|*}; enc=${case_#*|}
    page=$scen; [[ $scen == revalidate ]] && page=article
    path=${PATHOF[$page]}
    kr=(); nr=(); k50=(); n50=(); k99=(); n99=(); ratios=()
    for ((r = 1; r <= ROUNDS; r++)); do
      sync_copy "$page"
      hdr=(); [[ $enc == gzip ]] && hdr=(-H 'Accept-Encoding: gzip')
      khdr=("${hdr[@]}"); nhdr=("${hdr[@]}")
      if [[ $scen == revalidate ]]; then
        ketag=$(etag_of "$KURL$path"); netag=$(etag_of "$NURL$path")
        [[ $ketag == \"*-gz\" ]] || die "khabar's ETag for the gzip article is '$ketag', not a \"…-gz\" one"
        [[ -n $netag ]] || die "nginx sent no ETag for the gzip article"
        must_304 "$KURL$path" "$ketag" khabar
        must_304 "$NURL$path" "$netag" nginx
        khdr+=(-H "If-None-Match: $ketag"); nhdr+=(-H "If-None-Match: $netag")
        ETAGS="khabar $ketag, nginx $netag"
      fi
      tag=$scen-$enc-c$c-r$r
      run_wrk "$tag-khabar" "$KURL$path" "$c" "$DURATION" "${khdr[@]}"
      krps=$WRK_RPS; kp50=$WRK_P50; kp99=$WRK_P99; kper=$WRK_PER_RESPONSE; kerr=$WRK_ERRORS; kfile=$WRK_FILE; kothers=$WRK_OTHERS
      fetch_khabar "$page"
      if ! same_as_copy "$page"; then
        CHANGED_IN_RUN[$page]=$((${CHANGED_IN_RUN[$page]:-0} + 1))
        note "$page: khabar's bytes changed during its run $tag (identity now $(stat -c %s "$T/$page.now.id") bytes, sha256 $(sha256sum "$T/$page.now.id" | cut -c1-12); nginx's copy $(stat -c %s "$(page_dir "$page")/page.html") bytes, sha256 $(sha256sum "$(page_dir "$page")/page.html" | cut -c1-12)); nginx serves the copy taken before the run"
      fi
      run_wrk "$tag-nginx" "$NURL$path" "$c" "$DURATION" "${nhdr[@]}"
      nrps=$WRK_RPS; np50=$WRK_P50; np99=$WRK_P99; nper=$WRK_PER_RESPONSE; nerr=$WRK_ERRORS; nfile=$WRK_FILE
      # 304s carry no body; 200s carry at least the body.
      check_sizes khabar "$kper" "$kfile"
      check_sizes nginx "$nper" "$nfile"
      [[ -z $kerr ]] || ERRS[$scen.$enc.$c.khabar]+="r$r: $kerr; "
      [[ -z $nerr ]] || ERRS[$scen.$enc.$c.nginx]+="r$r: $nerr; "
      kr+=("$krps"); nr+=("$nrps"); k50+=("$kp50"); n50+=("$np50"); k99+=("$kp99"); n99+=("$np99")
      ratios+=("$(awk -v a="$krps" -v b="$nrps" 'BEGIN{printf "%.4f", a/b}')")
      printf '   %-10s %-8s c=%-4s round %d: khabar %9.0f req/s p50 %7.2f p99 %7.2f ms (%5d B/resp, others %s) | nginx %9.0f req/s p50 %7.2f p99 %7.2f ms (%5d B/resp, others %s) | ratio %.4f\n' \
        "$scen" "$enc" "$c" "$r" "$krps" "$kp50" "$kp99" "$kper" "$kothers" "$nrps" "$np50" "$np99" "$nper" "$WRK_OTHERS" "${ratios[-1]}"
    done
    shared=0
    for ((r = 1; r <= ROUNDS; r++)); do
      for who in khabar nginx; do [[ -z ${SHARED_RUNS[$scen-$enc-c$c-r$r-$who]:-} ]] || shared=$((shared + 1)); done
    done
    ROWS+=("$scen|$enc|$c|$(med "${kr[@]}")|$(med "${k50[@]}")|$(med "${k99[@]}")|$(med "${nr[@]}")|$(med "${n50[@]}")|$(med "${n99[@]}")|$(med "${ratios[@]}")|${ratios[*]}|$shared")
  done
done

# The measured khabar's own peak, for the record (default page_cache_bytes).
MAIN_HWM_KB=$(proc_kb "$KPID" VmHWM)
# Final look at the bytes: does khabar still send what nginx has?
for page in "${PAGES[@]}"; do
  fetch_khabar "$page"
  same_as_copy "$page" || note "$page: khabar's bytes at the end differ from nginx's last copy (identity $(stat -c %s "$T/$page.now.id") bytes, sha256 $(sha256sum "$T/$page.now.id" | cut -c1-12) vs $(stat -c %s "$(page_dir "$page")/page.html") bytes, sha256 $(sha256sum "$(page_dir "$page")/page.html" | cut -c1-12)); expected when the home page is re-rendered with new read counts"
done
stop_pid "$KPID" khabar; KPID=
stop_pid "$NPID" nginx; NPID=
# Copies of the demo folder as the measured khabar left it (no server has it open
# now), for the khabars of steps 5 and 6.
cp -a "$DATA" "$DATA_UNCACHED"
cp -a "$DATA" "$DATA_RSS"

# ---------------------------------------------------------------- 5. uncached render
UPORT=$(free_port)
UURL=http://127.0.0.1:$UPORT
log "5. uncached render: khabar serve on a copy of the demo data with KHABAR_PAGE_CACHE_BYTES=0 on 127.0.0.1:$UPORT"
KHABAR_PAGE_CACHE_BYTES=0 "$BIN" serve --data "$DATA_UNCACHED" --addr "127.0.0.1:$UPORT" >>"$T/khabar-uncached.log" 2>&1 &
UPID=$!
wait_ready "$UPORT" "$UPID" 30 "khabar (cache off)" "$T/khabar-uncached.log"
APATH=${PATHOF[article]}
code=$(curl -sS --max-time 30 -H 'Accept-Encoding: gzip' -o "$T/uncached.gz" -D "$T/uncached.h1" -w '%{http_code}' "$UURL$APATH")
[[ $code == 200 ]] || die "khabar (cache off) article: HTTP $code"
grep -qi '^content-encoding: *gzip' "$T/uncached.h1" || die "khabar (cache off): no content-encoding: gzip"
if gzip -dc "$T/uncached.gz" | cmp -s - "$T/article.khabar.identity"; then
  UNCACHED_SAME="the same bytes as the cached article page"
else
  UNCACHED_SAME="NOT the same bytes as the cached article page"
  note "khabar with the cache off rendered the article differently from the measured khabar ($(gzip -dc "$T/uncached.gz" | wc -c) vs ${SIZE[article.identity]} bytes)"
fi
sleep 1.1
curl -sS --max-time 30 -H 'Accept-Encoding: gzip' -o /dev/null -D "$T/uncached.h2" "$UURL$APATH" || die "khabar (cache off): second GET failed"
lm1=$(awk 'tolower($1)=="last-modified:"{sub(/^[^:]*: */, ""); sub(/\r$/, ""); print}' "$T/uncached.h1")
lm2=$(awk 'tolower($1)=="last-modified:"{sub(/^[^:]*: */, ""); sub(/\r$/, ""); print}' "$T/uncached.h2")
if [[ -z $lm1 || -z $lm2 ]]; then
  UNCACHED_CHECK="not checked (no Last-Modified header)"
  note "khabar sent no Last-Modified: could not check that the cache is off"
elif [[ $lm1 == "$lm2" ]]; then
  die "khabar with KHABAR_PAGE_CACHE_BYTES=0 sent the same Last-Modified ($lm1) 1.1 s apart: the page was served from a cache"
else
  UNCACHED_CHECK="checked: two GETs 1.1 s apart carried Last-Modified '$lm1' and '$lm2'"
fi
echo "   cache off $UNCACHED_CHECK; the article is $UNCACHED_SAME"
idle_check "uncached render run"
run_wrk "uncached-gzip-c$UNCACHED_CONNECTIONS-khabar" "$UURL$APATH" "$UNCACHED_CONNECTIONS" "$UNCACHED_DURATION" --timeout 30s -H 'Accept-Encoding: gzip'
U_RPS=$WRK_RPS; U_P50=$WRK_P50; U_P99=$WRK_P99; U_REQS=$WRK_REQS; U_ERR=$WRK_ERRORS; U_PER=$WRK_PER_RESPONSE; U_OTHERS=$WRK_OTHERS
((U_PER >= SIZE[article.gzip])) || die "khabar (cache off): $U_PER bytes read per response, less than the ${SIZE[article.gzip]}-byte gzip body (see $WRK_FILE)"
U_HWM_KB=$(proc_kb "$UPID" VmHWM)
V_UNCACHED=$(awk -v v="$U_RPS" -v g="$GOAL_UNCACHED_RPS" 'BEGIN{print (v >= g) ? "PASS" : "MISSED"}')
printf '   %s pages/s, p50 %.2f ms, p99 %.2f ms (%d responses%s; others %s) — goal >= %d pages/s: %s\n' \
  "$U_RPS" "$U_P50" "$U_P99" "$U_REQS" "${U_ERR:+; $U_ERR}" "$U_OTHERS" "$GOAL_UNCACHED_RPS" "$V_UNCACHED"
stop_pid "$UPID" "khabar (cache off)"; UPID=

# ---------------------------------------------------------------- 6. peak RSS with a 256 MB cache cap
cat >"$T/fill.py" <<'PY'
# fill.py PORT LIMIT_S URLS_OUT: GET every public cacheable URL of the site once
# asking for gzip and br (the counted request), plus identity and gzip GETs of the
# same URL for link discovery and the cache's size (it keeps all three).
# (No "coding" followed by a colon in these first two lines: Python would take it
# for the file's encoding declaration.)
# Prints one JSON object with the counts.
import http.client, json, re, sys, time, urllib.parse
from collections import Counter

port, limit, urls_out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
deadline = time.monotonic() + limit
MAX_URLS = 100000
# Public GETs that go through the page cache (and nothing that changes state:
# no vote, ticket, form or admin URL).
ALLOW = re.compile(r"""^/(
    | news/\d+/[^/?#]+
    | news/\d+/comments\?page=\d+
    | (section|tag|author)/[^/?#]+(\?page=\d+)?
    | (section|tag|author)/[^/?#]+/(feed|atom)\.xml
    | (feed|atom|sitemap|news-sitemap)\.xml
    | sitemaps/(articles|pages)\.xml(\?page=\d+)?
)$""", re.X)
LINK = re.compile(r"""href="([^"#]*)|<(?:loc|link|id)>([^<]+)<""")

conn = None
def get(path, encoding):
    global conn
    headers = {"Accept-Encoding": encoding} if encoding else {}
    for attempt in range(3):
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        except (http.client.HTTPException, OSError):
            if conn is not None:
                conn.close()
            conn = None
            if attempt == 2:
                raise

def local(url, base):
    """A site path (with query) from an href or an absolute URL, or None."""
    url = url.replace("&amp;", "&").strip()
    parts = urllib.parse.urlsplit(urllib.parse.urljoin("http://site" + base, url))
    path = urllib.parse.quote(parts.path, safe="/%:@-._~!$&'()*+,;=")
    if parts.query:
        path += "?" + parts.query
    return path if ALLOW.match(path) else None

queue, seen = [], set()
def add(path):
    if path and path not in seen and len(seen) < MAX_URLS:
        seen.add(path)
        queue.append(path)

def kind(path):
    if path == "/":
        return "home"
    if "sitemap" in path:
        return "sitemaps"
    if re.search(r"/(feed|atom)\.xml$", path):
        return "feeds"
    if "/comments?" in path:
        return "comment pages"
    if path.startswith("/news/"):
        return "articles"
    m = re.match(r"^/(section|tag|author)/[^?]*(\?page=)?", path)
    return f"{m.group(1)} pages 2+" if m.group(2) else f"{m.group(1)}s"

statuses = Counter()
ok, cached, cached_bytes, kinds = [], 0, 0, Counter()
# Seeds: the home page, site feeds and sitemaps, every article and every section, tag and author.
for path in ["/", "/feed.xml", "/atom.xml", "/sitemap.xml", "/news-sitemap.xml",
             "/sitemaps/articles.xml", "/sitemaps/pages.xml"]:
    add(path)
page, pages = 1, 1
while page <= pages:
    status, _, body = get(f"/api/content/articles?limit=100&page={page}", None)
    if status != 200:
        raise SystemExit(f"/api/content/articles?limit=100&page={page}: HTTP {status}")
    listing = json.loads(body)
    pages = int(listing.get("pages", 1))
    for article in listing["articles"]:
        add(local(article["url"], "/"))
    page += 1
def urls_in(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "url" and isinstance(item, str):
                yield item
            else:
                yield from urls_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from urls_in(item)
for listing_kind in ("sections", "tags", "authors"):
    status, _, body = get(f"/api/content/{listing_kind}", None)
    if status == 200:
        for url in urls_in(json.loads(body)):
            path = local(url, "/")
            add(path)
            if path:
                add(path + "/feed.xml")
                add(path + "/atom.xml")

timed_out = False
with open(urls_out, "w", encoding="utf-8") as listing:
    while queue:
        if time.monotonic() > deadline:
            timed_out = True
            break
        path = queue.pop(0)
        status, headers, body = get(path, "gzip, br")
        statuses[status] += 1
        listing.write(f"{status} {path}\n")
        if status != 200:
            continue
        ok.append(path)
        kinds[kind(path)] += 1
        # identity: for the links, and the cache's three bodies (identity, gzip, br)
        status_id, _, identity = get(path, None)
        status_gz, _, gzipped = get(path, "gzip")
        if "etag" in headers:
            cached += 1
            cached_bytes += len(body) + (len(identity) if status_id == 200 else 0) + (len(gzipped) if status_gz == 200 else 0)
        base = urllib.parse.urlsplit(path).path
        text = identity.decode("utf-8", "replace")
        for match in LINK.finditer(text):
            add(local(match.group(1) or match.group(2) or "", base))
        # the next list page, until it is a 404
        m = re.match(r"^(/(?:section|tag|author)/[^/?#]+|/sitemaps/articles\.xml|/news/\d+/comments)(?:\?page=(\d+))?$", path)
        if m:
            add(f"{m.group(1)}?page={int(m.group(2) or 1) + 1}")
        m = re.match(r"^/news/(\d+)/", path)
        if m:
            add(f"/news/{m.group(1)}/comments?page=2")

print(json.dumps({"fetched": sum(statuses.values()), "ok": len(ok), "cached": cached,
                  "cached_bytes": cached_bytes, "statuses": {str(k): v for k, v in sorted(statuses.items())},
                  "kinds": dict(sorted(kinds.items())), "timed_out": timed_out, "left": len(queue)}))
PY

cat >"$T/grow.py" <<'PY'
# grow.py PORT TOKEN COUNT LIMIT_S: publishes COUNT generated Arabic articles
# (~400 words, a section of the demo's, two of 300 tags) through the admin
# API, so the site has enough distinct pages to fill a 256 MB page cache.
# Prints how many were published.
import http.client, json, random, sys, time

port, token, count, limit = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
deadline = time.monotonic() + limit
rng = random.Random(9)
WORDS = ("المدينة المجلس البلدي الميناء الجامعة السوق المستشفى الطريق الحديقة المكتبة المدرسة "
         "أعلن قرر افتتح ناقش أكد أوضح طالب استقبل أطلق وافق رفض أشار بحث "
         "مشروع خطة ميزانية موسم مبادرة ورشة قافلة لجنة اتفاق تقرير برنامج مسابقة "
         "جديد واسع محلي سنوي أول كبير عاجل مشترك عام رسمي تطوعي ثقافي "
         "السكان الطلاب المزارعون الصيادون التجار الأطباء المعلمون الشباب الأهالي الزوار "
         "اليوم أمس غدا مساء صباح خلال بعد قبل حتى منذ نحو قرابة أكثر أقل "
         "المياه الكهرباء النقل الصحة التعليم الثقافة الرياضة البيئة الزراعة السياحة").split()
SECTIONS = ["سياسة", "اقتصاد", "رياضة", "ثقافة وفنون", "تكنولوجيا", "صحة"]
TAGS = [f"{rng.choice(WORDS)} {rng.choice(WORDS)} {n}" for n in range(300)]

def sentence():
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))) + "."

def body():
    paragraphs, words = [], 0
    while words < 400:
        paragraph = " ".join(sentence() for _ in range(rng.randint(3, 5)))
        words += len(paragraph.split())
        paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)

conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
published = 0
for number in range(count):
    if time.monotonic() > deadline:
        break
    article = {
        "title": f"{sentence()[:-1][:70]} {number}",
        "summary": sentence(),
        "body_markdown": body(),
        "section": rng.choice(SECTIONS),
        "tags": rng.sample(TAGS, 2),
        "status": "published",
    }
    conn.request("POST", "/api/admin/articles", body=json.dumps(article).encode(),
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    if response.status != 201:
        raise SystemExit(f"POST /api/admin/articles: HTTP {response.status}")
    published += 1
print(published)
PY

RPORT=$(free_port)
RURL=http://127.0.0.1:$RPORT
log "6. peak RSS: khabar serve on a copy of the demo data with KHABAR_PAGE_CACHE_BYTES=$RSS_CACHE_BYTES on 127.0.0.1:$RPORT"
KHABAR_PAGE_CACHE_BYTES=$RSS_CACHE_BYTES "$BIN" serve --data "$DATA_RSS" --addr "127.0.0.1:$RPORT" >>"$T/khabar-rss.log" 2>&1 &
RPID=$!
wait_ready "$RPORT" "$RPID" 30 "khabar (256 MB cache)" "$T/khabar-rss.log"
R_READY_KB=$(proc_kb "$RPID" VmRSS)
grow_start=$(date +%s.%N)
R_TOKEN=$("$BIN" token create --data "$DATA_RSS" --name bench-pages 2>>"$T/khabar-rss.log") || die "khabar token create failed"
GROWN=$(timeout --kill-after=5 $((FILL_LIMIT + 60)) python3 "$T/grow.py" "$RPORT" "$R_TOKEN" "$RSS_ARTICLES" "$FILL_LIMIT") \
  || die "publishing the generated articles failed (see $T/khabar-rss.log)"
GROW_S=$(awk -v a="$grow_start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
echo "   grew the site by $GROWN generated articles (~400 words each) through the admin API in ${GROW_S}s"
R_READY_KB=$(proc_kb "$RPID" VmRSS)
fill_start=$(date +%s.%N)
timeout --kill-after=5 $((FILL_LIMIT + 60)) python3 "$T/fill.py" "$RPORT" "$FILL_LIMIT" "$OUT_DIR/fill-urls.txt" >"$T/fill.json" \
  || die "filling the cache failed (see $OUT_DIR/fill-urls.txt)"
FILL_S=$(awk -v a="$fill_start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
fill() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(v if not isinstance(v, dict) else ", ".join(f"{k} {n}" for k, n in v.items()))' "$T/fill.json" "$1"; }
F_FETCHED=$(fill fetched); F_OK=$(fill ok); F_CACHED=$(fill cached); F_BYTES=$(fill cached_bytes)
F_STATUSES=$(fill statuses); F_KINDS=$(fill kinds); F_TIMED_OUT=$(fill timed_out)
F_MB=$(awk -v b="$F_BYTES" 'BEGIN{printf "%.2f", b / 1048576}')
[[ $F_TIMED_OUT == False ]] || note "the cache fill stopped at FILL_LIMIT=${FILL_LIMIT}s with $(fill left) URLs left"
echo "   fill: $F_FETCHED GETs with 'Accept-Encoding: gzip, br' in ${FILL_S}s (statuses: $F_STATUSES); $F_OK distinct URLs answered 200 ($F_KINDS); $F_CACHED through the page cache, ${F_MB} MB of identity+gzip+br bodies"
R_FILLED_KB=$(proc_kb "$RPID" VmRSS)
idle_check "peak RSS run"
run_wrk "rss-gzip-c$RSS_CONNECTIONS-khabar" "$RURL$APATH" "$RSS_CONNECTIONS" "$RSS_DURATION" -H 'Accept-Encoding: gzip'
R_RPS=$WRK_RPS; R_ERR=$WRK_ERRORS
R_HWM_KB=$(proc_kb "$RPID" VmHWM)
R_RSS_KB=$(proc_kb "$RPID" VmRSS)
((R_HWM_KB > 0)) || die "could not read VmHWM of khabar ($RPID)"
# The kernel updates VmHWM lazily (per-thread RSS counters are folded in from
# time to time), so a VmRSS sampled earlier can exceed it: the peak is the larger.
R_PEAK_KB=$(printf '%s\n' "$R_HWM_KB" "$R_READY_KB" "$R_FILLED_KB" "$R_RSS_KB" | sort -n | tail -n1)
R_PEAK_NOTE=
((R_PEAK_KB == R_HWM_KB)) || R_PEAK_NOTE=" (VmHWM said $(mb "$R_HWM_KB") MB, below a VmRSS sampled earlier: the kernel's high-water mark lags)"
V_RSS=$(awk -v k="$R_PEAK_KB" -v g="$GOAL_RSS_MB" 'BEGIN{print (k / 1024 < g) ? "PASS" : "MISSED"}')
echo "   peak RSS $(mb "$R_PEAK_KB") MB$R_PEAK_NOTE (VmRSS $(mb "$R_READY_KB") MB when ready, $(mb "$R_FILLED_KB") MB after the fill, $(mb "$R_RSS_KB") MB after wrk at $(printf '%.0f' "$R_RPS") req/s) — goal < $GOAL_RSS_MB MB: $V_RSS"
stop_pid "$RPID" "khabar (256 MB cache)"; RPID=

# ---------------------------------------------------------------- report
GOALS=0
MISSED=()
SUSPECT_GOALS=0
goal() { # verdict name
  GOALS=$((GOALS + 1))
  [[ $1 == PASS ]] || MISSED+=("$2")
}
{
  echo
  echo "khabar vs nginx, same bytes — $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m), $NPROC CPUs, commit $REVISION at the start (binary $BIN, built $(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC'))"
  echo "wrk -t1 -c<conns> -d$DURATION --latency; $ROUNDS rounds alternating khabar,nginx; req/s, p50, p99: medians of the rounds; ratio: median of the per-round khabar/nginx req/s"
  echo "khabar: RUST_LOG=warn, the demo's page_cache_bytes (128 MB); nginx $NGINX_VERSION: worker_processes auto, access_log off, sendfile on, tcp_nopush off, gzip_static on"
  echo
  printf '%-10s %-8s %5s | %10s %8s %8s | %10s %8s %8s | %6s  %-28s %s\n' page encoding conns "khabar r/s" "p50 ms" "p99 ms" "nginx r/s" "p50 ms" "p99 ms" ratio goal "per-round ratios"
  printf '%s\n' "----------------------------------------------------------------------------------------------------------------------------------------------"
  for row in "${ROWS[@]}"; do
    IFS='|' read -r scen enc c krps kp50 kp99 nrps np50 np99 ratio all shared <<<"$row"
    shown_enc=$enc; [[ $scen == revalidate ]] && shown_enc="gzip 304"
    if [[ $scen == article || $scen == home ]]; then
      v=PASS; why=
      awk -v r="$ratio" 'BEGIN{exit !(r >= 1.0)}' || { v=MISSED; why="ratio<1"; }
      awk -v a="$kp99" -v b="$np99" 'BEGIN{exit !(a <= b)}' || { v=MISSED; why="${why:+$why, }p99>nginx"; }
      goal "$v" "$scen $enc c=$c"
      gtext="$v${why:+ ($why)}"
      ((shared == 0)) || SUSPECT_GOALS=$((SUSPECT_GOALS + 1))
    else
      gtext="(no goal)"
    fi
    printf '%-10s %-8s %5s | %10.0f %8.2f %8.2f | %10.0f %8.2f %8.2f | %6.4f  %-28s %s%s\n' \
      "$scen" "$shown_enc" "$c" "$krps" "$kp50" "$kp99" "$nrps" "$np50" "$np99" "$ratio" "$gtext" "$all" \
      "$( ((shared == 0)) || echo "   [$shared of $((2 * ROUNDS)) runs shared the machine]")"
  done
  echo "goal (article and home page): ratio >= 1.0 and khabar's p99 <= nginx's p99 in the same run"
  [[ -n ${ETAGS:-} ]] && echo "revalidate: GET of the article with 'Accept-Encoding: gzip' and If-None-Match: each server's own ETag (last round: $ETAGS)"
  for key in "${!ERRS[@]}"; do echo "  socket errors, $key: ${ERRS[$key]}"; done | sort
  echo
  printf 'uncached render (KHABAR_PAGE_CACHE_BYTES=0, khabar on a copy of the demo data; %s):\n' "$UNCACHED_CHECK"
  printf '  article, gzip, wrk -t1 -c%s -d%s --timeout 30s: %s pages/s, p50 %.2f ms, p99 %.2f ms (%d responses%s)   goal >= %d pages/s: %s\n' \
    "$UNCACHED_CONNECTIONS" "$UNCACHED_DURATION" "$U_RPS" "$U_P50" "$U_P99" "$U_REQS" "${U_ERR:+; $U_ERR}" "$GOAL_UNCACHED_RPS" "$V_UNCACHED"
  printf '  (its VmHWM: %s MB)%s\n' "$(mb "$U_HWM_KB")" \
    "${SHARED_RUNS[uncached-gzip-c$UNCACHED_CONNECTIONS-khabar]:+   [the run shared the machine: ${SHARED_RUNS[uncached-gzip-c$UNCACHED_CONNECTIONS-khabar]}]}"
  goal "$V_UNCACHED" "uncached render"
  [[ -z ${SHARED_RUNS[uncached-gzip-c$UNCACHED_CONNECTIONS-khabar]:-} ]] || SUSPECT_GOALS=$((SUSPECT_GOALS + 1))
  echo
  echo "peak RSS (KHABAR_PAGE_CACHE_BYTES=$RSS_CACHE_BYTES = 256 MB, khabar on a copy of the demo data):"
  echo "  cache fill: $F_FETCHED GETs ('Accept-Encoding: gzip, br'; statuses: $F_STATUSES) in ${FILL_S}s: $F_OK distinct URLs answered 200 ($F_KINDS),"
  echo "  $F_CACHED of them through the page cache, holding ${F_MB} MB (identity+gzip+br bodies) of the 256 MB cap."
  if ((F_BYTES >= RSS_CACHE_BYTES)); then
    echo "  The demo grown by $GROWN generated articles: more than the cap went through the cache, so it was full (and evicting) when measured."
  else
    echo "  The demo grown by $GROWN generated articles: the cache was NOT full (RSS_ARTICLES or FILL_LIMIT too small), so this is not the peak for a full 256 MB cache."
  fi
  printf '  after wrk -t1 -c%s -d%s on the article (gzip, %.0f req/s%s): peak RSS %s MB%s (VmRSS %s MB when ready, %s MB after the fill, %s MB at the end)   goal < %d MB: %s\n' \
    "$RSS_CONNECTIONS" "$RSS_DURATION" "$R_RPS" "${R_ERR:+; $R_ERR}" "$(mb "$R_PEAK_KB")" "$R_PEAK_NOTE" "$(mb "$R_READY_KB")" "$(mb "$R_FILLED_KB")" "$(mb "$R_RSS_KB")" "$GOAL_RSS_MB" "$V_RSS"
  [[ -z ${SHARED_RUNS[rss-gzip-c$RSS_CONNECTIONS-khabar]:-} ]] || echo "  [the wrk run shared the machine: ${SHARED_RUNS[rss-gzip-c$RSS_CONNECTIONS-khabar]}]"
  echo "  (the khabar measured against nginx, default 128 MB cap, peaked at $(mb "$MAIN_HWM_KB") MB after its runs)"
  goal "$V_RSS" "peak RSS"
  [[ -z ${SHARED_RUNS[rss-gzip-c$RSS_CONNECTIONS-khabar]:-} ]] || SUSPECT_GOALS=$((SUSPECT_GOALS + 1))
  echo
  echo "khabar serve ready (process start -> GET /healthz 200): median ${SERVE_READY_MS} ms of ${STARTS} starts [${start_samples[*]}]   goal < $GOAL_READY_MS ms: $V_READY"
  goal "$V_READY" "serve ready"
  echo
  echo "body sizes at the start (identical for both servers; response header bytes khabar / nginx):"
  for page in "${PAGES[@]}"; do
    printf '  %-8s identity %7d B (headers %d / %d)   gzip %7d B (headers %d / %d)   %s\n' "$page" \
      "${SIZE[$page.identity]}" "${HDR[$page.khabar.identity]}" "${HDR[$page.nginx.identity]}" \
      "${SIZE[$page.gzip]}" "${HDR[$page.khabar.gzip]}" "${HDR[$page.nginx.gzip]}" "${PATHOF[$page]:0:60}"
  done
  for page in "${PAGES[@]}"; do
    if [[ -n ${RESYNCS[$page]:-} || -n ${CHANGED_IN_RUN[$page]:-} ]]; then
      echo "  $page: nginx's copy updated to khabar's new bytes before ${RESYNCS[$page]:-0} round(s); khabar's bytes changed during ${CHANGED_IN_RUN[$page]:-0} of its runs"
    fi
  done
  echo "CPU idle before: ${IDLE_CPUS[*]}"
  if ((${#SHARED_RUNS[@]})); then
    for key in "${!SHARED_RUNS[@]}"; do echo "$key: ${SHARED_RUNS[$key]}"; done | sort >"$OUT_DIR/shared-runs.txt"
    echo "${#SHARED_RUNS[@]} of $RUN wrk runs shared the machine (others' CPU > 5% or steal > 10%; their figures are suspect; counted per row above, listed in $OUT_DIR/shared-runs.txt)"
    if ((${#SHARED_RUNS[@]} <= 8)); then sed 's/^/  /' "$OUT_DIR/shared-runs.txt"; fi
  else
    echo "no run shared the machine (others' CPU <= 5% and steal <= 10% in every wrk run; per run in the raw files)"
  fi
  if ((${#NOTES[@]})); then
    echo "notes:"
    printf '  - %s\n' "${NOTES[@]}"
  fi
  echo
  if ((${#MISSED[@]} == 0)); then
    echo "overall: PASS — all $GOALS goals met"
  else
    echo "overall: MISSED — ${#MISSED[@]} of $GOALS goals missed: $(printf '%s; ' "${MISSED[@]}" | sed 's/; $//')"
  fi
  ((SUSPECT_GOALS == 0)) || echo "         ($SUSPECT_GOALS of the $GOALS verdicts rest on runs that shared the machine with other work: run again on a quiet machine)"
} | tee "$OUT_DIR/summary.txt"
echo "(raw wrk output and the fill's URL list: $OUT_DIR)"

FINISHED=1
# The goals are counted in the report's subshell (a pipeline): count them again here.
grep -q '^overall: PASS' "$OUT_DIR/summary.txt" || exit 2
exit 0
