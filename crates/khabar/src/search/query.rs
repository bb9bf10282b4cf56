//! From what a reader typed to a tantivy query: quoted phrases match the
//! folded words in order; every other word must match (its stem, in the
//! title above the body, or a spelling an editor declared the same); a word
//! the index hardly knows also matches close spellings (transliterated names),
//! ranked below exact matches.

use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Searcher, Term};

use super::analyzer::analyze_word;
use super::index::Fields;

/// Characters of a query that are read; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 200;
/// Words (and phrases) of a query that are used.
const MAX_PARTS: usize = 12;
/// A word in fewer documents than this also matches close spellings.
const RARE_BELOW: u64 = 3;

const TITLE_BOOST: f32 = 3.0;
const EXACT_BOOST: f32 = 0.5;
const CLOSE_SPELLING_BOOST: f32 = 0.3;

/// What a reader typed, taken apart.
#[derive(Debug, Default, PartialEq)]
pub struct ParsedQuery {
    /// Quoted runs, each as its folded words.
    pub phrases: Vec<Vec<String>>,
    /// Other words, as typed (analyzed later, so variants can be looked up).
    pub words: Vec<String>,
}

impl ParsedQuery {
    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty() && self.words.is_empty()
    }
}

fn is_quote(character: char) -> bool {
    matches!(character, '"' | '«' | '»' | '“' | '”' | '„')
}

pub fn parse(raw: &str) -> ParsedQuery {
    let text: String = raw.chars().take(MAX_QUERY_CHARS).collect();
    let mut parsed = ParsedQuery::default();
    // Quotes alternate open/close; an unbalanced last quote just ends the text.
    for (index, part) in text.split(is_quote).enumerate() {
        let words: Vec<&str> = khabar_arabic::normalize::tokens(part);
        if index % 2 == 1 && words.len() > 1 {
            let folded: Vec<String> = words.iter().filter_map(|word| analyze_word(word, false)).collect();
            if folded.len() > 1 {
                parsed.phrases.push(folded);
                continue;
            }
        }
        parsed.words.extend(words.into_iter().map(str::to_owned));
    }
    parsed.phrases.truncate(MAX_PARTS);
    parsed.words.truncate(MAX_PARTS);
    parsed
}

/// Editors' groups of equal spellings, analyzed once.
#[derive(Debug, Default, Clone)]
pub struct Variants {
    /// Each group's stems.
    groups: Vec<Vec<String>>,
}

impl Variants {
    pub fn new(groups: &[Vec<String>]) -> Variants {
        let groups = groups
            .iter()
            .map(|group| {
                let mut stems: Vec<String> =
                    group.iter().filter_map(|word| analyze_word(word, true)).collect::<Vec<_>>();
                stems.sort();
                stems.dedup();
                stems
            })
            .filter(|stems| stems.len() > 1)
            .collect();
        Variants { groups }
    }

    /// The stem and every stem declared the same.
    fn expand(&self, stem: &str) -> Vec<String> {
        let mut all = vec![stem.to_owned()];
        for group in &self.groups {
            if group.iter().any(|member| member == stem) {
                all.extend(group.iter().filter(|member| *member != stem).cloned());
            }
        }
        all
    }
}

fn term_query(term: Term, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(Box::new(TermQuery::new(term, IndexRecordOption::WithFreqsAndPositions)), boost))
}

/// One typed word: its stems (with variants) in title and body, the folded
/// word itself a little higher, and close spellings when it is rare.
fn word_query(searcher: &Searcher, fields: Fields, variants: &Variants, word: &str) -> Option<Box<dyn Query>> {
    let stem = analyze_word(word, true)?;
    let folded = analyze_word(word, false).unwrap_or_else(|| stem.clone());
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut seen = 0u64;
    for alternative in variants.expand(&stem) {
        let title = Term::from_field_text(fields.title, &alternative);
        let body = Term::from_field_text(fields.body, &alternative);
        seen += searcher.doc_freq(&title).unwrap_or(0) + searcher.doc_freq(&body).unwrap_or(0);
        clauses.push((Occur::Should, term_query(title, TITLE_BOOST)));
        clauses.push((Occur::Should, term_query(body, 1.0)));
    }
    clauses.push((Occur::Should, term_query(Term::from_field_text(fields.title_exact, &folded), EXACT_BOOST * 2.0)));
    clauses.push((Occur::Should, term_query(Term::from_field_text(fields.body_exact, &folded), EXACT_BOOST)));
    let letters = stem.chars().count();
    if seen < RARE_BELOW && letters >= 4 {
        let distance = if letters >= 7 { 2 } else { 1 };
        for field in [fields.title, fields.body] {
            let fuzzy = FuzzyTermQuery::new(Term::from_field_text(field, &stem), distance, true);
            clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(fuzzy), CLOSE_SPELLING_BOOST))));
        }
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

fn phrase_query(fields: Fields, words: &[String]) -> Box<dyn Query> {
    let in_field = |field| -> Box<dyn Query> {
        Box::new(PhraseQuery::new(words.iter().map(|word| Term::from_field_text(field, word)).collect()))
    };
    Box::new(BooleanQuery::new(vec![
        (Occur::Should, Box::new(BoostQuery::new(in_field(fields.title_exact), TITLE_BOOST))),
        (Occur::Should, in_field(fields.body_exact)),
    ]))
}

/// Filters beside the words.
#[derive(Debug, Default, Clone)]
pub struct Filters {
    pub section_id: Option<i64>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Articles scheduled after this are not shown yet.
    pub now: i64,
}

/// The whole query; `all_words` false lets any word match (the fallback
/// when requiring all of them finds nothing). None when nothing searchable was typed.
pub fn build(
    searcher: &Searcher,
    fields: Fields,
    variants: &Variants,
    parsed: &ParsedQuery,
    filters: &Filters,
    all_words: bool,
) -> Option<Box<dyn Query>> {
    let word_occur = if all_words { Occur::Must } else { Occur::Should };
    let mut words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for phrase in &parsed.phrases {
        words.push((Occur::Must, phrase_query(fields, phrase)));
    }
    for word in &parsed.words {
        if let Some(query) = word_query(searcher, fields, variants, word) {
            words.push((word_occur, query));
        }
    }
    if words.is_empty() {
        return None;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(BooleanQuery::new(words)))];
    if let Some(section) = filters.section_id {
        let term = Term::from_field_u64(fields.section, section.unsigned_abs());
        clauses.push((Occur::Must, Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
    }
    let from = filters.from.unwrap_or(i64::MIN);
    let to = filters.to.unwrap_or(i64::MAX).min(filters.now);
    clauses.push((
        Occur::Must,
        Box::new(RangeQuery::new(
            std::ops::Bound::Included(Term::from_field_i64(fields.published_at, from)),
            std::ops::Bound::Included(Term::from_field_i64(fields.published_at, to)),
        )),
    ));
    Some(Box::new(BooleanQuery::new(clauses)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_make_phrases_and_bad_input_makes_nothing() {
        let parsed = parse("\"المياه المشتركة\" مفاوضات «الجولة الخامسة»");
        assert_eq!(parsed.phrases.len(), 2);
        assert_eq!(parsed.words, vec!["مفاوضات".to_owned()]);
        for nothing in ["", "   ", "!!! ؟؟ ...", "\"\"", "\"", "ًٌٍَُِّْ", "+-*/ AND OR", "🙂🙂"] {
            let parsed = parse(nothing);
            assert!(parsed.phrases.is_empty(), "{nothing}");
            assert!(parsed.words.iter().all(|word| !word.is_empty()), "{nothing}");
        }
        let unbalanced = parse("\"الأمن الغذائي");
        assert_eq!(unbalanced.phrases.len(), 1);
        let long = "كلمة ".repeat(500);
        assert!(parse(&long).words.len() <= MAX_PARTS);
    }

    #[test]
    fn variants_expand_to_each_other() {
        let variants = Variants::new(&[vec!["سوريا".to_owned(), "سورية".to_owned()]]);
        let stem = analyze_word("سوريا", true).unwrap_or_default();
        assert_eq!(variants.expand(&stem).len(), 2);
    }
}
