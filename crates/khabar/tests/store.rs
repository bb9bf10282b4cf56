//! The store suite: the same tests against SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestDatabase};
use khabar::articles::store::{ArticleWrite, ListFilter, NewName, Saver, UpdateOutcome};
use khabar::store::Store;

fn name(text: &str) -> NewName {
    NewName { name: text.to_owned(), slug: khabar_arabic::slug::slugify(text) }
}

fn article(title: &str, section: &str, tags: &[&str], published_at: Option<i64>) -> ArticleWrite {
    ArticleWrite {
        slug: khabar_arabic::slug::slugify(title),
        title: title.to_owned(),
        summary: String::new(),
        body_markdown: "نص".to_owned(),
        body_html: "<p>نص</p>".to_owned(),
        word_count: 1,
        status: if published_at.is_some() { "published" } else { "draft" }.to_owned(),
        section: name(section),
        tags: tags.iter().map(|tag| name(tag)).collect(),
        authors: vec![name("كاتب الاختبار")],
        breaking: false,
        featured_image: None,
        featured_caption: String::new(),
        featured_credit: String::new(),
        seo_description: String::new(),
        social_image: None,
        published_at,
        review_requested: false,
        saved_by: Saver { staff_id: None, name: "اختبار".to_owned() },
    }
}

async fn with_store<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let Some(database) = TestDatabase::new(backend, dir.path()).await else { return };
    test(database.store.clone()).await;
    database.drop_schema().await;
}

const NOW: i64 = 1_800_000_000;
const HOUR: i64 = 3600;

async fn names_that_fold_alike_are_one_row(backend: Backend) {
    with_store(backend, |store| async move {
        store.create_article(&article("أ", "سياسة", &["الأسد"], Some(NOW - HOUR)), NOW).await.unwrap();
        store.create_article(&article("ب", "سياسة", &["الاسد", "الأسد"], Some(NOW - HOUR)), NOW).await.unwrap();
        let tags = store.tags(NOW).await.unwrap();
        assert_eq!(tags.len(), 1, "{tags:?}");
        assert_eq!(tags[0].name, "الأسد", "the first spelling is kept as written");
        assert_eq!(tags[0].article_count, 2);
    })
    .await;
}
on_both_backends!(folded_names, names_that_fold_alike_are_one_row);

async fn lists_show_only_what_readers_may_see(backend: Backend) {
    with_store(backend, |store| async move {
        let visible =
            store.create_article(&article("منشور", "اقتصاد", &["الأسعار"], Some(NOW - HOUR)), NOW).await.unwrap();
        store.create_article(&article("مسودة", "اقتصاد", &["الأسعار"], None), NOW).await.unwrap();
        store.create_article(&article("مجدول", "اقتصاد", &["الأسعار"], Some(NOW + HOUR)), NOW).await.unwrap();
        store.create_article(&article("رياضي", "رياضة", &[], Some(NOW - 2 * HOUR)), NOW).await.unwrap();
        let (all, total) = store.list_articles(&ListFilter::default(), NOW, 0, 10).await.unwrap();
        assert_eq!(total, 2);
        assert_eq!(all[0].id, visible, "newest first");
        let by_tag = ListFilter { tag: Some(khabar_arabic::slug::slugify("الأسعار")), ..Default::default() };
        let (tagged, total) = store.list_articles(&by_tag, NOW, 0, 10).await.unwrap();
        assert_eq!((tagged.len(), total), (1, 1));
        let by_author = ListFilter {
            author: Some(khabar_arabic::slug::slugify("كاتب الاختبار")), ..Default::default()
        };
        assert_eq!(store.list_articles(&by_author, NOW, 0, 10).await.unwrap().1, 2);
        // Each single-subject list has its own query; a mix goes the general way.
        let by_section = ListFilter { section: Some(khabar_arabic::slug::slugify("رياضة")), ..Default::default() };
        let (sport, total) = store.list_articles(&by_section, NOW, 0, 10).await.unwrap();
        assert_eq!((sport.len(), total, sport[0].title.as_str()), (1, 1, "رياضي"));
        let by_section_and_tag =
            ListFilter { section: Some(khabar_arabic::slug::slugify("اقتصاد")), ..by_tag.clone() };
        assert_eq!(store.list_articles(&by_section_and_tag, NOW, 0, 10).await.unwrap().1, 1);
        let nobody = ListFilter { author: Some("لا-أحد".to_owned()), ..Default::default() };
        assert_eq!(store.list_articles(&nobody, NOW, 0, 10).await.unwrap().1, 0);
        assert!(store.latest_cards(&by_section, NOW, 5).await.unwrap().iter().all(|card| card.title == "رياضي"));
        let (page_two, total) = store.list_articles(&ListFilter::default(), NOW, 1, 1).await.unwrap();
        assert_eq!((page_two.len(), total), (1, 2));
        // The scheduled one appears once its time has come.
        assert_eq!(store.list_articles(&ListFilter::default(), NOW + 2 * HOUR, 0, 10).await.unwrap().1, 3);
        assert!(!store.went_live_between(NOW, NOW + 2 * HOUR).await.unwrap().is_empty());
        assert!(store.went_live_between(NOW + 2 * HOUR, NOW + 3 * HOUR).await.unwrap().is_empty());
        let sections = store.sections(NOW).await.unwrap();
        let economy = sections.iter().find(|section| section.name == "اقتصاد").unwrap();
        assert_eq!(economy.article_count, 1);
    })
    .await;
}
on_both_backends!(visibility, lists_show_only_what_readers_may_see);

async fn related_news_ranks_shared_tags_then_section_then_time(backend: Backend) {
    with_store(backend, |store| async move {
        let subject = store
            .create_article(&article("الخبر", "سياسة", &["المياه", "مفاوضات"], Some(NOW - 10 * HOUR)), NOW)
            .await
            .unwrap();
        let two_tags = store
            .create_article(&article("وسمان", "صحة", &["المياه", "مفاوضات"], Some(NOW - 900 * HOUR)), NOW)
            .await
            .unwrap();
        let one_tag =
            store.create_article(&article("وسم", "صحة", &["المياه"], Some(NOW - 800 * HOUR)), NOW).await.unwrap();
        let same_section =
            store.create_article(&article("القسم", "سياسة", &[], Some(NOW - 700 * HOUR)), NOW).await.unwrap();
        let near_in_time =
            store.create_article(&article("قريب", "رياضة", &[], Some(NOW - 11 * HOUR)), NOW).await.unwrap();
        let far_in_time =
            store.create_article(&article("بعيد", "رياضة", &[], Some(NOW - 2000 * HOUR)), NOW).await.unwrap();
        store.create_article(&article("مسودة", "سياسة", &["المياه", "مفاوضات"], None), NOW).await.unwrap();
        let related = store.related_articles(subject, 1, NOW - 10 * HOUR, NOW, 10).await.unwrap();
        let section_id = store.article_by_id(subject).await.unwrap().unwrap().section_id;
        let related_in_section = store.related_articles(subject, section_id, NOW - 10 * HOUR, NOW, 10).await.unwrap();
        assert!(related.iter().all(|card| card.id != subject));
        let order: Vec<i64> = related_in_section.iter().map(|card| card.id).collect();
        assert_eq!(order, vec![two_tags, one_tag, same_section, near_in_time, far_in_time]);
    })
    .await;
}
on_both_backends!(related_ranking, related_news_ranks_shared_tags_then_section_then_time);

/// The related list scores only candidates (shared tags, the section's and
/// the site's nearest in time); on a site of many articles it must rank
/// exactly as scoring every article would.
async fn related_news_matches_scoring_every_article(backend: Backend) {
    with_store(backend, |store| async move {
        let sections = ["سياسة", "صحة", "رياضة"];
        let tags = ["المياه", "مفاوضات", "الطاقة", "التعليم", "الزراعة"];
        let mut made = Vec::new();
        let mut seed: u64 = 7;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            seed >> 33
        };
        for number in 0..80 {
            let section = sections[(next() % 3) as usize];
            let mine: Vec<&str> = tags.iter().copied().filter(|_| next() % 5 == 0).collect();
            let published = NOW - (number * 37 + (next() % 30) as i64) * HOUR;
            let id = store
                .create_article(&article(&format!("خبر {number}"), section, &mine, Some(published)), NOW)
                .await
                .unwrap();
            made.push((id, section, mine, published));
        }
        for &(subject, section, ref mine, published) in made.iter().step_by(9) {
            let section_id = store.article_by_id(subject).await.unwrap().unwrap().section_id;
            let mut expected: Vec<(f64, i64, i64)> = made
                .iter()
                .filter(|other| other.0 != subject)
                .map(|(id, other_section, theirs, other_published)| {
                    let shared = theirs.iter().filter(|tag| mine.contains(tag)).count() as f64;
                    let same_section = if *other_section == section { 2.0 } else { 0.0 };
                    let nearness = 1.0 / (1.0 + (other_published - published).abs() as f64 / 604800.0);
                    (3.0 * shared + same_section + nearness, *other_published, *id)
                })
                .collect();
            expected.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)));
            let expected: Vec<i64> = expected.iter().take(6).map(|entry| entry.2).collect();
            let related = store.related_articles(subject, section_id, published, NOW, 6).await.unwrap();
            let found: Vec<i64> = related.iter().map(|card| card.id).collect();
            assert_eq!(found, expected, "related news of article {subject}");
        }
    })
    .await;
}
on_both_backends!(related_ranking_at_scale, related_news_matches_scoring_every_article);

async fn reads_accumulate_and_rank(backend: Backend) {
    with_store(backend, |store| async move {
        let quiet = store.create_article(&article("هادئ", "صحة", &[], Some(NOW - HOUR)), NOW).await.unwrap();
        let popular = store.create_article(&article("شائع", "صحة", &[], Some(NOW - 2 * HOUR)), NOW).await.unwrap();
        let day = NOW / 86_400;
        store.add_reads(&[(quiet, day, 3), (popular, day, 5)]).await.unwrap();
        store.add_reads(&[(popular, day, 5), (popular, day - 30, 1000), (999_999, day, 7)]).await.unwrap();
        let ranked = store.most_read(NOW, day - 7, 5).await.unwrap();
        let ranked: Vec<(i64, i64)> = ranked.iter().map(|(card, reads)| (card.id, *reads)).collect();
        assert_eq!(ranked, vec![(popular, 10), (quiet, 3)]);
        assert!(store.delete_article(popular).await.unwrap());
        assert_eq!(store.most_read(NOW, day - 7, 5).await.unwrap().len(), 1);
    })
    .await;
}
on_both_backends!(reads, reads_accumulate_and_rank);

async fn updates_replace_links_and_deletes_cascade(backend: Backend) {
    with_store(backend, |store| async move {
        let id =
            store.create_article(&article("أول", "ثقافة", &["الكتب", "السينما"], Some(NOW - HOUR)), NOW).await.unwrap();
        let first_tags: Vec<String> = store.tags_of(&[id]).await.unwrap().into_iter().map(|tag| tag.name).collect();
        assert_eq!(first_tags, vec!["الكتب", "السينما"], "tags keep the writer's order");
        let mut edited = article("معدل", "ثقافة", &["التراث"], Some(NOW - HOUR));
        edited.authors = vec![name("كاتبة ثانية"), name("كاتب الاختبار")];
        assert_eq!(
            store.update_article(id, &edited, NOW + 60, Some(1)).await.unwrap(),
            UpdateOutcome::Updated { revision: 2 }
        );
        assert_eq!(store.update_article(id + 1000, &edited, NOW, None).await.unwrap(), UpdateOutcome::NotFound);
        // A writer still holding revision 1 must not overwrite revision 2.
        assert_eq!(
            store.update_article(id, &edited, NOW + 90, Some(1)).await.unwrap(),
            UpdateOutcome::Conflict { current_revision: 2 }
        );
        let revisions = store.revisions(id).await.unwrap();
        assert_eq!(revisions.iter().map(|revision| revision.revision).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!(revisions[1].title, "أول");
        assert_eq!(revisions[1].tag_names, "الكتب\nالسينما");
        let row = store.article_by_id(id).await.unwrap().unwrap();
        assert_eq!((row.title.as_str(), row.updated_at), ("معدل", NOW + 60));
        let tags: Vec<String> = store.tags_of(&[id]).await.unwrap().into_iter().map(|tag| tag.name).collect();
        assert_eq!(tags, vec!["التراث"]);
        let authors: Vec<String> =
            store.authors_of(&[id]).await.unwrap().into_iter().map(|author| author.name).collect();
        assert_eq!(authors, vec!["كاتبة ثانية", "كاتب الاختبار"], "authors keep their order");
        assert!(store.delete_article(id).await.unwrap());
        assert!(store.article_by_id(id).await.unwrap().is_none());
        assert!(store.tags_of(&[id]).await.unwrap().is_empty());
        // A new article never takes a deleted one's id: old links must not point to new stories.
        let next = store.create_article(&article("جديد", "ثقافة", &[], Some(NOW)), NOW).await.unwrap();
        assert!(next > id);
    })
    .await;
}
on_both_backends!(updates_and_deletes, updates_replace_links_and_deletes_cascade);

async fn api_tokens_are_stored_hashed(backend: Backend) {
    with_store(backend, |store| async move {
        let token = store.create_api_token("سكربت النشر").await.unwrap();
        assert!(token.starts_with("khabar_") && token.len() > 60);
        assert_eq!(store.verify_api_token(&token).await.unwrap().as_deref(), Some("سكربت النشر"));
        assert_eq!(store.verify_api_token("khabar_wrong").await.unwrap(), None);
        assert_eq!(store.verify_api_token(&token[..token.len() - 1]).await.unwrap(), None);
        assert_ne!(khabar::accounts::tokens::hash_token(&token), token);
    })
    .await;
}
on_both_backends!(tokens, api_tokens_are_stored_hashed);
