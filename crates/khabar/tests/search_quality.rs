//! The search quality set (tests/fixtures/search-quality.toml) over the demo
//! corpus: khabar's search must return every expected article in its top 10
//! for every query (recall@10 = 1.0). The same queries also run through
//! tantivy's default tokenizer and through its Snowball Arabic stemmer on the
//! same articles, and the comparison is printed (`--nocapture` shows it; the
//! README's table comes from here).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::TestApp;
use serde::Deserialize;
use serde_json::Value;
use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::{Schema, Value as _, STORED, TEXT};
use tantivy::tokenizer::{Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer};
use tantivy::{doc, Index, TantivyDocument};

#[derive(Deserialize)]
struct QualitySet {
    #[serde(default)]
    variant: Vec<VariantGroup>,
    query: Vec<QualityQuery>,
}

#[derive(Deserialize)]
struct VariantGroup {
    terms: Vec<String>,
}

#[derive(Deserialize)]
struct QualityQuery {
    q: String,
    rule: String,
    expect: Vec<i64>,
}

fn quality_set() -> QualitySet {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/search-quality.toml");
    toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[derive(Default)]
struct Score {
    queries: usize,
    complete: usize,
    reciprocal_ranks: f64,
}

impl Score {
    fn add(&mut self, expected: &[i64], found: &[i64]) -> bool {
        self.queries += 1;
        let complete = expected.iter().all(|id| found.contains(id));
        if complete {
            self.complete += 1;
        }
        if let Some(rank) = found.iter().position(|id| expected.contains(id)) {
            self.reciprocal_ranks += 1.0 / (rank as f64 + 1.0);
        }
        complete
    }

    fn recall(&self) -> f64 {
        self.complete as f64 / self.queries.max(1) as f64
    }

    fn mrr(&self) -> f64 {
        self.reciprocal_ranks / self.queries.max(1) as f64
    }
}

fn urlencoded(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// A reference index over the same articles with one of tantivy's own analyzers.
struct Reference {
    index: Index,
    parser: QueryParser,
    id: tantivy::schema::Field,
}

impl Reference {
    fn new(articles: &[(i64, String, String)], analyzer: TextAnalyzer) -> Reference {
        let mut builder = Schema::builder();
        let id = builder.add_i64_field("id", STORED);
        let text = TEXT.clone();
        let title = builder.add_text_field("title", text.clone());
        let body = builder.add_text_field("body", text);
        let index = Index::create_in_ram(builder.build());
        index.tokenizers().register("default", analyzer);
        let mut writer = index.writer_with_num_threads(1, 32_000_000).unwrap();
        for (article_id, article_title, article_body) in articles {
            writer
                .add_document(doc!(id => *article_id, title => article_title.as_str(), body => article_body.as_str()))
                .unwrap();
        }
        writer.commit().unwrap();
        let mut parser = QueryParser::for_index(&index, vec![title, body]);
        parser.set_conjunction_by_default();
        parser.set_field_boost(title, 3.0);
        Reference { index, parser, id }
    }

    fn top10(&self, query: &str) -> Vec<i64> {
        let (query, _) = self.parser.parse_query_lenient(query);
        let searcher = self.index.reader().unwrap().searcher();
        let hits = searcher.search(&query, &TopDocs::with_limit(10).order_by_score()).unwrap();
        hits.into_iter()
            .filter_map(|(_, address)| {
                let document: TantivyDocument = searcher.doc(address).unwrap();
                document.get_first(self.id).and_then(|value| value.as_i64())
            })
            .collect()
    }
}

#[tokio::test]
async fn every_expected_article_is_in_the_top_ten() {
    let set = quality_set();
    assert!(set.query.len() >= 40, "the quality set has at least 40 queries");
    let app = TestApp::builder().demo().start().await.unwrap();
    for group in &set.variant {
        app.store().add_search_variants(&group.terms.join("\n"), "tests", 0).await.unwrap();
    }
    app.state.search.reload_variants(app.store()).await.unwrap();
    let started = Instant::now();
    while app.state.search.index.document_count() < 30 {
        assert!(started.elapsed() < Duration::from_secs(10), "the index was not built");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The reference analyzers index what khabar indexes: title, and summary + body as text.
    let mut articles = Vec::new();
    for batch in [app.store().articles_for_index(0, 1000).await.unwrap()] {
        for article in batch {
            let body = khabar::search::index::plain_text(&article);
            articles.push((article.id, article.title.clone(), body));
        }
    }
    let default = Reference::new(
        &articles,
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .build(),
    );
    let snowball = Reference::new(
        &articles,
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(Stemmer::new(Language::Arabic))
            .build(),
    );

    let mut scores: BTreeMap<&str, Score> = BTreeMap::new();
    let mut by_rule: BTreeMap<String, [Score; 3]> = BTreeMap::new();
    let mut misses = Vec::new();
    for query in &set.query {
        let result: Value =
            app.get(&format!("/api/content/search?q={}", urlencoded(&query.q))).await.json().await.unwrap();
        let found: Vec<i64> =
            result["hits"].as_array().unwrap().iter().map(|hit| hit["id"].as_i64().unwrap()).collect();
        if !scores.entry("khabar").or_default().add(&query.expect, &found) {
            misses.push(format!("{} [{}]: expected {:?}, got {:?}", query.q, query.rule, query.expect, found));
        }
        let rule = by_rule.entry(query.rule.clone()).or_default();
        rule[0].add(&query.expect, &found);
        let plain = default.top10(&query.q);
        scores.entry("tantivy default").or_default().add(&query.expect, &plain);
        rule[1].add(&query.expect, &plain);
        let stemmed = snowball.top10(&query.q);
        scores.entry("tantivy + Snowball Arabic").or_default().add(&query.expect, &stemmed);
        rule[2].add(&query.expect, &stemmed);
    }
    println!("\n| analyzer | recall@10 | MRR |\n|---|---|---|");
    for (name, score) in &scores {
        println!("| {name} | {:.3} | {:.3} |", score.recall(), score.mrr());
    }
    println!("\n| rule | queries | khabar | tantivy default | Snowball Arabic |\n|---|---|---|---|---|");
    for (rule, [ours, plain, stemmed]) in &by_rule {
        println!(
            "| {rule} | {} | {:.2} | {:.2} | {:.2} |",
            ours.queries,
            ours.recall(),
            plain.recall(),
            stemmed.recall()
        );
    }
    assert!(misses.is_empty(), "recall@10 below 1.0:\n{}", misses.join("\n"));
    app.stop().await;
}
