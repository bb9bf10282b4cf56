//! `khabar demo`: a realistic Arabic news site from nothing. The articles
//! are original text written for khabar; the images are drawn here, so
//! nothing is downloaded.

mod articles;
mod comments;
mod images;

use std::path::Path;

use serde::Deserialize;

use crate::app::StartError;
use crate::articles::api::{validate, ArticleInput, FeaturedImageInput};
use crate::articles::readership::day_number;
use crate::articles::store::Saver;
use crate::store::{now_seconds, Store};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo article {index}: {message}")]
    Article { index: usize, message: String },
    #[error("cannot write demo images: {0}")]
    Images(std::io::Error),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: String,
    summary: String,
    section: String,
    tags: Vec<String>,
    authors: Vec<String>,
    breaking: bool,
    hours_ago: i64,
    caption: String,
    credit: String,
}

/// Sections in the order the masthead shows them, with their descriptions.
const SECTIONS: &[(&str, &str)] = &[
    ("سياسة", "الشأن السياسي المحلي والعربي: البرلمان والحكومة والانتخابات والمفاوضات."),
    ("اقتصاد", "الأسواق والأسعار والزراعة والطاقة وريادة الأعمال."),
    ("رياضة", "نتائج المباريات والبطولات وأخبار الأندية والمنتخبات."),
    ("ثقافة وفنون", "الكتب والسينما والموسيقى والتراث والفنون التشكيلية."),
    ("تكنولوجيا", "التحول الرقمي والذكاء الاصطناعي والأمن السيبراني."),
    ("صحة", "الصحة العامة والمستشفيات والتغذية ونصائح الأطباء."),
];

const AUTHORS: &[(&str, &str)] = &[
    ("ليلى حداد", "محررة الشؤون السياسية، تغطي البرلمان والمفاوضات الإقليمية منذ أكثر من عشر سنوات."),
    ("سامر الخطيب", "محرر اقتصادي متخصص في الأسواق والزراعة والطاقة."),
    ("رنا العلي", "صحفية تكتب في الثقافة والصحة العامة، وتهتم بقصص المدن وتراثها."),
    ("كريم منصور", "محرر الرياضة والتكنولوجيا، يتابع الملاعب والشركات الناشئة على حد سواء."),
];

fn parse(index: usize, source: &str) -> Result<(FrontMatter, String), DemoError> {
    let error = |message: String| DemoError::Article { index, message };
    let rest = source.strip_prefix("+++\n").ok_or_else(|| error("missing opening +++".into()))?;
    let (front, body) = rest.split_once("\n+++\n").ok_or_else(|| error("missing closing +++".into()))?;
    let front: FrontMatter = toml::from_str(front).map_err(|problem| error(problem.to_string()))?;
    Ok((front, body.trim().to_owned()))
}

/// Fills a new site with the demo content. Publication times are relative
/// to now, so the site always looks current.
pub async fn seed(store: &Store, data_dir: &Path) -> Result<usize, DemoError> {
    let now = now_seconds();
    let image_dir = data_dir.join("media").join("demo");
    std::fs::create_dir_all(&image_dir).map_err(DemoError::Images)?;
    let mut created = Vec::with_capacity(articles::ARTICLES.len());
    let mut published = Vec::with_capacity(articles::ARTICLES.len());
    for (index, source) in articles::ARTICLES.iter().enumerate() {
        let number = index + 1;
        let (front, body) = parse(number, source)?;
        let section_index = SECTIONS.iter().position(|(name, _)| *name == front.section).unwrap_or(0);
        let image_name = format!("{number:02}.svg");
        std::fs::write(image_dir.join(&image_name), images::illustration(section_index, number))
            .map_err(DemoError::Images)?;
        let published_at = jiff::Timestamp::from_second(now - front.hours_ago * 3600)
            .map(|at| at.to_string())
            .map_err(|problem| DemoError::Article { index: number, message: problem.to_string() })?;
        let input = ArticleInput {
            title: Some(front.title),
            body_markdown: Some(body),
            summary: Some(front.summary),
            section: Some(front.section),
            tags: Some(front.tags),
            authors: Some(front.authors),
            status: Some("published".into()),
            published_at: Some(published_at),
            breaking: Some(front.breaking),
            featured_image: Some(FeaturedImageInput {
                url: format!("/media/demo/{image_name}"),
                caption: front.caption,
                credit: front.credit,
            }),
            seo_description: None,
            social_image: None,
        };
        let write = validate(input, None, now, Saver { staff_id: None, name: "العرض التجريبي".into() })
            .map_err(|problem| DemoError::Article { index: number, message: problem.to_string() })?;
        let id = store.create_article(&write, now).await?;
        created.push(id);
        published.push((id, now - front.hours_ago * 3600));
    }
    for (position, (name, description)) in SECTIONS.iter().enumerate() {
        let slug = khabar_arabic::slug::slugify(name);
        store.describe_section(&slug, i64::try_from(position).unwrap_or(0), description).await?;
    }
    for (name, bio) in AUTHORS {
        store.describe_author(&khabar_arabic::slug::slugify(name), bio).await?;
    }
    // A spread of reads so "most read" has something to rank on day one.
    let today = day_number(now);
    let reads: Vec<(i64, i64, i64)> = created
        .iter()
        .enumerate()
        .map(|(index, id)| (*id, today, i64::try_from((index * 37 + 11) % 97 * 13 + 5).unwrap_or(5)))
        .collect();
    store.add_reads(&reads).await?;
    // One open poll in the sidebar, so a newcomer sees voting at once.
    let poll = crate::polls::store::PollWrite {
        question: "ما القضية التي تريد أن نتوسع في تغطيتها هذا الشهر؟".to_owned(),
        options: vec![
            "غلاء الأسعار والمعيشة".to_owned(),
            "المياه والجفاف".to_owned(),
            "التعليم والجامعات".to_owned(),
            "النقل العام في المدن".to_owned(),
        ],
        multiple: false,
        placement: "sidebar".to_owned(),
        article_id: None,
        opens_at: None,
        closes_at: None,
        staff_only: false,
        address_allowance: 0,
    };
    store.create_poll(&poll, "العرض التجريبي", now).await?;
    comments::seed(store, &published).await?;
    Ok(created.len())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_article_is_well_formed() {
        let mut sections = std::collections::BTreeSet::new();
        let mut authors = std::collections::BTreeSet::new();
        for (index, source) in articles::ARTICLES.iter().enumerate() {
            let (front, body) = parse(index + 1, source).unwrap();
            let words = body.split_whitespace().count();
            assert!((150..=600).contains(&words), "article {} has {words} words", index + 1);
            assert!(SECTIONS.iter().any(|(name, _)| *name == front.section), "article {}", index + 1);
            assert!(!front.tags.is_empty());
            sections.insert(front.section);
            authors.extend(front.authors);
        }
        assert!(articles::ARTICLES.len() >= 24);
        assert!(sections.len() >= 5);
        assert!(authors.len() >= 3);
        assert!(authors.iter().all(|author| AUTHORS.iter().any(|(name, _)| name == author)));
    }
}
