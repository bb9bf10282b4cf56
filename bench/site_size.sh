#!/usr/bin/env bash
# bench/site_size.sh — does an uncached render cost more on a big site?
#   * `khabar demo` (SQLite) creates the demo site in a temp dir; a copy of it
#     is grown with sqlite3: ARTICLES more published articles (~3,000 letters
#     of Arabic text each, one every 10 minutes back in time) in the demo's
#     first section, READ_DAYS days of reads for each of them (one row per
#     article per day, up to today), and COMMENTS approved comments spread
#     over them;
#   * for each of the two sites in turn: `khabar serve` with the page cache
#     off (KHABAR_PAGE_CACHE_BYTES=0), left alone until its CPU idles (the
#     search index catches up on the grown site's articles first), then
#     ROUNDS sequential GETs ('Accept-Encoding: gzip') of: the home page, the
#     demo's last section (5 articles on both sites), its first section (the
#     one grown), and the demo's newest article; each GET renders the page;
#     median ms per page (curl's time_total);
#   * prints demo ms, grown ms and the ratio grown/demo per page. A render
#     bounded by what the page shows stays near 1x; one that walks the site
#     grows with it. PASS when every page but the home is <= MAX_RATIO; the
#     home page's most-read list sums the window's reads (READ_DAYS >= 7 puts
#     ARTICLES x 7 rows in it), so it is shown without a verdict.
# Exit status: 0 when every verdict passes, 2 when one fails, 1 on error.
#
# Usage: bench/site_size.sh        (from anywhere; builds the release binary)
# Env:   ARTICLES=30000 READ_DAYS=30 COMMENTS=60000   how much the copy grows
#        ROUNDS=30                 GETs per page and site
#        MAX_RATIO=5               the verdict's bound on grown/demo
#        KHABAR=target/release/khabar   the binary (SKIP_BUILD=1 to use it as it is)
#        SKIP_BUILD=1              do not run `cargo build --release -p khabar` first
#        KEEP=1                    keep the temp dir (both sites, logs)
# Needs sqlite3 (Debian package sqlite3) and python3. Everything runs on
# 127.0.0.1 and is stopped on exit; a default run takes about two minutes.
set -euo pipefail

ARTICLES=${ARTICLES:-30000}
READ_DAYS=${READ_DAYS:-30}
COMMENTS=${COMMENTS:-60000}
ROUNDS=${ROUNDS:-30}
MAX_RATIO=${MAX_RATIO:-5}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for n in ARTICLES READ_DAYS COMMENTS ROUNDS MAX_RATIO; do
  [[ ${!n} =~ ^[1-9][0-9]*$ ]] || die "$n must be a positive whole number, got '${!n}'"
done
command -v sqlite3 >/dev/null || die "sqlite3 is missing (apt-get install -y sqlite3)"
command -v python3 >/dev/null || die "python3 is missing"
command -v curl >/dev/null || die "curl is missing"

build_khabar

T=$(mktemp -d "${TMPDIR:-/tmp}/khabar-site-size.XXXXXX")
KPID=
stop_on_exit "KPID:khabar"
export RUST_LOG=warn

# ---------------------------------------------------------------- the demo, and its grown copy
create_demo_site "$T/demo" "$(free_port)"
cp -r "$T/demo" "$T/grown"

log "growing the copy: $ARTICLES articles, $READ_DAYS days of reads each, $COMMENTS approved comments (sqlite3)"
start=$(date +%s)
sqlite3 "$T/grown/khabar.db" >/dev/null <<SQL || die "growing the copy failed"
PRAGMA busy_timeout = 5000;
BEGIN;
CREATE TEMP TABLE numbers AS
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < MAX($ARTICLES, $COMMENTS)) SELECT i FROM n;
CREATE TEMP TABLE paragraph AS SELECT
  'تواصل اللجان المختصة اجتماعاتها لمراجعة ما ورد في التقارير الأخيرة، ويقول مسؤولون إن القرارات ستعلن بعد استكمال المشاورات مع الأطراف المعنية. '
  AS text;
INSERT INTO articles (slug, title, summary, body_markdown, body_html, word_count, status, section_id,
                      published_at, created_at, updated_at)
SELECT 'generated-' || i, 'خبر إضافي رقم ' || i, 'ملخص خبر إضافي للقياس',
       (SELECT group_concat(text, '') FROM paragraph, (SELECT i AS k FROM numbers WHERE i <= 20)),
       '<p>' || (SELECT group_concat(text, '') FROM paragraph, (SELECT i AS k FROM numbers WHERE i <= 20)) || '</p>',
       500, 'published', (SELECT MIN(id) FROM sections),
       CAST(strftime('%s', 'now') AS INTEGER) - 86400 - i * 600,
       CAST(strftime('%s', 'now') AS INTEGER) - 86400 - i * 600,
       CAST(strftime('%s', 'now') AS INTEGER) - 86400 - i * 600
FROM numbers WHERE i <= $ARTICLES;
INSERT INTO article_reads (article_id, day, reads)
SELECT a.id, CAST(strftime('%s', 'now') AS INTEGER) / 86400 - d.i + 1, 3
FROM articles a, (SELECT i FROM numbers WHERE i <= $READ_DAYS) d WHERE a.slug LIKE 'generated-%';
INSERT INTO comments (article_id, name, email_hash, address_hash, body_markdown, body_html, status, edit_key_hash,
                      created_at, updated_at)
SELECT (SELECT MIN(id) FROM articles WHERE slug LIKE 'generated-%') + (i % $ARTICLES), 'قارئ', 'bench', 'bench',
       'تعليق للقياس', '<p>تعليق للقياس</p>', 'approved', 'bench',
       CAST(strftime('%s', 'now') AS INTEGER) - i, CAST(strftime('%s', 'now') AS INTEGER) - i
FROM numbers WHERE i <= $COMMENTS;
COMMIT;
SQL
log "grown in $(($(date +%s) - start)) s: $(sqlite3 "$T/grown/khabar.db" 'SELECT COUNT(*) FROM articles') articles, $(sqlite3 "$T/grown/khabar.db" 'SELECT COUNT(*) FROM article_reads') read rows, $(sqlite3 "$T/grown/khabar.db" "SELECT COUNT(*) FROM comments WHERE status = 'approved'") approved comments"

# ---------------------------------------------------------------- the pages
encode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
FIRST_SECTION=/section/$(encode "$(sqlite3 "$T/demo/khabar.db" 'SELECT slug FROM sections ORDER BY id LIMIT 1')")
LAST_SECTION=/section/$(encode "$(sqlite3 "$T/demo/khabar.db" 'SELECT slug FROM sections ORDER BY id DESC LIMIT 1')")
ARTICLE=$(sqlite3 "$T/demo/khabar.db" "SELECT id || char(9) || slug FROM articles WHERE status = 'published' ORDER BY published_at DESC LIMIT 1")
ARTICLE=/news/${ARTICLE%%$'\t'*}/$(encode "${ARTICLE#*$'\t'}")
PAGES=(home small-section grown-section article)
declare -A PATHOF=([home]=/ [small-section]=$LAST_SECTION [grown-section]=$FIRST_SECTION [article]=$ARTICLE)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

declare -A MEDIAN
for site in demo grown; do
  KPORT=$(free_port)
  log "$site: khabar serve, page cache off, on 127.0.0.1:$KPORT"
  KHABAR_PAGE_CACHE_BYTES=0 "$BIN" serve --data "$T/$site" --addr "127.0.0.1:$KPORT" >>"$T/khabar.log" 2>&1 &
  KPID=$!
  wait_ready "$KPORT" "$KPID" 120 "khabar serve ($site)" "$T/khabar.log"
  # The search index catches up on new articles after start: wait until the
  # server has used under 3% of a core over a second (at most 10 minutes).
  for ((i = 0; i < 600; i++)); do
    before=$(cpu_ticks "$KPID"); sleep 1; after=$(cpu_ticks "$KPID")
    ((after - before < 3)) && break
  done
  for page in "${PAGES[@]}"; do
    url=http://127.0.0.1:$KPORT${PATHOF[$page]}
    code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Accept-Encoding: gzip' "$url") || die "GET $url failed"
    [[ $code == 200 ]] || die "$site $page: GET $url answered $code"
    MEDIAN[$site.$page]=$(for ((r = 0; r < ROUNDS; r++)); do
      curl -sS -o /dev/null -w '%{time_total}\n' -H 'Accept-Encoding: gzip' "$url"
    done | sort -n | awk '{v[NR] = $1 * 1000} END {printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
  done
  stop_pid "$KPID" "khabar serve ($site)"
  KPID=
done

# ---------------------------------------------------------------- report
echo
echo "uncached render, median of $ROUNDS sequential GETs (gzip), demo vs grown by $ARTICLES articles — $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(revision)"
echo "binary $BIN"
printf '%-14s %-12s %10s %10s %8s  %s\n' page path 'demo ms' 'grown ms' ratio verdict
failed=0
for page in "${PAGES[@]}"; do
  demo=${MEDIAN[demo.$page]} grown=${MEDIAN[grown.$page]}
  ratio=$(awk -v a="$grown" -v b="$demo" 'BEGIN{printf "%.2f", (b > 0) ? a / b : 0}')
  if [[ $page == home ]]; then
    verdict="(no verdict: most-read sums the window's reads)"
  elif awk -v r="$ratio" -v m="$MAX_RATIO" 'BEGIN{exit !(r <= m)}'; then
    verdict="PASS (<= ${MAX_RATIO}x)"
  else
    verdict="FAIL (> ${MAX_RATIO}x)"
    failed=1
  fi
  printf '%-14s %-12s %10s %10s %7sx  %s\n' "$page" "${PATHOF[$page]:0:12}" "$demo" "$grown" "$ratio" "$verdict"
done
((failed == 0)) || exit 2
