//! Migrations that reshape tables must carry the rows already there: each
//! test builds a database as an earlier release left it (the migrations up
//! to a number), fills it the old way, then opens it with this release.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::Backend;
use khabar::polls::store::{Ballot, Counted};
use khabar::store::{Pool, Store};

/// The migrations of one backend numbered up to `last`, copied to a folder
/// of their own so sqlx runs just those.
fn migrations_up_to(backend: Backend, last: u32, into: &Path) -> PathBuf {
    let name = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(name);
    let target = into.join(format!("migrations-{name}-{last}"));
    std::fs::create_dir_all(&target).unwrap();
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let number: u32 = file.split('_').next().unwrap().parse().unwrap();
        if number <= last {
            std::fs::copy(&path, target.join(&file)).unwrap();
        }
    }
    target
}

/// An old database and the URL to open it with this release; for
/// PostgreSQL a schema of its own, dropped by `forget`.
struct OldDatabase {
    url: String,
    admin: Option<(String, String)>,
}

impl OldDatabase {
    async fn new(backend: Backend, last: u32, folder: &Path, fill: &str) -> Option<OldDatabase> {
        let migrations = sqlx::migrate::Migrator::new(migrations_up_to(backend, last, folder)).await.unwrap();
        match backend {
            Backend::Sqlite => {
                let path = folder.join("old.db");
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(&path)
                    .create_if_missing(true)
                    .foreign_keys(true);
                let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
                migrations.run(&pool).await.unwrap();
                sqlx::raw_sql(fill).execute(&pool).await.unwrap();
                pool.close().await;
                Some(OldDatabase { url: format!("sqlite://{}", path.display()), admin: None })
            }
            Backend::Postgres => {
                let admin_url = common::postgres_url()?;
                let schema = format!("khabar_migration_{:016x}", rand::random::<u64>());
                let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
                sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.unwrap();
                admin.close().await;
                let separator = if admin_url.contains('?') { '&' } else { '?' };
                let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
                let pool = sqlx::PgPool::connect(&url).await.unwrap();
                migrations.run(&pool).await.unwrap();
                sqlx::raw_sql(fill).execute(&pool).await.unwrap();
                pool.close().await;
                Some(OldDatabase { url, admin: Some((admin_url, schema)) })
            }
        }
    }

    async fn forget(self) {
        if let Some((admin_url, schema)) = self.admin {
            let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await.unwrap();
            admin.close().await;
        }
    }
}

/// Votes as release 0009 stored them: every answer a row of poll_vote_choices.
const VOTES_OF_0009: &str = "
INSERT INTO polls (id, question, multiple, placement, status, address_allowance, voters, created_by, created_at, updated_at)
VALUES (1, 'واحدة؟', FALSE, 'sidebar', 'open', 0, 2, 'test', 1, 1),
       (2, 'عدة؟', TRUE, 'sidebar', 'open', 5, 2, 'test', 1, 1);
INSERT INTO poll_options (id, poll_id, position, label, votes)
VALUES (1, 1, 0, 'نعم', 1), (2, 1, 1, 'لا', 1), (3, 2, 0, 'أ', 1), (4, 2, 1, 'ب', 1), (5, 2, 2, 'ج', 1);
INSERT INTO poll_votes (poll_id, voter, address_hash, voted_at)
VALUES (1, 'voter-a', 'hash-1', 100), (1, 'voter-b', 'hash-1', 101), (2, 'voter-c', 'hash-2', 102), (2, 'voter-d', 'hash-2', 103);
INSERT INTO poll_vote_choices (poll_id, voter, option_id)
VALUES (1, 'voter-a', 1), (1, 'voter-b', 2), (2, 'voter-c', 3), (2, 'voter-c', 4), (2, 'voter-d', 5);
";

async fn rows(store: &Store, sql: &str) -> Vec<(i64, String, Option<i64>)> {
    match store.pool() {
        Pool::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        Pool::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
    }
}

async fn slim_votes_carry_every_vote_over(backend: Backend) {
    let folder = tempfile::tempdir().unwrap();
    let Some(old) = OldDatabase::new(backend, 9, folder.path(), VOTES_OF_0009).await else { return };
    let store = Store::open_url(&old.url).await.unwrap();

    let votes = rows(&store, "SELECT poll_id, voter, option_id FROM poll_votes ORDER BY poll_id, voter").await;
    assert_eq!(
        votes,
        vec![
            (1, "voter-a".to_owned(), Some(1)),
            (1, "voter-b".to_owned(), Some(2)),
            (2, "voter-c".to_owned(), None),
            (2, "voter-d".to_owned(), Some(5)),
        ],
        "one answer moves into the vote's row; several stay apart"
    );
    let choices =
        rows(&store, "SELECT poll_id, voter, option_id FROM poll_vote_choices ORDER BY voter, option_id").await;
    assert_eq!(choices, vec![(2, "voter-c".to_owned(), Some(3)), (2, "voter-c".to_owned(), Some(4))]);

    // Counts unchanged, and the old voters are still known as voters.
    let (poll, options) = store.poll(2).await.unwrap().unwrap();
    assert_eq!(poll.voters, 2);
    assert_eq!(options.iter().map(|option| option.votes).collect::<Vec<_>>(), vec![1, 1, 1]);
    assert!(store.has_voted(1, "voter-a").await.unwrap());
    assert!(store.has_voted(2, "voter-c").await.unwrap());

    // Casting again: old voters are refused, a new one counted in both shapes;
    // the allowance of poll 2 (5 an hour) still sees the old rows' hash.
    let ballot = |poll_id: i64, voter: &str, hash: &str, option_ids: Vec<i64>, allowance: i64| Ballot {
        poll_id,
        voter: voter.to_owned(),
        address_hash: hash.to_owned(),
        option_ids,
        address_allowance: allowance,
    };
    let outcomes = store
        .cast_ballots(
            &[
                ballot(1, "voter-a", "", vec![2], 0),
                ballot(1, "voter-e", "", vec![2], 0),
                ballot(2, "voter-f", "hash-2", vec![4, 5], 5),
            ],
            104,
        )
        .await
        .unwrap();
    assert_eq!(outcomes, vec![Counted::AlreadyVoted, Counted::Accepted, Counted::Accepted]);
    let (poll, options) = store.poll(1).await.unwrap().unwrap();
    assert_eq!((poll.voters, options[1].votes), (3, 2));
    let (poll, options) = store.poll(2).await.unwrap().unwrap();
    assert_eq!(poll.voters, 3);
    assert_eq!(options.iter().map(|option| option.votes).collect::<Vec<_>>(), vec![1, 2, 2]);
    let over = store.cast_ballots(&[ballot(2, "voter-g", "hash-2", vec![3], 3)], 105).await.unwrap();
    assert_eq!(over, vec![Counted::OverAllowance], "3 earlier votes from that address within the hour");

    store.close().await;
    old.forget().await;
}

on_both_backends!(slim_votes, slim_votes_carry_every_vote_over);

/// An article as release 0016 stored it: its text in the middle of the row,
/// with a tag and a comment that point at it.
const ARTICLE_OF_0016: &str = "
INSERT INTO sections (id, name, slug, created_at) VALUES (1, 'سياسة', 'سياسة', 1);
INSERT INTO tags (id, name, slug, created_at) VALUES (1, 'انتخابات', 'انتخابات', 1);
INSERT INTO articles (id, slug, title, summary, body_markdown, body_html, word_count, status, section_id,
                      published_at, created_at, updated_at)
VALUES (7, 'خبر', 'خبر عاجل', 'ملخص', 'نص **الخبر**', '<p>نص <strong>الخبر</strong></p>', 2, 'published', 1, 10, 10, 10);
INSERT INTO article_tags (article_id, tag_id, position) VALUES (7, 1, 0);
INSERT INTO comments (article_id, name, email_hash, address_hash, body_markdown, body_html, status, edit_key_hash,
                      created_at, updated_at)
VALUES (7, 'قارئ', 'hash', 'address', 'تعليق', '<p>تعليق</p>', 'approved', 'key', 11, 11);
";

/// SQLite only: PostgreSQL keeps long values out of the row and was not changed.
#[tokio::test]
async fn article_bodies_move_to_the_end_of_the_row_and_keep_everything_else() {
    let folder = tempfile::tempdir().unwrap();
    let old = OldDatabase::new(Backend::Sqlite, 16, folder.path(), ARTICLE_OF_0016).await.unwrap();
    let store = Store::open_url(&old.url).await.unwrap();
    let Pool::Sqlite(pool) = store.pool() else { unreachable!("a SQLite URL") };

    let columns: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM pragma_table_info('articles') ORDER BY cid").fetch_all(pool).await.unwrap();
    let columns: Vec<&str> = columns.iter().map(|(name,)| name.as_str()).collect();
    assert_eq!(columns[columns.len() - 2..], ["body_html", "body_markdown"], "{columns:?}");

    let article = store.article_by_id(7).await.unwrap().unwrap();
    assert_eq!(article.body_markdown, "نص **الخبر**");
    assert_eq!(article.body_html, "<p>نص <strong>الخبر</strong></p>");
    assert_eq!((article.title.as_str(), article.word_count, article.published_at), ("خبر عاجل", 2, Some(10)));
    assert_eq!(store.tags_of(&[7]).await.unwrap().len(), 1, "the tag link was not cascaded away");
    let comments: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM comments WHERE article_id = 7").fetch_one(pool).await.unwrap();
    assert_eq!(comments.0, 1, "the comment was not cascaded away");

    // The search log's trigger was made again: a change to the text is logged.
    let logged = || async {
        let count: (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM search_log WHERE article_id = 7").fetch_one(pool).await.unwrap();
        count.0
    };
    let before = logged().await;
    sqlx::query("UPDATE articles SET body_markdown = 'نص آخر' WHERE id = 7").execute(pool).await.unwrap();
    assert_eq!(logged().await, before + 1);

    store.close().await;
    old.forget().await;
}
