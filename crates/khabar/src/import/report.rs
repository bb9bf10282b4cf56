//! What an import did, item kind by item kind, and what it could not do.

use std::fmt;

/// New, updated, unchanged, and (for articles) left as edited in khabar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Changed in WordPress and edited in khabar since the last import: khabar's version is kept.
    pub kept: u64,
}

impl Tally {
    pub fn total(&self) -> u64 {
        self.created + self.updated + self.unchanged + self.kept
    }

    /// Whether a run wrote anything of this kind.
    pub fn changed(&self) -> bool {
        self.created + self.updated > 0
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(out, "{} new, {} updated, {} unchanged", self.created, self.updated, self.unchanged)?;
        if self.kept > 0 {
            write!(out, ", {} kept as edited in khabar", self.kept)?;
        }
        Ok(())
    }
}

/// Warnings are about what was imported; past this many the report says how many more.
const SHOWN_WARNINGS: usize = 30;

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub dry_run: bool,
    pub articles: Tally,
    pub pages: Tally,
    pub comments: Tally,
    pub sections: Tally,
    pub tags: Tally,
    pub authors: Tally,
    pub media: Tally,
    pub redirects: u64,
    /// Left out by design: trashed posts and comments, attachments (they
    /// come in as media), drafts WordPress made by itself.
    pub left_out: u64,
    /// Items not imported, each with its line and why: these make the exit non-zero.
    pub skipped: Vec<String>,
    /// Imported, with something worth knowing (a missing author, a password dropped).
    pub warnings: Vec<String>,
    /// Images the content shows that are not in `--uploads` (or without it).
    pub missing_images: Vec<String>,
    /// The file stopped making sense here; what came before it was imported.
    pub failure: Option<String>,
}

impl Report {
    /// Whether anything was skipped or the file was cut short.
    pub fn incomplete(&self) -> bool {
        !self.skipped.is_empty() || self.failure.is_some()
    }

    /// Whether the run wrote (or, dry, would write) anything.
    pub fn changed_anything(&self) -> bool {
        [self.articles, self.pages, self.comments, self.sections, self.tags, self.authors, self.media]
            .iter()
            .any(Tally::changed)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            writeln!(out, "dry run: nothing was written; an import would give")?;
        }
        writeln!(out, "articles: {}", self.articles)?;
        writeln!(out, "pages:    {}", self.pages)?;
        writeln!(out, "comments: {}", self.comments)?;
        writeln!(out, "sections: {}", self.sections)?;
        writeln!(out, "tags:     {}", self.tags)?;
        writeln!(out, "authors:  {}", self.authors)?;
        writeln!(out, "images:   {}", self.media)?;
        writeln!(out, "redirects written: {}", self.redirects)?;
        writeln!(out, "left out by design (trash, attachments, automatic drafts): {}", self.left_out)?;
        if !self.missing_images.is_empty() {
            writeln!(out, "images not found in --uploads ({}):", self.missing_images.len())?;
            for image in &self.missing_images {
                writeln!(out, "  {image}")?;
            }
        }
        if !self.warnings.is_empty() {
            writeln!(out, "warnings ({}):", self.warnings.len())?;
            for warning in self.warnings.iter().take(SHOWN_WARNINGS) {
                writeln!(out, "  {warning}")?;
            }
            if self.warnings.len() > SHOWN_WARNINGS {
                writeln!(out, "  … and {} more of the same kinds", self.warnings.len() - SHOWN_WARNINGS)?;
            }
        }
        if !self.skipped.is_empty() {
            writeln!(out, "skipped ({}):", self.skipped.len())?;
            for skipped in &self.skipped {
                writeln!(out, "  {skipped}")?;
            }
        }
        if let Some(failure) = &self.failure {
            writeln!(out, "stopped: {failure}")?;
        }
        Ok(())
    }
}
