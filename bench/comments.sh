#!/usr/bin/env bash
# bench/comments.sh — what 500 approved comments cost an article page, and how
# soon an approved comment shows:
#   * `khabar demo` (SQLite) in a temp dir, the comment rate limits lifted
#     (KHABAR_COMMENTS_PER_EMAIL / _PER_ADDRESS); an admin API token from
#     `khabar token create`; ONE published article that has no comment yet
#     (the first whose /api/content/articles/ID/comments count is 0), read at
#     its canonical URL (where /news/ID redirects, i.e. the page readers get);
#   * empty: (a) cached page: wrk -t1 on the page (gzip, as browsers ask) ->
#     req/s; (b) cold render: ROUNDS times, a comment is posted on ANOTHER
#     article and approved through the admin API (which empties the whole page
#     cache), then ONE timed GET of the page (curl's time_total; that GET
#     renders it) -> median and p90 ms (a cached GET right after, for scale);
#   * seeding: TOP_LEVEL top-level comments, then REPLIES replies spread over
#     the first REPLY_PARENTS top-level ones, on that article, each posted over
#     HTTP like a browser would (form token read from form#comment-form, Origin
#     header, a new e-mail address each, so the demo holds each as a first
#     comment) and approved via POST /api/admin/comments/ID/approve; PARALLEL
#     at a time. Bodies are Arabic, 80-600 characters, built from sentences
#     written for this script. The content API must then count exactly
#     TOP_LEVEL + REPLIES, or the run stops;
#   * full: (a) and (b) again. Cached: empty/full req/s (how many times
#     slower); cold: full/empty median. PASS when both are <= 2.0;
#   * approval latency: ROUNDS times, a comment is posted (held: pending),
#     then approved via the API while GET polls the page (the real URL, no
#     cache-busting query) every ~10 ms until it carries id="comment-N"; the
#     time from sending the approval to the first page that shows it. PASS
#     when the max is <= 1000 ms. Those comments are posted as REPLIES to the
#     first top-level comments: the page shows only the first 20 top-level
#     comments, oldest first, with at most 3 replies each, so a new top-level
#     comment on a 400-comment article would land on a later page, never on
#     this one; a third reply to one of the first (they have 2 each) lands on
#     the page measured, and the page rendered is the full one (the case that
#     matters). Each is deleted after it was seen, so the next is a third too.
# Before each measuring phase the CPUs' idle share is sampled for a second and
# shown (a warning under 90%: others' builds or browsers spoil the figures).
# Exit status: 0 when every check passes, 2 when a verdict is FAIL, 1 on error.
#
# Usage: bench/comments.sh          (from anywhere; builds the release binary)
# Env:   DURATION=10s               wrk duration of each cached-page measurement
#        READ_CONNECTIONS=16        wrk -c of the page reads (-t1)
#        ENCODING=gzip              page reads: gzip (what browsers ask for) or identity
#        ROUNDS=30                  cold renders timed (each state), and approvals timed
#        TOP_LEVEL=400 REPLIES=100  comments seeded on the article
#        REPLY_PARENTS=50           the replies are spread over this many first top-level comments
#                                   (at most 2 each, so a third one still shows)
#        PARALLEL=8                 seeding: posts (and approvals) at a time
#        KHABAR=target/release/khabar   the binary (SKIP_BUILD=1 to use it as it is)
#        SKIP_BUILD=1               do not run `cargo build --release -p khabar` first
#        KEEP=1                     keep the temp dir (data, logs, bodies)
# Everything runs on 127.0.0.1 only and is stopped on exit. With the defaults a
# run takes about a minute and a half (2 x 12 s of wrk, the rest is HTTP).
set -euo pipefail

DURATION=${DURATION:-10s}
READ_CONNECTIONS=${READ_CONNECTIONS:-16}
ENCODING=${ENCODING:-gzip}
ROUNDS=${ROUNDS:-30}
TOP_LEVEL=${TOP_LEVEL:-400}
REPLIES=${REPLIES:-100}
REPLY_PARENTS=${REPLY_PARENTS:-50}
PARALLEL=${PARALLEL:-8}
KEEP=${KEEP:-0}
LIMIT_RATIO=2.0          # full vs empty, cached req/s and cold render
LIMIT_APPROVAL_MS=1000   # approval -> first page showing the comment
GIVE_UP_MS=5000          # an approval poll stops after this long (counted as a failure)
PAGE_TOP_LEVEL=20        # top-level comments the article page shows
PAGE_REPLIES=3           # replies the page shows under each

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ -d $HOME/.cargo/bin ]] && PATH=$HOME/.cargo/bin:$PATH

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

posint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
[[ $ENCODING == gzip || $ENCODING == identity ]] || die "ENCODING must be gzip or identity"
posint "$READ_CONNECTIONS" || die "READ_CONNECTIONS must be a positive whole number"
posint "$ROUNDS" || die "ROUNDS must be a positive whole number"
posint "$TOP_LEVEL" || die "TOP_LEVEL must be a positive whole number"
[[ $REPLIES =~ ^[0-9]+$ ]] || die "REPLIES must be a whole number"
posint "$REPLY_PARENTS" || die "REPLY_PARENTS must be a positive whole number"
((REPLY_PARENTS <= TOP_LEVEL)) || die "REPLY_PARENTS must be at most TOP_LEVEL"
(((REPLIES + REPLY_PARENTS - 1) / REPLY_PARENTS < PAGE_REPLIES)) \
  || die "REPLIES / REPLY_PARENTS must stay under $PAGE_REPLIES, so the replies timed still show on the page"
posint "$PARALLEL" || die "PARALLEL must be a positive whole number"
[[ $(dur_s "$DURATION") =~ ^[1-9][0-9]*$ ]] || die "DURATION must be like 10s, 1m or 10"
SEEDED=$((TOP_LEVEL + REPLIES))

# ---------------------------------------------------------------- tools
need_pkgs=()
command -v wrk >/dev/null 2>&1 || need_pkgs+=(wrk)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
command -v xargs >/dev/null 2>&1 || need_pkgs+=(findutils)
if ((${#need_pkgs[@]})); then
  log "installing missing tools: ${need_pkgs[*]}"
  SUDO=; [[ $(id -u) == 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
fi

# ---------------------------------------------------------------- build
build_khabar

# ---------------------------------------------------------------- temp + cleanup
T=$(mktemp -d "${TMPDIR:-/tmp}/khabar-comments.XXXXXX")
KPID=  # khabar demo
WPID=  # wrk
XPID=  # xargs: the seeding


stop_on_exit "XPID:xargs" "WPID:wrk" "KPID:khabar"




WRK_LIMIT=$(($(dur_s "$DURATION") + 30))
OUT_DIR=$ROOT/bench/out/comments-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT_DIR" "$T/bodies"

READ_HDR=()
[[ $ENCODING == gzip ]] && READ_HDR=(-H 'Accept-Encoding: gzip')



stats() { # file of numbers -> "median p90 max" (p90: nearest rank)
  sort -n "$1" | awk '{v[NR] = $1}
    END{
      if (NR == 0) { print "0 0 0"; exit }
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      i = int(0.9 * NR); if (i < 0.9 * NR) i++; if (i < 1) i = 1
      printf "%.2f %.2f %.2f\n", m, v[i], v[NR] }'
}

at_most() { # value limit -> PASS or FAIL
  awk -v v="$1" -v g="$2" 'BEGIN{ print (v <= g) ? "PASS" : "FAIL" }'
}

now_us() { local t=${EPOCHREALTIME//[!0-9]/}; echo "$((10#$t))"; }

# ---------------------------------------------------------------- comment bodies
# Original sentences, written for this benchmark; a body is 1-6 of them (one
# of three split into two paragraphs) and a closing, so 80-600 characters.
SENTENCES=(
  "أتابع هذا الملف منذ سنوات، ويسعدني أن أرى تغطية هادئة تشرح الخلفية قبل أن تسرد الأرقام."
  "السؤال الذي لم يُطرح بعد: من سيدفع كلفة هذا القرار على المدى البعيد، المواطن أم الخزينة؟"
  "في حيّنا لاحظنا الأثر نفسه منذ الشتاء الماضي، والأسعار في السوق لم تعد كما كانت."
  "أرجو أن تنشروا متابعة بعد شهر لنعرف هل نُفّذ شيء مما وُعد به فعلًا أم بقي حبرًا على ورق."
  "أختلف مع الكاتب في نقطة واحدة، فالمقارنة بالعام الماضي لا تصحّ لأن الظروف تغيّرت كثيرًا."
  "شكرًا على ذكر المصادر بوضوح، فهذا ما يجعلني أثق بما أقرأ في هذا الموقع."
  "ابني طالب في الجامعة ويقول إن زملاءه يتحدثون عن الموضوع نفسه كل يوم تقريبًا."
  "لو أضفتم خريطة أو جدولًا صغيرًا لكان فهم التفاصيل أسهل على القارئ غير المتخصص."
  "التجارب في البلدان المجاورة تقول إن الحلول السريعة لا تدوم، والصبر هنا خير من العجلة."
  "قرأت الخبر مرتين، وما زلت لا أفهم لماذا تأخر الإعلان الرسمي كل هذه المدة."
  "تحية للمراسلين في الميدان، فالعمل في مثل هذه الظروف ليس سهلًا أبدًا."
  "أتمنى أن يُسمع صوت المزارعين الصغار أيضًا، لا صوت الشركات الكبيرة وحدها."
)
CLOSINGS=("مع التحية." "شكرًا لكم." "والله الموفق." "دمتم بخير." "تحياتي من الإسكندرية." "ننتظر المزيد.")
NAMES='سلمى|خالد العتيبي|مريم|يوسف حداد|نور الهدى|عمر الفاسي|ليلى|حسن بن علي|رنا|أبو سامر|هدى المصري|طارق'

arabic_digits() { # 123 -> ١٢٣
  local s=$1 d
  local -a ar=(٠ ١ ٢ ٣ ٤ ٥ ٦ ٧ ٨ ٩)
  for d in 0 1 2 3 4 5 6 7 8 9; do s=${s//$d/${ar[d]}}; done
  echo "$s"
}

make_body() { # index file -> a comment body in file, varied by index
  local i=$1 n=${#SENTENCES[@]} k start j out=
  k=$((1 + (i * 5 + i / 6) % 6))
  start=$(((i * 7) % n))
  for ((j = 0; j < k; j++)); do
    if ((i % 3 == 0 && k >= 3 && j == k / 2)); then out+=$'\n\n'; elif [[ -n $out ]]; then out+=' '; fi
    out+=${SENTENCES[(start + j * 5) % n]}
  done
  out+=" ${CLOSINGS[i % ${#CLOSINGS[@]}]} ($(arabic_digits "$i"))"
  printf '%s\n' "$out" >"$2"
}

# ---------------------------------------------------------------- HTTP helpers (also run by xargs: exported)
post_one() { # article csrf bodyfile email name [parent] -> "ID STATUS"
  local article=$1 csrf=$2 body=$3 email=$4 name=$5 parent=${6:-} out code json id status
  local args=(--data-urlencode "name=$name" --data-urlencode "email=$email"
    --data-urlencode "body@$body" --data-urlencode "csrf=$csrf")
  [[ -z $parent ]] || args+=(--data-urlencode "parent=$parent")
  out=$(curl -sS --max-time 10 -H "Origin: $KURL" -H 'Accept: application/json' \
    -w $'\n%{http_code}' "${args[@]}" "$KURL/news/$article/comments") || { echo "POST /news/$article/comments: curl failed" >&2; return 1; }
  code=${out##*$'\n'} json=${out%$'\n'*}
  if [[ $code != 201 && $code != 202 ]]; then
    echo "POST /news/$article/comments ($email): HTTP $code: ${json:0:300}" >&2
    return 1
  fi
  id=$(grep -o '"id":[0-9]*' <<<"$json" | awk -F: 'NR==1{print $2}')
  status=$(grep -o '"status":"[a-z]*"' <<<"$json" | awk -F'"' 'NR==1{print $4}')
  [[ -n $id && -n $status ]] || { echo "POST /news/$article/comments: HTTP $code without id/status: ${json:0:300}" >&2; return 1; }
  echo "$id $status"
}

approve_one() { # comment id
  local code
  code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $TOKEN" "$KURL/api/admin/comments/$1/approve") || code=curl-failed
  [[ $code == 200 ]] || { echo "POST /api/admin/comments/$1/approve: HTTP $code" >&2; return 1; }
}

seed_one() { # index [parent] -> "index id parent" once posted and approved
  local i=$1 parent=${2:-} r id status names
  IFS='|' read -ra names <<<"$NAMES"
  r=$(post_one "$ARTICLE_ID" "$CSRF" "$T/bodies/$i.txt" "reader$i.$RUN_TAG@example.com" \
    "${names[i % ${#names[@]}]}" "$parent") || return 1
  read -r id status <<<"$r"
  [[ $status == approved ]] || approve_one "$id" || return 1
  echo "$i $id ${parent:-0}"
}
export -f post_one approve_one seed_one

# ---------------------------------------------------------------- demo site
DATA=$T/data
KPORT=$(free_port)
KURL=http://127.0.0.1:$KPORT
RUN_TAG=$$
export RUST_LOG=warn KURL RUN_TAG NAMES T

log "khabar demo: creating the site in $DATA (SQLite) on 127.0.0.1:$KPORT (RUST_LOG=warn, comment rate limits lifted)"
KHABAR_COMMENTS_PER_EMAIL=1000000 KHABAR_COMMENTS_PER_ADDRESS=1000000 \
  "$BIN" demo --data "$DATA" --addr "127.0.0.1:$KPORT" >>"$T/khabar.log" 2>&1 &
KPID=$!
wait_ready "$KPORT" "$KPID" 120 "khabar demo" "$T/khabar.log"

TOKEN=$("$BIN" token create --data "$DATA" --name bench 2>>"$T/khabar.log" | awk 'NF{t=$0} END{print t}') \
  || die "khabar token create failed"
[[ -n $TOKEN ]] || die "khabar token create printed no token"
export TOKEN

# ---------------------------------------------------------------- the article, and another one
# The first published article without comments (open to them), and any other open one.
ARTICLE_ID='' OTHER_ID='' misses=0
for ((id = 1; id <= 500 && misses < 20; id++)); do
  code=$(curl -sS --max-time 10 -o "$T/c.json" -w '%{http_code}' "$KURL/api/content/articles/$id/comments") || die "GET /api/content/articles/$id/comments failed"
  if [[ $code == 404 ]]; then misses=$((misses + 1)); continue; fi
  [[ $code == 200 ]] || die "GET /api/content/articles/$id/comments: HTTP $code"
  misses=0
  grep -q '"open":true' "$T/c.json" || continue
  if [[ -z $ARTICLE_ID && $(json_int count "$T/c.json") == 0 ]]; then
    ARTICLE_ID=$id
  elif [[ -z $OTHER_ID ]]; then
    OTHER_ID=$id
  fi
  [[ -n $ARTICLE_ID && -n $OTHER_ID ]] && break
done
[[ -n $ARTICLE_ID ]] || die "no published article open to comments has none yet"
[[ -n $OTHER_ID ]] || die "no second article open to comments (to empty the page cache with)"

canonical() { # id -> the absolute URL /news/ID leads to
  local r
  r=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{redirect_url}' "$KURL/news/$1") || die "GET /news/$1 failed"
  case ${r%% *} in
    200) echo "$KURL/news/$1" ;;
    301 | 302 | 307 | 308) [[ -n ${r#* } ]] || die "GET /news/$1: redirect without Location"; echo "${r#* }" ;;
    *) die "GET /news/$1: HTTP ${r%% *}" ;;
  esac
}
form_csrf() { # url -> the csrf value of form#comment-form on that page
  curl -fsS --max-time 10 -o "$T/form.html" "$1" || die "GET $1 failed"
  awk '/id="comment-form"/{on=1} on{print} on && /<\/form>/{exit}' "$T/form.html" \
    | grep -o 'name="csrf" value="[^"]*"' | awk -F'"' 'NR==1{print $4}'
}
URL=$(canonical "$ARTICLE_ID")
OTHER_URL=$(canonical "$OTHER_ID")
[[ $URL == "$KURL"/* && $OTHER_URL == "$KURL"/* ]] || die "a canonical URL left 127.0.0.1:$KPORT ($URL, $OTHER_URL)"
CSRF=$(form_csrf "$URL")
OTHER_CSRF=$(form_csrf "$OTHER_URL")
[[ -n $CSRF ]] || die "no csrf token in form#comment-form of $URL"
[[ -n $OTHER_CSRF ]] || die "no csrf token in form#comment-form of $OTHER_URL"
export ARTICLE_ID CSRF
PATH_SHOWN=${URL#"$KURL"}
echo "   article $ARTICLE_ID (no comment yet): ${PATH_SHOWN:0:70}"
echo "   cache emptied by approving comments on article $OTHER_ID"

# ---------------------------------------------------------------- measurements
SEQ=0  # comments posted outside the seeding: bodies and e-mails numbered 100000+

run_reads() { # name -> sets WRK_RPS, WRK_P99 (ms); raw output in OUT_DIR/wrk-NAME.txt
  local f=$OUT_DIR/wrk-$1.txt d=${2:-$DURATION} bad p99
  echo "# wrk -t1 -c$READ_CONNECTIONS -d$d --latency ${READ_HDR[*]:+${READ_HDR[*]} }$URL" >"$f"
  timeout --kill-after=5 "$WRK_LIMIT" wrk -t1 -c"$READ_CONNECTIONS" -d"$d" --latency "${READ_HDR[@]}" "$URL" >>"$f" 2>&1 &
  WPID=$!
  wait "$WPID" || die "wrk failed (see $f)"
  WPID=
  WRK_RPS=$(awk '/^Requests\/sec:/{print $2}' "$f")
  p99=$(awk '$1=="99%"{print $2}' "$f")
  [[ -n $WRK_RPS && -n $p99 ]] || die "could not parse wrk output $f"
  WRK_P99=$(to_ms "$p99")
  bad=$(awk '/Non-2xx or 3xx responses:/{print $NF}' "$f")
  [[ -z $bad ]] || die "wrk saw $bad non-2xx/3xx responses from the page (see $f)"
  if grep -q 'Socket errors:' "$f"; then echo "   warning: $(grep 'Socket errors:' "$f") ($1)" >&2; fi
}

invalidate() { # post a comment on the other article and approve it: the page cache is emptied
  local r id status
  SEQ=$((SEQ + 1))
  make_body $((100000 + SEQ)) "$T/bodies/x$SEQ.txt"
  r=$(post_one "$OTHER_ID" "$OTHER_CSRF" "$T/bodies/x$SEQ.txt" "other$SEQ.$RUN_TAG@example.com" "قارئ عابر") \
    || die "posting on article $OTHER_ID failed"
  read -r id status <<<"$r"
  # An approved answer (201) has emptied the cache already.
  [[ $status == approved ]] || approve_one "$id" || die "approving comment $id failed"
}

timed_get() { # -> "CODE MS" for one GET of the page, as readers ask for it
  curl -sS --max-time 10 -o /dev/null "${READ_HDR[@]}" -w '%{http_code} %{time_total}' "$URL" \
    | awk '{printf "%s %.3f\n", $1, $2 * 1000}'
}

measure_page() { # name (empty|full): cached req/s, then ROUNDS cold renders
  local name=$1 r code ms
  log "$name: cached page, wrk -t1 -c$READ_CONNECTIONS -d$DURATION ($ENCODING), after a 2 s warm-up"
  run_reads "$name-warmup" 2s
  run_reads "$name"
  printf -v "${name^^}_RPS" '%s' "$WRK_RPS"
  printf -v "${name^^}_P99" '%s' "$WRK_P99"
  printf '   cached: %10.0f req/s  p99 %8.2f ms\n' "$WRK_RPS" "$WRK_P99"

  log "$name: cold render x$ROUNDS (approve a comment on article $OTHER_ID, then one GET of the page)"
  : >"$OUT_DIR/cold-$name.txt"
  : >"$OUT_DIR/warm-$name.txt"
  for ((r = 1; r <= ROUNDS; r++)); do
    invalidate
    read -r code ms < <(timed_get)
    [[ $code == 200 ]] || die "GET $URL after invalidation: HTTP $code"
    echo "$ms" >>"$OUT_DIR/cold-$name.txt"
    read -r code ms < <(timed_get)
    [[ $code == 200 ]] || die "GET $URL: HTTP $code"
    echo "$ms" >>"$OUT_DIR/warm-$name.txt"
  done
  read -r med p90 max < <(stats "$OUT_DIR/cold-$name.txt")
  printf -v "${name^^}_COLD_MED" '%s' "$med"
  printf -v "${name^^}_COLD_P90" '%s' "$p90"
  printf '   cold:   median %.2f ms  p90 %.2f ms  max %.2f ms' "$med" "$p90" "$max"
  read -r med p90 max < <(stats "$OUT_DIR/warm-$name.txt")
  printf -v "${name^^}_WARM_MED" '%s' "$med"
  printf '   (a cached GET: median %.2f ms)\n' "$med"

  # What the page holds: bytes and comments shown.
  curl -fsS --max-time 10 -o "$T/page-$name.html" "$URL" || die "GET $URL failed"
  printf -v "${name^^}_BYTES" '%s' "$(stat -c %s "$T/page-$name.html")"
  printf -v "${name^^}_GZ_BYTES" '%s' "$(curl -fsS --max-time 10 -H 'Accept-Encoding: gzip' "$URL" | wc -c)"
  printf -v "${name^^}_SHOWN" '%s' "$(grep -o 'id="comment-[0-9]*"' "$T/page-$name.html" | wc -l)"
}

IDLE_CPUS=()
idle_check() { # phase: the CPUs must be idle before we load them, or the figures say more about the neighbours
  local idle
  idle=$(cpu_idle_pct)
  IDLE_CPUS+=("$1 ${idle}%")
  if ((idle < 90)); then
    echo "   warning: the CPUs were only ${idle}% idle just before the $1 measurements (something else is running: $(ps -eo comm= --sort=-pcpu | awk 'NR<=3' | paste -sd, -)); figures will be low and noisy" >&2
  fi
}

# ---------------------------------------------------------------- 1. empty
idle_check empty
measure_page empty
((EMPTY_SHOWN == 0)) || die "the article was to have no comment, but its page shows $EMPTY_SHOWN"

# ---------------------------------------------------------------- 2. seeding
log "seeding $SEEDED comments on article $ARTICLE_ID ($TOP_LEVEL top-level, then $REPLIES replies to the first $REPLY_PARENTS), $PARALLEL at a time: post + approve"
for ((i = 1; i <= SEEDED; i++)); do make_body "$i" "$T/bodies/$i.txt"; done
LEN_STATS=$(for ((i = 1; i <= SEEDED; i++)); do LC_ALL=C.UTF-8 wc -m <"$T/bodies/$i.txt"; done \
  | awk '{n = $1 - 1; s += n; if (NR == 1 || n < lo) lo = n; if (n > hi) hi = n} END{printf "%d-%d characters, mean %.0f", lo, hi, s / NR}')
echo "   bodies: $LEN_STATS"
SEED_OUT=$T/seeded.txt SEED_ERR=$T/seed-errors.txt
: >"$SEED_OUT"
: >"$SEED_ERR"

seed_batch() { # file of "index [parent]" lines
  local rc=0
  xargs -P "$PARALLEL" -L 1 bash -c 'seed_one "$@"' _ <"$1" >>"$SEED_OUT" 2>>"$SEED_ERR" &
  XPID=$!
  wait "$XPID" || rc=$?
  XPID=
  if ((rc != 0)); then
    head -n 5 "$SEED_ERR" >&2
    die "seeding failed (xargs exit $rc; $(wc -l <"$SEED_ERR") errors, see above)"
  fi
}

SEED_START=$(now_us)
BATCH=100
for ((b = 1; b <= TOP_LEVEL; b += BATCH)); do
  e=$((b + BATCH - 1)); ((e <= TOP_LEVEL)) || e=$TOP_LEVEL
  seq "$b" "$e" >"$T/batch.txt"
  seed_batch "$T/batch.txt"
  printf '   %4d/%d seeded (%.1f s)\n' "$(wc -l <"$SEED_OUT")" "$SEEDED" "$(awk -v d=$(($(now_us) - SEED_START)) 'BEGIN{print d / 1e6}')"
done
# The first top-level comments, oldest first: the parents of the replies.
mapfile -t PARENTS < <(awk '$3 == 0 {print $2}' "$SEED_OUT" | sort -n | head -n "$REPLY_PARENTS")
((${#PARENTS[@]} == REPLY_PARENTS)) || die "found ${#PARENTS[@]} top-level comments, not $REPLY_PARENTS"
for ((b = 1; b <= REPLIES; b += BATCH)); do
  e=$((b + BATCH - 1)); ((e <= REPLIES)) || e=$REPLIES
  for ((j = b; j <= e; j++)); do echo "$((TOP_LEVEL + j)) ${PARENTS[(j - 1) % REPLY_PARENTS]}"; done >"$T/batch.txt"
  seed_batch "$T/batch.txt"
  printf '   %4d/%d seeded (%.1f s)\n' "$(wc -l <"$SEED_OUT")" "$SEEDED" "$(awk -v d=$(($(now_us) - SEED_START)) 'BEGIN{print d / 1e6}')"
done
SEED_S=$(awk -v d=$(($(now_us) - SEED_START)) 'BEGIN{printf "%.1f", d / 1e6}')
cp "$SEED_OUT" "$OUT_DIR/seeded.txt"
curl -fsS --max-time 10 -o "$OUT_DIR/api-comments.json" "$KURL/api/content/articles/$ARTICLE_ID/comments" \
  || die "GET /api/content/articles/$ARTICLE_ID/comments failed"
COUNT=$(json_int count "$OUT_DIR/api-comments.json")
[[ $COUNT == "$SEEDED" ]] || die "the content API counts ${COUNT:-nothing} approved comments on article $ARTICLE_ID, not $SEEDED"
echo "   content API count: $COUNT (as seeded) in $SEED_S s"

# ---------------------------------------------------------------- 3. full
idle_check full
measure_page full
grep -q "id=\"comment-${PARENTS[0]}\"" "$T/page-full.html" || die "the first top-level comment (${PARENTS[0]}) is not on the page"

# ---------------------------------------------------------------- 4. approval latency
idle_check approval
ON_PAGE=$((REPLY_PARENTS < PAGE_TOP_LEVEL ? REPLY_PARENTS : PAGE_TOP_LEVEL))
log "approval latency x$ROUNDS: a reply to one of the first $ON_PAGE comments (held), approved; GET the page every ~10 ms until it shows"
LAT=$OUT_DIR/approval-ms.txt
: >"$LAT"
LATE=0
for ((r = 1; r <= ROUNDS; r++)); do
  SEQ=$((SEQ + 1))
  make_body $((100000 + SEQ)) "$T/bodies/x$SEQ.txt"
  res=$(post_one "$ARTICLE_ID" "$CSRF" "$T/bodies/x$SEQ.txt" "late$SEQ.$RUN_TAG@example.com" "قارئ جديد" \
    "${PARENTS[(r - 1) % ON_PAGE]}") || die "posting the reply failed"
  read -r cid status <<<"$res"
  [[ $status == pending ]] || die "comment $cid came back $status, not pending (the demo should hold a first comment)"
  t0=$(now_us)
  approve_one "$cid" || die "approving comment $cid failed"
  shown=0
  while :; do
    curl -sS --max-time 10 --compressed -o "$T/poll.html" "$URL" || die "GET $URL failed"
    t1=$(now_us)
    if grep -q "id=\"comment-$cid\"" "$T/poll.html"; then shown=1; break; fi
    (((t1 - t0) / 1000 < GIVE_UP_MS)) || break
    sleep 0.01
  done
  ms=$(awk -v d=$((t1 - t0)) 'BEGIN{printf "%.3f", d / 1000}')
  echo "$ms" >>"$LAT"
  ((shown)) || { LATE=$((LATE + 1)); echo "   warning: comment $cid not on the page ${GIVE_UP_MS} ms after its approval" >&2; }
  code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X DELETE \
    -H "Authorization: Bearer $TOKEN" "$KURL/api/admin/comments/$cid") || code=curl-failed
  [[ $code == 204 ]] || die "DELETE /api/admin/comments/$cid: HTTP $code"
done
read -r APP_MED APP_P90 APP_MAX < <(stats "$LAT")
printf '   approval -> on the page: median %.2f ms  p90 %.2f ms  max %.2f ms%s\n' "$APP_MED" "$APP_P90" "$APP_MAX" \
  "$( ((LATE)) && echo "  ($LATE never shown within ${GIVE_UP_MS} ms)")"

# ---------------------------------------------------------------- report
SERVER_HWM_KB=$(awk '/^VmHWM:/{print $2}' "/proc/$KPID/status" 2>/dev/null || echo 0)
tail -n 50 "$T/khabar.log" >"$OUT_DIR/khabar-log-tail.txt" 2>/dev/null || true
CACHED_SLOWER=$(awk -v a="$EMPTY_RPS" -v b="$FULL_RPS" 'BEGIN{printf "%.2f", a / b}')
COLD_RATIO=$(awk -v a="$FULL_COLD_MED" -v b="$EMPTY_COLD_MED" 'BEGIN{printf "%.2f", a / b}')
V_CACHED=$(at_most "$CACHED_SLOWER" "$LIMIT_RATIO")
V_COLD=$(at_most "$COLD_RATIO" "$LIMIT_RATIO")
V_APPROVAL=$(at_most "$APP_MAX" "$LIMIT_APPROVAL_MS")
((LATE == 0)) || V_APPROVAL=FAIL
OVERALL=PASS
[[ $V_CACHED == PASS && $V_COLD == PASS && $V_APPROVAL == PASS ]] || OVERALL=FAIL
kb() { awk -v b="$1" 'BEGIN{printf "%.1f KB", b / 1024}'; }
{
  echo
  echo "khabar comments — $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m), $(nproc) CPUs, commit $(revision)"
  echo "CPUs idle just before measuring: $(IFS=,; echo "${IDLE_CPUS[*]}" | sed 's/,/, /g'); load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo "demo site on SQLite; article $ARTICLE_ID at ${PATH_SHOWN:0:60}"
  echo "cached: wrk -t1 -c$READ_CONNECTIONS -d$DURATION --latency ($ENCODING); cold: $ROUNDS GETs, each the first after a comment approved on article $OTHER_ID"
  echo "seeded: $TOP_LEVEL top-level + $REPLIES replies (to the first $REPLY_PARENTS), posted and approved over HTTP in $SEED_S s, $PARALLEL at a time; bodies $LEN_STATS"
  echo
  printf '                           %12s %12s\n' "empty" "full"
  printf '  comments (content API)   %12d %12d\n' 0 "$COUNT"
  printf '  comments on the page     %12d %12d\n' "$EMPTY_SHOWN" "$FULL_SHOWN"
  printf '  page size                %12s %12s   (identity)\n' "$(kb "$EMPTY_BYTES")" "$(kb "$FULL_BYTES")"
  printf '  page size, gzip          %12s %12s\n' "$(kb "$EMPTY_GZ_BYTES")" "$(kb "$FULL_GZ_BYTES")"
  printf '  cached req/s             %12.0f %12.0f\n' "$EMPTY_RPS" "$FULL_RPS"
  printf '  cached p99               %9.2f ms %9.2f ms\n' "$EMPTY_P99" "$FULL_P99"
  printf '  cold render median       %9.2f ms %9.2f ms\n' "$EMPTY_COLD_MED" "$FULL_COLD_MED"
  printf '  cold render p90          %9.2f ms %9.2f ms\n' "$EMPTY_COLD_P90" "$FULL_COLD_P90"
  printf '  cached GET median        %9.2f ms %9.2f ms   (for scale)\n' "$EMPTY_WARM_MED" "$FULL_WARM_MED"
  echo
  printf '  cached: empty/full req/s      %6sx slower   %s  (<= %s)\n' "$CACHED_SLOWER" "$V_CACHED" "$LIMIT_RATIO"
  printf '  cold render: full/empty       %6sx          %s  (<= %s)\n' "$COLD_RATIO" "$V_COLD" "$LIMIT_RATIO"
  printf '  approval -> page (full page)  median %.1f ms, p90 %.1f ms, max %.1f ms   %s  (max <= %d ms)\n' \
    "$APP_MED" "$APP_P90" "$APP_MAX" "$V_APPROVAL" "$LIMIT_APPROVAL_MS"
  ((LATE == 0)) || printf '  %d approved comment(s) never shown within %d ms\n' "$LATE" "$GIVE_UP_MS"
  printf '  server VmHWM              %10.1f MB\n' "$(awk -v k="$SERVER_HWM_KB" 'BEGIN{print k/1024}')"
  echo
  echo "overall: $OVERALL"
} | tee "$OUT_DIR/summary.txt"
echo "(raw output: $OUT_DIR)"
[[ $OVERALL == PASS ]] || exit 2
