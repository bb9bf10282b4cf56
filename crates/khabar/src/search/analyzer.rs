//! khabar-arabic's folding and light stemming as tantivy tokenizers. The
//! same analysis runs on documents and queries; token offsets point into the
//! original text, so snippets are cut from what the writer wrote (diacritics
//! and all) and mark exactly the words that matched.

use khabar_arabic::normalize::{fold_for_stemming, tokens_with_offsets};
use khabar_arabic::stem::{is_stopword, stem};
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};

/// Folded and stemmed, stopwords left out: what most matching uses.
pub const STEMMED: &str = "khabar_stemmed";
/// Folded only, every word kept: exact words and quoted phrases.
pub const FOLDED: &str = "khabar_folded";

/// Words remembered per thread: news text repeats a few thousand words
/// endlessly, and folding (NFC) and stemming each of them again was most of
/// the indexing time.
const MEMORY_WORDS: usize = 50_000;

thread_local! {
    /// One map per kind of analysis, keyed by the word as written, so a hit
    /// costs a hash and no allocation.
    static ANALYZED: std::cell::RefCell<[std::collections::HashMap<String, Option<String>>; 3]> =
        std::cell::RefCell::new(Default::default());
}

#[derive(Clone, Copy)]
enum Analysis {
    Folded = 0,
    Stemmed = 1,
    WithoutClitic = 2,
}

fn remembered(word: &str, analysis: Analysis, compute: impl FnOnce() -> Option<String>) -> Option<String> {
    ANALYZED.with(|memory| {
        if let Some(known) = memory.borrow()[analysis as usize].get(word) {
            return known.clone();
        }
        let computed = compute();
        let mut memory = memory.borrow_mut();
        let map = &mut memory[analysis as usize];
        if map.len() >= MEMORY_WORDS {
            map.clear();
        }
        map.insert(word.to_owned(), computed.clone());
        computed
    })
}

/// One word as the index knows it, or None when it is not indexed at all.
pub fn analyze_word(word: &str, stemming: bool) -> Option<String> {
    let analysis = if stemming { Analysis::Stemmed } else { Analysis::Folded };
    remembered(word, analysis, || analyze_word_afresh(word, stemming))
}

fn analyze_word_afresh(word: &str, stemming: bool) -> Option<String> {
    let folded = fold_for_stemming(word).to_lowercase();
    if folded.is_empty() {
        return None;
    }
    if !stemming {
        return Some(folded);
    }
    if is_stopword(&folded) {
        return None;
    }
    let stemmed = stem(&folded);
    (!stemmed.is_empty()).then_some(stemmed)
}

/// Letters that are often a preposition or conjunction glued to a word
/// (بدمشق، كطبيب، لسوريا، فقال) but just as often the word's own first
/// letter (بحر، كتب، لبنان، فلسطين). The stemmer cannot tell, so it keeps
/// them; documents also index the word without it, at the same position,
/// so "دمشق" finds "بدمشق" while "بحر" still finds "بحر".
const CLITIC_LETTERS: [char; 4] = ['ب', 'ك', 'ل', 'ف'];
/// Only words this long (in letters, after stemming) get the second form.
const CLITIC_MIN_LETTERS: usize = 5;

fn without_clitic(stemmed: &str) -> Option<String> {
    remembered(stemmed, Analysis::WithoutClitic, || without_clitic_afresh(stemmed))
}

fn without_clitic_afresh(stemmed: &str) -> Option<String> {
    let mut letters = stemmed.chars();
    let first = letters.next()?;
    if !CLITIC_LETTERS.contains(&first) || stemmed.chars().count() < CLITIC_MIN_LETTERS {
        return None;
    }
    let rest = stem(letters.as_str());
    (rest.chars().count() >= 3 && rest != stemmed).then_some(rest)
}

/// The analyzed words of a text, in order (a query's terms).
pub fn analyze(text: &str, stemming: bool) -> Vec<String> {
    tokens_with_offsets(text).into_iter().filter_map(|(_, word)| analyze_word(word, stemming)).collect()
}

#[derive(Clone)]
pub struct ArabicTokenizer {
    stemming: bool,
}

pub struct ArabicTokenStream {
    tokens: std::vec::IntoIter<Token>,
    current: Token,
}

impl Tokenizer for ArabicTokenizer {
    type TokenStream<'a> = ArabicTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ArabicTokenStream {
        let mut tokens = Vec::new();
        for (position, (offset, word)) in tokens_with_offsets(text).into_iter().enumerate() {
            // A dropped stopword still takes its position, so phrases keep their shape.
            if let Some(analyzed) = analyze_word(word, self.stemming) {
                let also = if self.stemming { without_clitic(&analyzed) } else { None };
                tokens.push(Token {
                    offset_from: offset,
                    offset_to: offset + word.len(),
                    position,
                    text: analyzed,
                    position_length: 1,
                });
                if let Some(also) = also {
                    tokens.push(Token {
                        offset_from: offset,
                        offset_to: offset + word.len(),
                        position,
                        text: also,
                        position_length: 1,
                    });
                }
            }
        }
        ArabicTokenStream { tokens: tokens.into_iter(), current: Token::default() }
    }
}

impl TokenStream for ArabicTokenStream {
    fn advance(&mut self) -> bool {
        match self.tokens.next() {
            Some(token) => {
                self.current = token;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

pub fn register(index: &tantivy::Index) {
    index.tokenizers().register(STEMMED, TextAnalyzer::from(ArabicTokenizer { stemming: true }));
    index.tokenizers().register(FOLDED, TextAnalyzer::from(ArabicTokenizer { stemming: false }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(stemming: bool, text: &str) -> Vec<(String, usize, usize)> {
        let mut tokenizer = ArabicTokenizer { stemming };
        let mut stream = tokenizer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let token = stream.token();
            out.push((token.text.clone(), token.offset_from, token.offset_to));
        }
        out
    }

    #[test]
    fn documents_and_queries_meet_on_the_same_stems() {
        assert_eq!(analyze("والمفاوضات", true), analyze("مفاوضات", true));
        assert_eq!(analyze("الأسد", true), analyze("الاسد", true));
        assert_eq!(analyze("مُفَاوَضَـات", true), analyze("مفاوضات", true));
        assert_eq!(analyze("٢٢٥٤", true), analyze("2254", true));
        assert_eq!(analyze("Reuters", true), analyze("REUTERS", true));
    }

    #[test]
    fn a_glued_preposition_is_indexed_both_ways() {
        let with = texts(true, "وصل الوفد بدمشق");
        let stems: Vec<&str> = with.iter().map(|(text, _, _)| text.as_str()).collect();
        assert!(stems.contains(&analyze("دمشق", true)[0].as_str()), "{stems:?}");
        assert!(stems.contains(&analyze("بدمشق", true)[0].as_str()), "{stems:?}");
        let short = texts(true, "بحر");
        assert_eq!(short.len(), 1, "short words keep their first letter only: {short:?}");
    }

    #[test]
    fn offsets_point_at_the_original_words() {
        let text = "قالَ الوزيرُ: المفاوضاتُ";
        for (_, from, to) in texts(true, text) {
            let word = &text[from..to];
            assert!(!word.is_empty() && !word.contains(' ') && !word.contains(':'), "{word}");
        }
        let folded = texts(false, text);
        assert_eq!(&text[folded[2].1..folded[2].2], "المفاوضاتُ");
    }

    #[test]
    fn stopwords_keep_their_place_in_phrases() {
        let stemmed = texts(true, "في عمان");
        let folded = texts(false, "في عمان");
        assert_eq!(folded.len(), 2);
        assert!(stemmed.len() <= 2);
    }
}
