//! Subscriber lists in and out as CSV. Imports are checked line by line,
//! with a report of what was added, what was already there and what was
//! refused and why; an import never changes an address already on the list.

use std::collections::HashSet;

use serde::Serialize;

use super::addresses::{normalize_email, normalize_name};
use super::links::new_link_key;
use super::store::{ImportRow, SubscriberRow};
use super::NewsletterError;
use crate::store::Store;

/// Lines written per transaction.
const IMPORT_CHUNK: usize = 1000;
/// Refused lines listed in a report at most (all are counted).
const REPORTED_PROBLEMS: usize = 200;

#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    pub lines: u64,
    pub added: u64,
    pub already_listed: u64,
    pub refused: u64,
    pub problems: Vec<ImportProblem>,
    /// Ids added, for confirmation requests when the import was unconfirmed.
    #[serde(skip)]
    pub added_ids: Vec<i64>,
}

#[derive(Debug, Serialize)]
pub struct ImportProblem {
    pub line: u64,
    pub value: String,
    pub problem: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file is not CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("the first line must name the columns and include 'email' (and optionally 'name')")]
    Header,
    #[error(transparent)]
    Newsletter(#[from] NewsletterError),
}

impl From<crate::store::StoreError> for ImportError {
    fn from(error: crate::store::StoreError) -> Self {
        ImportError::Newsletter(NewsletterError::Store(error))
    }
}

/// Reads `email,name` CSV (a header line first; other columns ignored; a
/// missing name becomes the part of the address before @) and adds the new
/// addresses, as confirmed or as waiting for confirmation.
pub async fn import_csv(
    store: &Store,
    input: impl std::io::Read,
    confirmed: bool,
    now: i64,
    mut progress: impl FnMut(u64),
) -> Result<ImportReport, ImportError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(input);
    let headers = reader.headers()?.clone();
    let column = |wanted: &[&str]| {
        headers
            .iter()
            .position(|header| wanted.contains(&header.trim_start_matches('\u{feff}').to_lowercase().as_str()))
    };
    let email_column = column(&["email", "e-mail", "البريد", "البريد الإلكتروني"]).ok_or(ImportError::Header)?;
    let name_column = column(&["name", "الاسم"]);
    let mut report = ImportReport::default();
    let mut seen = HashSet::new();
    let mut chunk: Vec<ImportRow> = Vec::with_capacity(IMPORT_CHUNK);
    let mut record = csv::StringRecord::new();
    loop {
        let more = match reader.read_record(&mut record) {
            Ok(more) => more,
            Err(error) => {
                report.lines += 1;
                report.refused += 1;
                refuse(&mut report, "", &format!("سطر غير مقروء: {error}"));
                continue;
            }
        };
        if !more {
            break;
        }
        report.lines += 1;
        let raw_email = record.get(email_column).unwrap_or("");
        let email = match normalize_email(raw_email) {
            Ok(email) => email,
            Err(problem) => {
                report.refused += 1;
                refuse(&mut report, raw_email, problem.arabic());
                continue;
            }
        };
        let raw_name = name_column.and_then(|at| record.get(at)).unwrap_or("");
        let raw_name = if raw_name.is_empty() { email.split('@').next().unwrap_or("") } else { raw_name };
        let name = match normalize_name(raw_name) {
            Ok(name) => name,
            Err(problem) => {
                report.refused += 1;
                refuse(&mut report, raw_email, problem.arabic());
                continue;
            }
        };
        if !seen.insert(email.clone()) {
            report.already_listed += 1;
            continue;
        }
        chunk.push(ImportRow { email, name });
        if chunk.len() == IMPORT_CHUNK {
            write_chunk(store, &mut chunk, confirmed, now, &mut report).await?;
            progress(report.lines);
        }
    }
    write_chunk(store, &mut chunk, confirmed, now, &mut report).await?;
    progress(report.lines);
    Ok(report)
}

fn refuse(report: &mut ImportReport, value: &str, problem: &str) {
    if report.problems.len() < REPORTED_PROBLEMS {
        // Line numbers count the header as line 1, as a spreadsheet shows them.
        report.problems.push(ImportProblem {
            line: report.lines + 1,
            value: value.chars().take(120).collect(),
            problem: problem.to_owned(),
        });
    }
}

async fn write_chunk(
    store: &Store,
    chunk: &mut Vec<ImportRow>,
    confirmed: bool,
    now: i64,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    if chunk.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = chunk.iter().map(|_| new_link_key()).collect();
    let added = store.import_subscribers(chunk, confirmed, &keys, now).await?;
    report.added += added.len() as u64;
    report.already_listed += (chunk.len() - added.len()) as u64;
    report.added_ids.extend(added);
    chunk.clear();
    Ok(())
}

pub const EXPORT_HEADER: &[&str] = &[
    "email",
    "name",
    "status",
    "digest",
    "alerts",
    "source",
    "bounces",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
];

fn iso(seconds: Option<i64>) -> String {
    seconds.and_then(|seconds| jiff::Timestamp::from_second(seconds).ok()).map(|at| at.to_string()).unwrap_or_default()
}

/// A cell a spreadsheet would run as a formula gets a leading apostrophe:
/// names are typed by readers, and an export is opened by staff.
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// One page of the export, as CSV text (with the header when `first`).
pub fn export_rows(rows: &[SubscriberRow], first: bool) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if first {
        writer.write_record(EXPORT_HEADER)?;
    }
    for row in rows {
        writer.write_record([
            row.email.as_str(),
            &inert(&row.name),
            row.status.as_str(),
            if row.wants_digest { "yes" } else { "no" },
            if row.wants_alerts { "yes" } else { "no" },
            row.source.as_str(),
            &row.bounces.to_string(),
            &iso(Some(row.created_at)),
            &iso(row.confirmed_at),
            &iso(row.unsubscribed_at),
        ])?;
    }
    writer.into_inner().map_err(|error| csv::Error::from(error.into_error()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn exported_names_cannot_run_as_spreadsheet_formulas() {
        let row = SubscriberRow {
            id: 1,
            email: "a@example.com".to_owned(),
            name: "=HYPERLINK(\"http://evil\")".to_owned(),
            status: "confirmed".to_owned(),
            wants_digest: true,
            wants_alerts: false,
            link_key: String::new(),
            source: "form".to_owned(),
            bounces: 0,
            created_at: 0,
            confirmed_at: None,
            unsubscribed_at: None,
        };
        let csv = String::from_utf8(export_rows(&[row], true).unwrap()).unwrap();
        assert!(csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "{csv}");
        assert!(csv.starts_with("email,name,status,digest,alerts"));
    }
}
