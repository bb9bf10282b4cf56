//! Readers' comments for the demo site, from `comments.toml` (original
//! text written for khabar), so a newcomer sees a living thread at once.

use serde::Deserialize;

use super::DemoError;
use crate::comments::format::format;
use crate::comments::store::NewComment;
use crate::store::Store;

const COMMENTS: &str = include_str!("comments.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    comment: Vec<DemoComment>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoComment {
    article: usize,
    name: String,
    body: String,
    hours_after: i64,
    #[serde(default)]
    replies: Vec<DemoReply>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoReply {
    name: String,
    body: String,
    hours_after: i64,
}

fn parse() -> Result<File, DemoError> {
    toml::from_str(COMMENTS)
        .map_err(|problem| DemoError::Article { index: 0, message: format!("comments.toml: {problem}") })
}

/// `published` holds each demo article's id and publication time, by number - 1.
pub async fn seed(store: &Store, published: &[(i64, i64)]) -> Result<usize, DemoError> {
    let mut count = 0;
    for comment in parse()?.comment {
        let Some((article_id, published_at)) = comment.article.checked_sub(1).and_then(|index| published.get(index))
        else {
            continue;
        };
        let parent =
            insert(store, *article_id, None, &comment.name, &comment.body, published_at + comment.hours_after * 3600)
                .await?;
        count += 1;
        for reply in comment.replies {
            let at = published_at + reply.hours_after * 3600;
            insert(store, *article_id, Some(parent), &reply.name, &reply.body, at).await?;
            count += 1;
        }
    }
    Ok(count)
}

async fn insert(
    store: &Store,
    article_id: i64,
    parent_id: Option<i64>,
    name: &str,
    body: &str,
    at: i64,
) -> Result<i64, DemoError> {
    let formatted = format(body);
    // Demo readers have no email and no address: nothing to match, nothing kept.
    let comment = NewComment {
        article_id,
        parent_id,
        name,
        email_hash: "demo",
        notify_email: "",
        address_hash: "demo",
        body_markdown: body,
        body_html: &formatted.html,
        status: "approved",
        held_for: "",
        edit_key_hash: "",
    };
    Ok(store.insert_comment(&comment, at).await?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::comments::{MAX_BODY_CHARS, MAX_NAME_CHARS};

    #[test]
    fn demo_comments_are_well_formed() {
        let file = parse().unwrap();
        assert!(file.comment.len() >= 20);
        for comment in &file.comment {
            assert!((1..=super::super::articles::ARTICLES.len()).contains(&comment.article));
            for (name, body) in std::iter::once((&comment.name, &comment.body))
                .chain(comment.replies.iter().map(|reply| (&reply.name, &reply.body)))
            {
                assert!(name.chars().count() <= MAX_NAME_CHARS && !body.trim().is_empty());
                assert!(body.chars().count() <= MAX_BODY_CHARS);
            }
            assert!(comment.replies.iter().all(|reply| reply.hours_after > comment.hours_after));
        }
    }
}
