#!/usr/bin/env bash
# bench/search.sh — Arabic search at newsroom scale: how long the index takes
# to build, how big it is, how fast queries answer, and the memory it takes:
#   * the corpus: ARTICLES synthetic published articles (title ~10 words,
#     summary ~25, body ~WORDS in 4-7 paragraphs of sentences with commas and
#     full stops) in 6 sections, published over the last two years, made at
#     run time (never committed) with a fixed SEED. Words are drawn with their
#     real frequencies from PyPI `wordfreq`'s Arabic list (top 30,000; the
#     package is installed into a venv in the temp dir), or, when that cannot
#     be had, from Debian's hunspell-ar dictionary with a Zipf law over a
#     seeded shuffle of its words (headed by common function words); the
#     summary says which. Past the first 150 (function) words, 10% of a word's
#     uses carry a prefix (و, ال, وال, بال) and 1.5% of the tokens are numbers,
#     half of them in Arabic-Indic digits, so the analyzer has real work. The
#     site is made by `khabar serve` on a new folder (all migrations), then
#     filled in one SQLite transaction by a Python script;
#   * index build: `khabar reindex --data DIR` under /usr/bin/time -v: wall
#     time (PASS when < 90 s), CPU time and peak RSS; it must report indexing
#     all ARTICLES. Index size: du of DIR/index, and its segments;
#   * queries: `khabar serve` on that folder (it must open the index as
#     built, not rebuild it: reindex recorded its place in the change log),
#     then QUERIES GETs of /api/content/search (top 10
#     with snippets), one at a time on one keep-alive connection, after 50 not
#     counted: single common words, rare words, 2-3 words, quoted phrases
#     taken from generated articles, prefixed words, Arabic-Indic numbers
#     (alone or after a word), words with one letter changed (close
#     spellings), and words with a section filter. Latency is timed by the
#     client from sending to the whole answer read: p50/p90/p99/max (PASS
#     when p99 < 20 ms), also by kind; the share of queries with a hit; every
#     answer must be 200 with the JSON promised. The server's peak RSS
#     (VmHWM) is read after the queries.
#   * feeds and sitemaps at this scale (informational, no goal): each of the
#     sitemap index, article sitemap pages 1 and 2 (50,000 URLs each), the
#     pages and news sitemaps and both site feeds is fetched twice with curl:
#     the first GET renders it, the second is served from the page cache.
# The CPUs' idle share is sampled for a second before the build and before the
# queries (a warning under 90%: others' builds spoil the figures). `khabar
# reindex` lowers its own priority (nice 10), so a busy machine slows it more.
# Exit status: 0 when every check passes, 2 when one fails, 1 on error.
#
# Usage: bench/search.sh            (from anywhere; builds the release binary)
# Env:   ARTICLES=100000            articles generated
#        WORDS=400                  mean words in an article's body
#        QUERIES=1000               queries timed (after 50 of warm-up)
#        SEED=1                     the corpus and the queries (same SEED, same text)
#        WORDLIST=auto              auto (wordfreq, else hunspell-ar), wordfreq or hunspell
#        KHABAR=target/release/khabar   the binary (SKIP_BUILD=1 to use it as it is)
#        SKIP_BUILD=1               do not run `cargo build --release -p khabar` first
#        KEEP=1                     keep the temp dir (the site with its index, the venv)
# Everything runs on 127.0.0.1 only and is stopped on exit. With the defaults a
# run takes 4-6 minutes on 2 cores (1-2 to generate, about 1.5 to index) and
# needs about 1.5 GB free in TMPDIR.
set -euo pipefail

ARTICLES=${ARTICLES:-100000}
WORDS=${WORDS:-400}
QUERIES=${QUERIES:-1000}
SEED=${SEED:-1}
WORDLIST=${WORDLIST:-auto}
KEEP=${KEEP:-0}
WARMUP=50
LIMIT_BUILD_S=90     # khabar reindex, wall clock
LIMIT_P99_MS=20      # query latency, client side
QUIET_AFTER_S=0      # seconds the insert must be old before the server starts (none needed)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ -d $HOME/.cargo/bin ]] && PATH=$HOME/.cargo/bin:$PATH

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

posint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
posint "$ARTICLES" || die "ARTICLES must be a positive whole number"
if ! posint "$WORDS" || ((WORDS < 20)); then die "WORDS must be a whole number of at least 20"; fi
posint "$QUERIES" || die "QUERIES must be a positive whole number"
[[ $SEED =~ ^[0-9]+$ ]] || die "SEED must be a whole number"
[[ $WORDLIST == auto || $WORDLIST == wordfreq || $WORDLIST == hunspell ]] || die "WORDLIST must be auto, wordfreq or hunspell"

# ---------------------------------------------------------------- tools
need_pkgs=()
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3 python3-venv)
[[ -x /usr/bin/time ]] || need_pkgs+=(time)
command -v timeout >/dev/null 2>&1 || need_pkgs+=(coreutils)
apt_install() {
  log "installing missing tools: $*"
  SUDO=; [[ $(id -u) == 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@"
}
((${#need_pkgs[@]} == 0)) || apt_install "${need_pkgs[@]}"
python3 -c 'import sqlite3, multiprocessing' 2>/dev/null || die "python3 lacks the sqlite3 module"

# ---------------------------------------------------------------- build
build_khabar
"$BIN" reindex --help >/dev/null 2>&1 || die "$BIN has no reindex command (a build without search?)"

# ---------------------------------------------------------------- temp + cleanup
T=$(mktemp -d "${TMPDIR:-/tmp}/khabar-search.XXXXXX")
KPID=  # khabar serve
JPID=  # the step running in the background: pip, the generator, khabar reindex, the query client


stop_on_exit "JPID:the current step" "KPID:khabar"

OUT_DIR=$ROOT/bench/out/search-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT_DIR"
DATA=$T/site
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


IDLE_CPUS=()
idle_check() { # phase
  local idle
  idle=$(cpu_idle_pct)
  IDLE_CPUS+=("$1 ${idle}%")
  if ((idle < 90)); then
    echo "   warning: the CPUs were only ${idle}% idle just before the $1 (something else is running: $(ps -eo comm= --sort=-pcpu | awk 'NR<=3' | paste -sd, -)); figures will be low and noisy" >&2
  fi
}

proc_kb() { # pid field (VmHWM, VmRSS) -> kB
  awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}
mb() { awk -v k="$1" 'BEGIN{printf "%.1f", k / 1024}'; }

# ---------------------------------------------------------------- helper scripts
cat >"$T/wordfreq_list.py" <<'PY'
# wordfreq_list.py OUT: the 30,000 most frequent Arabic words and their frequencies
import sys
import wordfreq
with open(sys.argv[1], "w", encoding="utf-8") as out:
    for word in wordfreq.top_n_list("ar", 30000):
        out.write(f"{word}\t{wordfreq.word_frequency(word, 'ar')}\n")
PY

cat >"$T/hunspell_list.py" <<'PY'
# hunspell_list.py DIC OUT SEED: 30,000 words of the hunspell-ar dictionary with
# Zipf weights (1/rank). The dictionary is alphabetical, so its words are ranked
# by a seeded shuffle, after the function words that head any real Arabic text.
import random
import sys
dic, out_file, seed = sys.argv[1:4]
HEAD = ("في من على أن إلى عن مع هذا التي الذي كان ما لا هذه بعد ذلك بين قد كل أو حتى قبل هو هي وقد كما "
        "عند لم إن ثم منذ خلال حيث غير أكثر عام يوم").split()
ARABIC = set(chr(c) for c in range(0x0621, 0x063B)) | set(chr(c) for c in range(0x0641, 0x064B))
words, seen = [], set(HEAD)
with open(dic, encoding="utf-8", errors="replace") as f:
    for line in f:
        word = line.split("/")[0].strip()
        if len(word) >= 2 and all(c in ARABIC for c in word) and word not in seen:
            seen.add(word)
            words.append(word)
random.Random(f"khabar-search-bench-hunspell:{seed}").shuffle(words)
with open(out_file, "w", encoding="utf-8") as out:
    for rank, word in enumerate(HEAD + words[: 30000 - len(HEAD)]):
        out.write(f"{word}\t{1.0 / (rank + 1)}\n")
PY

cat >"$T/gen.py" <<'PY'
# gen.py DB ARTICLES WORDS SEED SOURCE WORDLIST_FILE OUT_DIR
# Fills a khabar SQLite database (made by `khabar serve`, all migrations
# applied) with sections and ARTICLES published articles of about WORDS words,
# drawn from an Arabic word list with its frequencies, and writes the queries
# the benchmark runs (OUT_DIR/queries.jsonl, warm-up first) and what it made
# (OUT_DIR/corpus.json). Deterministic for a given SEED.
import bisect
import json
import math
import multiprocessing
import os
import random
import sqlite3
import sys
import time

db_path, n_articles, n_words, seed, source, wordlist_file, out_dir = sys.argv[1:8]
n_articles, n_words, seed = int(n_articles), int(n_words), int(seed)
n_queries, n_warmup = int(os.environ.get("QUERIES", "1000")), int(os.environ.get("WARMUP", "50"))
started = time.monotonic()

ARABIC = set(chr(c) for c in range(0x0621, 0x063B)) | set(chr(c) for c in range(0x0641, 0x064B))
LETTERS = sorted(ARABIC - {"ء", "آ", "أ", "ؤ", "إ", "ئ", "ة", "ى"})
INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
NOW = int(time.time())
TWO_YEARS = 2 * 365 * 86400

# ------------------------------------------------------------ the word list: (word, weight), most frequent first
pairs = []
with open(wordlist_file, encoding="utf-8") as f:
    for line in f:
        word, _, weight = line.rstrip("\n").partition("\t")
        if len(word) >= 2 and all(c in ARABIC for c in word):
            pairs.append((word, float(weight)))
if len(pairs) < 1000:
    sys.exit(f"gen.py: only {len(pairs)} usable Arabic words in {wordlist_file}")
base_words = [w for w, _ in pairs]
rank_of = {w: i for i, w in enumerate(base_words)}

# Surface forms: every word as listed, and content words (past the first 150,
# mostly function words) also with a conjunction / article / preposition
# attached, as Arabic writes them; plus numbers in both digit shapes. One
# weighted draw per token over these.
PREFIXED_SHARE = 0.10
PREFIXES = [("و", 0.40), ("ال", 0.30), ("وال", 0.15), ("بال", 0.15)]
NUMBER_SHARE = 0.015
forms, weights = [], []
total_weight = sum(w for _, w in pairs)
for rank, (word, weight) in enumerate(pairs):
    share = weight / total_weight
    if rank < 150 or word.startswith(("و", "ب", "ف", "ل", "ك")):
        forms.append(word)
        weights.append(share)
        continue
    forms.append(word)
    weights.append(share * (1 - PREFIXED_SHARE))
    for prefix, part in PREFIXES:
        if prefix.endswith("ال") and word.startswith("ال"):
            prefix = prefix[: -2] or "و"
        forms.append(prefix + word)
        weights.append(share * PREFIXED_SHARE * part)
numbers = [str(y) for y in range(1990, 2027)] + [str(n) for n in range(2, 100)] + [str(n * 100) for n in range(1, 50)]
number_weight = (sum(weights) * NUMBER_SHARE / (1 - NUMBER_SHARE)) / (2 * len(numbers))
for n in numbers:
    for shown in (n, n.translate(INDIC)):
        forms.append(shown)
        weights.append(number_weight)
cum = []
acc = 0.0
for w in weights:
    acc += w
    cum.append(acc)

SECTIONS = [  # slug, name, share of the articles
    ("politics", "سياسة", 0.30), ("economy", "اقتصاد", 0.20), ("sports", "رياضة", 0.15),
    ("culture", "ثقافة", 0.12), ("technology", "تكنولوجيا", 0.10), ("local", "محليات", 0.13),
]

# ------------------------------------------------------------ the database
con = sqlite3.connect(db_path, isolation_level=None)
con.execute("PRAGMA synchronous = OFF")
con.execute("PRAGMA cache_size = -200000")
columns = con.execute("PRAGMA table_info(articles)").fetchall()
FILLED = {"slug", "title", "summary", "body_markdown", "body_html", "word_count", "status", "section_id",
          "breaking", "featured_caption", "featured_credit", "published_at", "created_at", "updated_at"}
missing = [c[1] for c in columns if c[3] and c[4] is None and c[5] == 0 and c[1] not in FILLED]
if missing:
    sys.exit(f"gen.py: articles has NOT NULL columns without a default this script does not fill: {missing}")
if con.execute("SELECT COUNT(*) FROM articles").fetchone()[0]:
    sys.exit("gen.py: the site already has articles")

con.execute("BEGIN")
section_ids = []
for position, (slug, name, _) in enumerate(SECTIONS):
    cur = con.execute(
        "INSERT INTO sections (name, slug, description, position, created_at) VALUES (?, ?, ?, ?, ?)",
        (name, slug, f"أخبار {name}", position, NOW - TWO_YEARS - 86400),
    )
    section_ids.append(cur.lastrowid)
section_cum = []
acc = 0.0
for _, _, share in SECTIONS:
    acc += share
    section_cum.append(acc)

CHUNK = 500


def sentences(rng, tokens, min_len, max_len):
    """Cuts tokens into sentences: (words, index of the word a comma follows, or -1)."""
    out, i = [], 0
    while i < len(tokens):
        k = rng.randint(min_len, max_len)
        words = tokens[i : i + k]
        i += k
        comma = rng.randrange(2, len(words) - 1) if len(words) >= 6 and rng.random() < 0.5 else -1
        out.append((words, comma))
    return out


def render(sentence):
    words, comma = sentence
    text = " ".join(words[: comma + 1]) + "، " + " ".join(words[comma + 1 :]) if comma >= 0 else " ".join(words)
    return text + "."


def make_chunk(chunk):
    """Articles chunk*CHUNK.. as rows, with a few phrases and numbers seen in them; its own
    random stream, so the corpus is the same however the chunks are spread over processes."""
    rng = random.Random(f"khabar-search-bench:{seed}:{chunk}")
    rows, phrases, numbers_seen, words_body, words_all = [], [], [], 0, 0
    for i in range(chunk * CHUNK, min(n_articles, (chunk + 1) * CHUNK)):
        n_title = rng.randint(8, 12)
        n_summary = rng.randint(20, 30)
        n_body = max(20, int(rng.gauss(n_words, n_words * 0.12)))
        tokens = rng.choices(forms, cum_weights=cum, k=n_title + n_summary + n_body)
        title = " ".join(tokens[:n_title])
        summary = " ".join(tokens[n_title : n_title + n_summary]) + "."
        body_tokens = tokens[n_title + n_summary :]
        sents = sentences(rng, body_tokens, 6, 18)
        n_par = rng.randint(4, 7)
        per = max(1, math.ceil(len(sents) / n_par))
        paragraphs = [" ".join(render(s) for s in sents[p : p + per]) for p in range(0, len(sents), per)]
        if i % 40 == 0:
            words, comma = rng.choice(sents)
            if len(words) >= 4:
                j = rng.randrange(0, len(words) - 2)
                if comma not in (j, j + 1):
                    phrases.append(words[j : j + (3 if rng.random() < 0.3 else 2)])
            numbers_seen.extend(t for t in body_tokens if t[0].isdigit())
        words_body += n_body
        words_all += n_title + n_summary + n_body
        published = NOW - 60 - rng.randrange(TWO_YEARS)
        section = section_ids[min(len(section_ids) - 1, bisect.bisect(section_cum, rng.random() * section_cum[-1]))]
        rows.append((
            "-".join(tokens[: min(6, n_title)]), title, summary, "\n\n".join(paragraphs),
            "".join(f"<p>{p}</p>\n" for p in paragraphs), n_body, "published", section, 0, None, "", "",
            published, published - rng.randrange(3600), published,
        ))
    return rows, phrases, numbers_seen, words_body, words_all


SQL = ("INSERT INTO articles (slug, title, summary, body_markdown, body_html, word_count, status, section_id, "
       "breaking, featured_image, featured_caption, featured_credit, published_at, created_at, updated_at) "
       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
chunks = math.ceil(n_articles / CHUNK)
phrase_pool, number_pool, words_body, words_all, done = [], [], 0, 0, 0
processes = max(1, min(int(os.environ.get("GEN_PROCESSES", "0")) or os.cpu_count() or 1, 8))
with multiprocessing.get_context("fork").Pool(processes) as pool:
    for rows, phrases, numbers_seen, body, everything in pool.imap(make_chunk, range(chunks)):
        con.executemany(SQL, rows)
        phrase_pool += phrases
        number_pool += numbers_seen[: max(0, 2000 - len(number_pool))]
        words_body += body
        words_all += everything
        done += len(rows)
        if done % 10000 < CHUNK or done == n_articles:
            print(f"   {done}/{n_articles} articles ({time.monotonic() - started:.0f} s)", flush=True)
con.execute("COMMIT")
inserted = con.execute("SELECT COUNT(*) FROM articles WHERE status = 'published'").fetchone()[0]
con.close()
inserted_at = time.time()
if not phrase_pool:
    phrase_pool.append(base_words[200:202])

# ------------------------------------------------------------ the queries
qrng = random.Random(f"khabar-search-bench-queries:{seed}")
n_base = len(base_words)


def word_in(lo, hi, plain=False):
    """A listed word of rank lo..hi; plain: one that takes a prefix in the corpus (none of its own)."""
    while True:
        w = base_words[qrng.randrange(min(lo, n_base - 1), min(hi, n_base))]
        if not plain or not w.startswith(("ال", "و", "ب", "ف", "ل", "ك")):
            return w


def misspell(w):
    chars = list(w)
    k = qrng.randrange(1, len(chars))
    chars[k] = qrng.choice([c for c in LETTERS if c != chars[k]])
    return "".join(chars)


MIX = [  # kind, share
    ("common", 0.18), ("rare", 0.12), ("multi", 0.18), ("phrase", 0.10), ("prefixed", 0.10),
    ("digits", 0.07), ("misspelled", 0.10), ("section", 0.15),
]


def query(kind):
    if kind == "common":
        return word_in(100, 1500), ""
    if kind == "rare":
        return word_in(12000, n_base), ""
    if kind == "multi":
        return " ".join(word_in(50, 8000) for _ in range(qrng.randint(2, 3))), ""
    if kind == "phrase":
        return '"' + " ".join(qrng.choice(phrase_pool)) + '"', ""
    if kind == "prefixed":
        prefix = qrng.choice(["و", "ال", "وال", "بال"])
        return prefix + word_in(150, 5000, plain=True), ""
    if kind == "digits":
        n = qrng.choice(number_pool or numbers).translate(INDIC)
        return (n if qrng.random() < 0.5 else word_in(100, 3000) + " " + n), ""
    if kind == "misspelled":
        while True:
            w = word_in(300, 20000)
            if len(w) >= 5:
                return misspell(w), ""
    if kind == "section":
        q = word_in(100, 3000) if qrng.random() < 0.6 else " ".join(word_in(50, 5000) for _ in range(2))
        return q, qrng.choice(SECTIONS)[0]
    raise ValueError(kind)


kinds = [k for k, _ in MIX]
mix_cum = []
acc = 0.0
for _, share in MIX:
    acc += share
    mix_cum.append(acc)
with open(os.path.join(out_dir, "queries.jsonl"), "w", encoding="utf-8") as f:
    for n in range(n_warmup + n_queries):
        kind = qrng.choices(kinds, cum_weights=mix_cum)[0]
        q, section = query(kind)
        f.write(json.dumps({"warmup": n < n_warmup, "kind": kind, "q": q, "section": section}, ensure_ascii=False) + "\n")

with open(os.path.join(out_dir, "corpus.json"), "w", encoding="utf-8") as f:
    json.dump({
        "articles": inserted, "words_body": words_body, "words_all": words_all,
        "vocabulary": n_base, "surface_forms": len(forms), "source": source, "seed": seed,
        "sections": len(SECTIONS), "seconds": round(time.monotonic() - started, 1), "inserted_at": inserted_at,
    }, f)
print(f"   {inserted} articles, {words_all} words, {n_base} distinct base words ({source})", flush=True)
PY

cat >"$T/client.py" <<'PY'
# client.py PORT QUERIES_JSONL OUT_JSONL
# Sends the queries one after another on one keep-alive connection to
# GET /api/content/search and times each (request sent -> whole answer read).
# The warm-up queries (first in the file) are sent but not counted. Prints
# key=value lines for the shell, then a table by kind.
import http.client
import json
import sys
import time
import urllib.parse

port, queries_file, out_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
queries = [json.loads(line) for line in open(queries_file, encoding="utf-8")]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)


def get(path):
    """One GET on the kept connection; reconnects once if the server closed it."""
    global conn
    for attempt in (1, 2):
        try:
            started = time.perf_counter()
            conn.request("GET", path, headers={"Accept": "application/json"})
            response = conn.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - started
            return response.status, body, elapsed, attempt
        except (http.client.HTTPException, ConnectionError) as error:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            if attempt == 2:
                raise SystemExit(f"client.py: GET {path}: {error}")


results = []
reconnects = 0
with open(out_file, "w", encoding="utf-8") as out:
    for query in queries:
        path = "/api/content/search?q=" + urllib.parse.quote(query["q"], safe="")
        if query["section"]:
            path += "&section=" + urllib.parse.quote(query["section"], safe="")
        status, body, elapsed, attempt = get(path)
        reconnects += attempt - 1
        total = hits = -1
        if status == 200:
            try:
                answer = json.loads(body)
                total, hits = int(answer["total"]), len(answer["hits"])
            except (ValueError, KeyError, TypeError):
                status = -1  # an answer that is not the JSON promised
        if query["warmup"]:
            continue
        row = dict(query, ms=round(elapsed * 1000, 3), status=status, total=total, hits=hits, bytes=len(body))
        del row["warmup"]
        results.append(row)
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
conn.close()


def pct(values, p):
    """Nearest-rank percentile of sorted values."""
    if not values:
        return 0.0
    k = max(1, min(len(values), -(-len(values) * p // 100)))
    return values[int(k) - 1]


ms = sorted(r["ms"] for r in results)
errors = [r for r in results if r["status"] != 200]
with_hits = [r for r in results if r["hits"] > 0]
print(f"N={len(results)}")
print(f"ERRORS={len(errors)}")
print(f"RECONNECTS={reconnects}")
print(f"WITH_HITS={len(with_hits)}")
for p in (50, 90, 99):
    print(f"P{p}={pct(ms, p):.3f}")
print(f"MAX={ms[-1] if ms else 0:.3f}")
print(f"MEAN={sum(ms) / max(1, len(ms)):.3f}")
print("TABLE_BEGIN")
print(f"    {'kind':<11} {'queries':>7} {'with hits':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
for kind in sorted({r["kind"] for r in results}):
    rows = [r for r in results if r["kind"] == kind]
    kms = sorted(r["ms"] for r in rows)
    hit = sum(1 for r in rows if r["hits"] > 0)
    print(f"    {kind:<11} {len(rows):>7} {100 * hit / len(rows):>8.0f}% {pct(kms, 50):>8.2f} {pct(kms, 99):>8.2f} {kms[-1]:>8.2f}")
print("    slowest:")
for r in sorted(results, key=lambda r: -r["ms"])[:5]:
    section = f" &section={r['section']}" if r["section"] else ""
    print(f"      {r['ms']:8.2f} ms  {r['kind']:<10} total {r['total']:>6}  q={r['q']}{section}")
if errors:
    print("    errors:")
    for r in errors[:5]:
        print(f"      HTTP {r['status']}  q={r['q']}")
print("TABLE_END")
PY

# ---------------------------------------------------------------- 1. the word list
WORD_TSV=$T/words.tsv
SOURCE=
if [[ $WORDLIST != hunspell ]]; then
  log "word list: PyPI wordfreq (Arabic, the 30000 most frequent) in a venv under the temp dir"
  if run_bg 300 "$T/pip.log" python3 -m venv "$T/venv" \
    && run_bg 600 "$T/pip.log" "$T/venv/bin/pip" install --quiet --disable-pip-version-check wordfreq \
    && run_bg 300 "$T/pip.log" "$T/venv/bin/python" "$T/wordfreq_list.py" "$WORD_TSV"; then
    SOURCE="wordfreq $("$T/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("wordfreq"))' 2>/dev/null || echo '?') (Arabic, real frequencies)"
  else
    tail -n 5 "$T/pip.log" >&2
    [[ $WORDLIST == auto ]] || die "could not get the wordfreq list (see above)"
    echo "   warning: wordfreq could not be had; falling back to hunspell-ar" >&2
  fi
fi
if [[ -z $SOURCE ]]; then
  DIC=/usr/share/hunspell/ar.dic
  [[ -f $DIC ]] || apt_install hunspell-ar
  [[ -f $DIC ]] || die "no $DIC after installing hunspell-ar"
  log "word list: Debian hunspell-ar ($DIC), Zipf weights over a seeded shuffle"
  python3 "$T/hunspell_list.py" "$DIC" "$WORD_TSV" "$SEED" || die "could not read $DIC"
  SOURCE="hunspell-ar $(dpkg-query -W -f '${Version}' hunspell-ar 2>/dev/null || echo '?') (Zipf 1/rank over a seeded shuffle)"
fi
echo "   $(wc -l <"$WORD_TSV") words: $SOURCE"

# ---------------------------------------------------------------- 2. an empty site
KPORT=$(free_port)
log "khabar serve on a new folder ($DATA, 127.0.0.1:$KPORT), stopped once it answers: an empty site, every migration applied"
"$BIN" serve --data "$DATA" --addr "127.0.0.1:$KPORT" >>"$T/khabar.log" 2>&1 &
KPID=$!
wait_ready "$KPORT" "$KPID" 120 "khabar serve" "$T/khabar.log"
stop_pid "$KPID" khabar
KPID=
[[ -s $DATA/khabar.db ]] || die "no $DATA/khabar.db after khabar serve"

# ---------------------------------------------------------------- 3. the corpus
log "generating $ARTICLES articles of ~$WORDS words (SEED=$SEED) into $DATA/khabar.db, and $QUERIES queries (+$WARMUP warm-up)"
GEN_T0=$(now_s)
export QUERIES WARMUP
run_bg 3600 /dev/stdout python3 -u "$T/gen.py" "$DATA/khabar.db" "$ARTICLES" "$WORDS" "$SEED" \
  "$SOURCE" "$WORD_TSV" "$T" || die "generating the corpus failed"
GEN_S=$(since "$GEN_T0")
cp "$T/corpus.json" "$T/queries.jsonl" "$OUT_DIR/"
json_val() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$T/corpus.json" "$1"; }
CORPUS_ARTICLES=$(json_val articles)
WORDS_ALL=$(json_val words_all)
WORDS_BODY=$(json_val words_body)
VOCABULARY=$(json_val vocabulary)
INSERTED_AT=$(json_val inserted_at)
((CORPUS_ARTICLES == ARTICLES)) || die "the database holds $CORPUS_ARTICLES published articles, not $ARTICLES"
DB_BYTES=$(du -cb "$DATA"/khabar.db* | awk 'END{print $1}')
echo "   done in $GEN_S s; database $(awk -v b="$DB_BYTES" 'BEGIN{printf "%.0f", b / 1048576}') MB"

# ---------------------------------------------------------------- 4. the index build
idle_check "index build"
log "index build: khabar reindex --data $DATA, under /usr/bin/time -v"
rc=0
run_bg 1800 "$OUT_DIR/reindex.txt" /usr/bin/time -v -o "$OUT_DIR/reindex-time.txt" "$BIN" reindex --data "$DATA" || rc=$?
((rc == 0)) || { tail -n 20 "$OUT_DIR/reindex.txt" >&2; die "khabar reindex failed (exit $rc; 124 is the 30 min limit)"; }
INDEXED=$(awk '/^indexed [0-9]+ articles in /{print $2}' "$OUT_DIR/reindex.txt")
KHABAR_BUILD_S=$(awk '/^indexed [0-9]+ articles in /{print $5}' "$OUT_DIR/reindex.txt")
[[ -n $INDEXED ]] || { cat "$OUT_DIR/reindex.txt" >&2; die "khabar reindex did not print 'indexed N articles in X s'"; }
tv() { awk -F': ' -v k="$1" 'index($0, k) {print $NF}' "$OUT_DIR/reindex-time.txt" | tail -n 1; }
BUILD_S=$(tv 'Elapsed (wall clock) time' | awk -F: '{s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.1f", s}')
BUILD_USER=$(tv 'User time (seconds)')
BUILD_SYS=$(tv 'System time (seconds)')
BUILD_CPU_PCT=$(tv 'Percent of CPU this job got')
REINDEX_RSS_KB=$(tv 'Maximum resident set size (kbytes)')
[[ -n $BUILD_S && -n $REINDEX_RSS_KB ]] || die "could not read /usr/bin/time's report ($OUT_DIR/reindex-time.txt)"
INDEX_BYTES=$(du -sb "$DATA/index" | cut -f1)
read -r SEGMENTS INDEX_DOCS < <(python3 -c '
import json, sys
meta = json.load(open(sys.argv[1]))
segments = meta["segments"]
deleted = sum((s.get("deletes") or {}).get("num_deleted_docs", 0) for s in segments)
print(len(segments), sum(s["max_doc"] for s in segments) - deleted)' "$DATA/index/meta.json") || die "could not read $DATA/index/meta.json"
# Where the bytes go, by tantivy file kind (.pos positions, .idx postings, .term dictionary, .store stored fields, ...)
INDEX_PARTS=$(find "$DATA/index" -type f -name '*.*' -printf '%s %f\n' | awk '{n = split($2, p, "."); if (n > 1 && p[n] != "json" && p[n] != "lock") s[p[n]] += $1}
  END{for (k in s) printf "%s %.1f\n", k, s[k] / 1048576}' | sort -k2,2nr | awk '{printf "%s%s %s MB", (NR > 1 ? ", " : ""), $1, $2}')
cp "$DATA/index/meta.json" "$T/meta-built.json"
echo "   indexed $INDEXED articles: $BUILD_S s wall (khabar: $KHABAR_BUILD_S s), CPU ${BUILD_USER}s user + ${BUILD_SYS}s sys ($BUILD_CPU_PCT), peak RSS $(mb "$REINDEX_RSS_KB") MB"
echo "   index $(awk -v b="$INDEX_BYTES" 'BEGIN{printf "%.1f", b / 1048576}') MB in $SEGMENTS segments, $INDEX_DOCS documents ($INDEX_PARTS)"

# ---------------------------------------------------------------- 5. the server on the built index
# reindex recorded its place in the change log, so the server starts at rest
# (the summary checks that it did not touch the index). QUIET_AFTER_S can
# still make it wait for the insert to age, should that ever matter again.
wait_s=$(awk -v at="$INSERTED_AT" -v q="$QUIET_AFTER_S" -v now="$(date +%s.%N)" 'BEGIN{w = at + q - now; printf "%d", (w > 0) ? w + 1 : 0}')
if ((wait_s > 0)); then
  log "waiting ${wait_s} s, so the insert is older than the server's ${QUIET_AFTER_S} s look-back"
  sleep "$wait_s"
fi
KPORT=$(free_port)
KURL=http://127.0.0.1:$KPORT
log "khabar serve --data $DATA on 127.0.0.1:$KPORT (RUST_LOG=warn,khabar::search=info)"
SERVE_T0=$(now_s)
RUST_LOG=warn,khabar::search=info "$BIN" serve --data "$DATA" --addr "127.0.0.1:$KPORT" >>"$T/serve.log" 2>&1 &
KPID=$!
wait_ready "$KPORT" "$KPID" 600 "khabar serve" "$T/serve.log"
READY_S=$(since "$SERVE_T0")
sleep 1  # the search writer's first look at the change log
RSS_READY_KB=$(proc_kb "$KPID" VmRSS)
REBUILT=no
if grep -qE 'search index (rebuilt|unreadable or outdated)' "$T/serve.log"; then
  REBUILT=yes
  echo "   warning: the server rebuilt the index instead of opening it as built: $(grep -E 'search index' "$T/serve.log" | tail -n 1)" >&2
fi
echo "   /healthz after $READY_S s; RSS $(mb "$RSS_READY_KB") MB"

# ---------------------------------------------------------------- 6. the queries
idle_check queries
log "queries: $WARMUP warm-up, then $QUERIES timed, GET $KURL/api/content/search?q=... one at a time on one connection"
rc=0
run_bg $((120 + (QUERIES + WARMUP) / 2)) "$OUT_DIR/queries.txt" python3 -u "$T/client.py" "$KPORT" "$T/queries.jsonl" "$OUT_DIR/results.jsonl" || rc=$?
((rc == 0)) || { tail -n 20 "$OUT_DIR/queries.txt" >&2; tail -n 20 "$T/serve.log" >&2; die "the query client failed (exit $rc)"; }
kv() { awk -F= -v k="$1" '$1 == k {print $2}' "$OUT_DIR/queries.txt"; }
Q_N=$(kv N) Q_ERRORS=$(kv ERRORS) Q_HITS=$(kv WITH_HITS) Q_RECONNECTS=$(kv RECONNECTS)
P50=$(kv P50) P90=$(kv P90) P99=$(kv P99) PMAX=$(kv MAX) PMEAN=$(kv MEAN)
[[ -n $Q_N && -n $P99 ]] || die "could not read the client's figures ($OUT_DIR/queries.txt)"
((Q_N == QUERIES)) || die "the client timed $Q_N queries, not $QUERIES"
HIT_PCT=$(awk -v h="$Q_HITS" -v n="$Q_N" 'BEGIN{printf "%.1f", 100 * h / n}')
printf '   p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; %s%% with a hit; %s errors\n' "$P50" "$P90" "$P99" "$PMAX" "$HIT_PCT" "$Q_ERRORS"
SERVER_HWM_KB=$(proc_kb "$KPID" VmHWM)
SERVER_RSS_KB=$(proc_kb "$KPID" VmRSS)
SERVER_RSS_FILE_KB=$(proc_kb "$KPID" RssFile)  # mostly the index's memory-mapped files
kill -0 "$KPID" 2>/dev/null || die "khabar serve died during the queries"
INDEX_CHANGED=no
cmp -s "$T/meta-built.json" "$DATA/index/meta.json" || INDEX_CHANGED=yes

# Feeds and sitemaps at this scale (informational): the first GET renders
# (the sitemaps read up to 50,000 rows), the second comes from the page cache.
log "feeds and sitemaps on $ARTICLES articles: first GET (rendered), second (cached)"
: >"$OUT_DIR/documents.txt"
for path in /sitemap.xml '/sitemaps/articles.xml?page=1' '/sitemaps/articles.xml?page=2' /sitemaps/pages.xml \
  /news-sitemap.xml /feed.xml /atom.xml; do
  timed() { curl -s -o /dev/null -H 'Accept-Encoding: gzip' -w '%{http_code} %{time_total} %{size_download}' "$KURL$path"; }
  read -r code_cold cold size <<<"$(timed)"
  read -r code_warm warm _ <<<"$(timed)"
  [[ $code_cold == 200 && $code_warm == 200 ]] || die "GET $path answered $code_cold then $code_warm"
  printf '  %-32s rendered %8.1f ms   cached %6.2f ms   %8.1f KB gzip\n' "$path" \
    "$(awk -v t="$cold" 'BEGIN{print t * 1000}')" "$(awk -v t="$warm" 'BEGIN{print t * 1000}')" \
    "$(awk -v b="$size" 'BEGIN{print b / 1024}')" >>"$OUT_DIR/documents.txt"
done
cat "$OUT_DIR/documents.txt"
grep -E 'WARN|ERROR' "$T/serve.log" | tail -n 20 >"$OUT_DIR/serve-warnings.txt" || true
tail -n 50 "$T/serve.log" >"$OUT_DIR/serve-log-tail.txt" 2>/dev/null || true

# ---------------------------------------------------------------- report
pass_if() { [[ $1 == OK || $1 == 1 ]] && echo PASS || echo FAIL; }
V_BUILD=$(pass_if "$(verdict "$BUILD_S" "<" "$LIMIT_BUILD_S")")
V_P99=$(pass_if "$(verdict "$P99" "<" "$LIMIT_P99_MS")")
V_COUNT=$(pass_if "$((INDEXED == ARTICLES && INDEX_DOCS == ARTICLES))")
V_ERRORS=$(pass_if "$((Q_ERRORS == 0))")
V_AS_BUILT=$(pass_if "$([[ $REBUILT == no ]] && echo 1)")
OVERALL=PASS
for v in "$V_BUILD" "$V_P99" "$V_COUNT" "$V_ERRORS" "$V_AS_BUILT"; do [[ $v == PASS ]] || OVERALL=FAIL; done
MBYTES() { awk -v b="$1" 'BEGIN{printf "%.1f MB", b / 1048576}'; }
{
  echo
  echo "khabar search — $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m), $(nproc) CPUs, commit $(revision)"
  echo "binary $BIN ($(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC'))"
  echo "CPUs idle just before: $(IFS=,; echo "${IDLE_CPUS[*]}" | sed 's/,/, /g'); load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo "corpus: $CORPUS_ARTICLES published articles in 6 sections over 2 years, $(awk -v w="$WORDS_ALL" 'BEGIN{printf "%.1f", w / 1e6}') M words" \
    "($(awk -v w="$WORDS_BODY" -v n="$CORPUS_ARTICLES" 'BEGIN{printf "%.0f", w / n}') per body on average), SEED=$SEED"
  echo "words: $SOURCE, $VOCABULARY distinct base words, 10% of content words prefixed, 1.5% numbers (half Arabic-Indic)"
  echo "generated and inserted in $GEN_S s; database $(MBYTES "$DB_BYTES")"
  echo
  printf '  index build (khabar reindex) %8.1f s wall   %s  (< %d s)   khabar says %s s; CPU %.1f s user + %.1f s sys (%s of a CPU)\n' \
    "$BUILD_S" "$V_BUILD" "$LIMIT_BUILD_S" "$KHABAR_BUILD_S" "$BUILD_USER" "$BUILD_SYS" "$BUILD_CPU_PCT"
  printf '  articles indexed             %8d          %s  (= ARTICLES; %d documents in the index)\n' "$INDEXED" "$V_COUNT" "$INDEX_DOCS"
  printf '  index size                   %10s      %d segments: %s\n' "$(MBYTES "$INDEX_BYTES")" "$SEGMENTS" "$INDEX_PARTS"
  printf '  reindex peak RSS             %8.1f MB\n' "$(mb "$REINDEX_RSS_KB")"
  printf '  server ready                 %8.1f s       opened the index as built: %s  %s\n' "$READY_S" "$([[ $REBUILT == no ]] && echo yes || echo 'no (it rebuilt it)')" "$V_AS_BUILT"
  printf '  queries                      %8d          after %d warm-up; sequential, one keep-alive connection, top 10 with snippets\n' "$Q_N" "$WARMUP"
  printf '  latency p50 / p90 / p99      %.2f / %.2f / %.2f ms   %s  (p99 < %d ms)\n' "$P50" "$P90" "$P99" "$V_P99" "$LIMIT_P99_MS"
  printf '  latency max / mean           %.2f / %.2f ms\n' "$PMAX" "$PMEAN"
  printf '  answers not 200 + JSON       %8d          %s  (reconnections: %d)\n' "$Q_ERRORS" "$V_ERRORS" "$Q_RECONNECTS"
  printf '  queries with a hit           %7.1f%%\n' "$HIT_PCT"
  printf '  server VmHWM                 %8.1f MB     (RSS %.1f MB when ready; %.1f MB after the queries, %.1f MB of it file-backed: the mapped index)\n' \
    "$(mb "$SERVER_HWM_KB")" "$(mb "$RSS_READY_KB")" "$(mb "$SERVER_RSS_KB")" "$(mb "$SERVER_RSS_FILE_KB")"
  printf '  index changed while serving  %8s\n' "$INDEX_CHANGED"
  echo
  echo "  by kind of query:"
  awk '/^TABLE_BEGIN$/{on = 1; next} /^TABLE_END$/{on = 0} on' "$OUT_DIR/queries.txt"
  echo
  echo "  feeds and sitemaps (first GET rendered, second cached; client-side, curl):"
  cat "$OUT_DIR/documents.txt"
  echo
  echo "goal: index build < $LIMIT_BUILD_S s on 2 cores, query p99 < $LIMIT_P99_MS ms, for 100,000 articles of ~400 words"
  echo "overall: $OVERALL"
} | tee "$OUT_DIR/summary.txt"
echo "(raw output: $OUT_DIR)"
[[ $OVERALL == PASS ]] || exit 2
