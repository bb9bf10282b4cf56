#!/usr/bin/env bash
# bench/import.sh — moving a big WordPress site in: how long `khabar import
# wordpress` takes on a generated export and how much memory it needs.
#   * the export: bench/wxr_generate.py --posts POSTS --comments COMMENTS
#     --words WORDS --seed SEED (Arabic text, categories with parents, tags,
#     20 authors, every status, block and classic content, threaded comments
#     of every status), made at run time in the temp dir (EXPORT=FILE reuses one);
#   * the import: a new, empty site (only khabar.toml), then
#     `khabar import wordpress --data DIR export.xml` under /usr/bin/time -v:
#     wall time (PASS when < 180 s), CPU time and peak RSS (PASS when < 300 MB);
#     the report must account for every post the generator wrote (each status)
#     and its comments; the site's database size is shown;
#   * RERUN=1 also times a second import of the same file (nothing may change).
# The CPUs' idle share is sampled for a second before the import (a warning
# under 90%: others' builds spoil the figures). The import lowers its own CPU
# priority (nice 10), as bulk shell commands do, so a busy machine slows it more.
# Exit status: 0 when both goals are met, 2 when one is missed, 1 on error.
#
# Usage: bench/import.sh            (from anywhere; builds the release binary)
# Env:   POSTS=100000               posts generated
#        COMMENTS=10                comments on each published post
#        WORDS=400                  mean words in a post's body
#        SEED=1                     the export (same SEED, same bytes)
#        EXPORT=FILE                import this export instead of generating one
#        RERUN=1                    time a second, no-op import too
#        TIMEOUT_S=1200             the import is stopped after this long
#        KHABAR=target/release/khabar   the binary (SKIP_BUILD=1 to use it as it is)
#        SKIP_BUILD=1               do not run `cargo build --release -p khabar` first
#        KEEP=1                     keep the temp dir (the export and the site)
# Nothing listens on the network. With the defaults a run takes about 5
# minutes on 2 cores (about 2 to generate) and needs about 4 GB free in TMPDIR.
set -euo pipefail

POSTS=${POSTS:-100000}
COMMENTS=${COMMENTS:-10}
WORDS=${WORDS:-400}
SEED=${SEED:-1}
EXPORT=${EXPORT:-}
RERUN=${RERUN:-0}
TIMEOUT_S=${TIMEOUT_S:-1200}
KEEP=${KEEP:-0}
LIMIT_S=180
LIMIT_MB=300

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ -d $HOME/.cargo/bin ]] && PATH=$HOME/.cargo/bin:$PATH

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

posint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
posint "$POSTS" || die "POSTS must be a positive whole number"
[[ $COMMENTS =~ ^[0-9]+$ ]] || die "COMMENTS must be a whole number"
posint "$WORDS" || die "WORDS must be a positive whole number"
[[ $SEED =~ ^[0-9]+$ ]] || die "SEED must be a whole number"
posint "$TIMEOUT_S" || die "TIMEOUT_S must be a positive whole number"
[[ -z $EXPORT || -f $EXPORT ]] || die "EXPORT=$EXPORT is not a file"

need_pkgs=()
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3)
[[ -x /usr/bin/time ]] || need_pkgs+=(time)
if ((${#need_pkgs[@]} > 0)); then
  log "installing missing tools: ${need_pkgs[*]}"
  SUDO=; [[ $(id -u) == 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
fi

build_khabar
"$BIN" import wordpress --help >/dev/null 2>&1 || die "$BIN has no 'import wordpress' command"

T=$(mktemp -d "${TMPDIR:-/tmp}/khabar-import.XXXXXX")
JPID=  # the step running in the background: the generator, the import
stop_on_exit "JPID:the current step"
OUT_DIR=$ROOT/bench/out/import-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT_DIR"
export RUST_LOG=warn

run_bg() { # limit_s logfile command...: runs it in the background (so a signal stops it), waits; its exit status
  local limit=$1 logfile=$2 rc=0
  shift 2
  timeout --kill-after=10 "$limit" "$@" >>"$logfile" 2>&1 &
  JPID=$!
  wait "$JPID" || rc=$?
  JPID=
  return $rc
}
now_s() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN{printf "%.1f", b - a}'; }
field() { # label file -> the value after "label: " in /usr/bin/time -v output
  awk -F': ' -v k="$1" 'index($0, k) {print $2; exit}' "$2" | tr -d ' \t'
}
wall_s() { # h:mm:ss or m:ss.cc -> seconds
  awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<<"$1"
}

# ---------------------------------------------------------------- the export
if [[ -n $EXPORT ]]; then
  FILE=$EXPORT
  log "using the export $FILE ($(du -h "$FILE" | cut -f1))"
  GEN_S=-
else
  FILE=$T/export.xml
  log "generating $POSTS posts × $COMMENTS comments, ~$WORDS words (seed $SEED)"
  started=$(now_s)
  run_bg 1800 "$T/generate.log" python3 "$ROOT/bench/wxr_generate.py" --posts "$POSTS" --comments "$COMMENTS" \
    --words "$WORDS" --out "$FILE" --seed "$SEED" || { tail -n 20 "$T/generate.log" >&2; die "the generator failed"; }
  GEN_S=$(since "$started")
  log "generated $(du -h "$FILE" | cut -f1) in ${GEN_S} s"
  tail -n 8 "$T/generate.log" | sed 's/^/   /'
fi
EXPORT_BYTES=$(stat -c %s "$FILE")
POSTS_IN_FILE=$(grep -c '<wp:post_type><!\[CDATA\[post\]\]></wp:post_type>' "$FILE" || true)
TRASHED=$(grep -c '<wp:status><!\[CDATA\[trash\]\]></wp:status>' "$FILE" || true)

# ---------------------------------------------------------------- a new site
DATA=$T/site
mkdir -p "$DATA"
printf 'base_url = "http://127.0.0.1:8080"\n' >"$DATA/khabar.toml"

IDLE=$(cpu_idle_pct)
if ((IDLE < 90)); then
  echo "   warning: the CPUs were only ${IDLE}% idle just before the import (something else is running: $(ps -eo comm= --sort=-pcpu | awk 'NR<=3' | paste -sd, -)); figures will be low and noisy" >&2
fi

import_once() { # label -> fills WALL, CPU, RSS_MB, RC; the report in $T/report-label.txt
  local label=$1 times=$T/time-$1.txt
  log "khabar import wordpress ($label)"
  RC=0
  run_bg "$TIMEOUT_S" "$T/import-$label.log" /usr/bin/time -v -o "$times" \
    "$BIN" import wordpress --data "$DATA" "$FILE" || RC=$?
  [[ -s $times ]] || { tail -n 20 "$T/import-$label.log" >&2; die "the import did not finish within ${TIMEOUT_S} s"; }
  cp "$T/import-$label.log" "$OUT_DIR/report-$label.txt"
  WALL=$(wall_s "$(field 'Elapsed (wall clock) time' "$times")")
  CPU=$(awk -v u="$(field 'User time (seconds)' "$times")" -v s="$(field 'System time (seconds)' "$times")" 'BEGIN{printf "%.1f", u + s}')
  RSS_MB=$(mb_of "$(field 'Maximum resident set size (kbytes)' "$times")")
  sed 's/^/   /' "$T/import-$label.log" | grep -v '^   khabar: error' | head -n 14
  grep '^khabar: error' "$T/import-$label.log" | sed 's/^/   /' || true
  ((RC == 0 || RC == 1)) || die "the import failed (exit $RC)"
}
mb_of() { awk -v k="$1" 'BEGIN{printf "%.0f", k / 1024}'; }

import_once first
FIRST_WALL=$WALL FIRST_CPU=$CPU FIRST_RSS=$RSS_MB
REPORT=$T/import-first.log
ARTICLES_NEW=$(awk '/^articles:/{print $2}' "$REPORT")
COMMENTS_NEW=$(awk '/^comments:/{print $2}' "$REPORT")
LEFT_OUT=$(awk -F': ' '/^left out by design/{print $2}' "$REPORT")
CHECK=OK
if [[ $ARTICLES_NEW != $((POSTS_IN_FILE - TRASHED)) ]]; then
  echo "   the report's $ARTICLES_NEW new articles are not the $POSTS_IN_FILE posts less $TRASHED trashed" >&2
  CHECK=MISSED
fi
DB_MB=$(du -cm "$DATA"/khabar.db* | awk 'END{print $1}')

if [[ $RERUN == 1 ]]; then
  import_once again
  grep -q '^articles: 0 new, 0 updated' "$T/import-again.log" || { echo "   the second import changed articles" >&2; CHECK=MISSED; }
  AGAIN="second run ${WALL} s, peak RSS ${RSS_MB} MB"
fi

TIME_VERDICT=$(verdict "$FIRST_WALL" "<" "$LIMIT_S")
RSS_VERDICT=$(verdict "$FIRST_RSS" "<" "$LIMIT_MB")
SUMMARY=$OUT_DIR/summary.txt
{
  echo "bench/import.sh at $(revision), $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs ${IDLE}% idle before"
  echo "export: $POSTS_IN_FILE posts ($TRASHED trashed), $COMMENTS comments each on published posts, ~$WORDS words, $((EXPORT_BYTES / 1048576)) MB (generated in $GEN_S s)"
  echo "imported: $ARTICLES_NEW articles, $COMMENTS_NEW comments, $LEFT_OUT left out by design; database ${DB_MB} MB; report check $CHECK"
  printf '%-22s %10s %10s %8s\n' "" "measured" "goal" "verdict"
  printf '%-22s %10s %10s %8s\n' "import wall time (s)" "$FIRST_WALL" "< $LIMIT_S" "$TIME_VERDICT"
  printf '%-22s %10s %10s %8s\n' "peak RSS (MB)" "$FIRST_RSS" "< $LIMIT_MB" "$RSS_VERDICT"
  printf '%-22s %10s\n' "CPU time (s)" "$FIRST_CPU"
  [[ -z ${AGAIN:-} ]] || echo "$AGAIN"
} | tee "$SUMMARY"
log "saved to $OUT_DIR"
if [[ $TIME_VERDICT == OK && $RSS_VERDICT == OK && $CHECK == OK ]]; then
  echo "PASS"
  exit 0
fi
echo "MISSED"
exit 2
