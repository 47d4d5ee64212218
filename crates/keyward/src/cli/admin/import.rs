//! `keyward admin import-keys FILE`: another system's keys, from CSV or JSON Lines, imported
//! in batches through the service layer (PRODUCT.md §2 "Imported keys", §9).
//!
//! Rows are read as a stream and written a batch at a time, one transaction each, so a file
//! of any size needs no more memory than a batch. A row that fails is reported with its line
//! and the import goes on; a re-run of the same file skips what it already imported. The
//! progress bar is drawn on stderr only when stderr is a terminal.

mod columns;
mod csv_rows;
mod jsonl_rows;

use std::fs::File;
use std::io::{BufReader, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use keyward_core::service::{ImportRow, RowOutcome, RowResult};
use keyward_core::Service;
use serde::Serialize;

use self::csv_rows::CsvRows;
use self::jsonl_rows::JsonlRows;
use super::Refusal;
use crate::cli::output;

/// Rows per transaction, by default. Each commit rewrites most pages of the hash index (its
/// order is random) into the WAL, and each batch counts every key of the workspaces it
/// touches, so fewer, larger batches are faster: of 100,000 rows in 100 workspaces, batches
/// of 2,000 spent 5.8 s in commits and 4.9 s in limit checks, batches of 10,000 under 2 s
/// and 1.1 s (BENCHMARKS.md). The server's own writes queue behind a batch's transaction,
/// about 0.8 s at this size, well inside their 5 s busy timeout.
const BATCH_ROWS: u32 = 10_000;

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// CSV with a header line (.csv) or JSON Lines (.jsonl, .ndjson). Columns: workspace
    /// (id, or a name only one workspace has), name, key (plaintext) or sha256 (64 hex
    /// digits); optional key_prefix (sha256 rows), scopes (default *), expires_at,
    /// created_by (user id or email; default the workspace's oldest owner), created_at.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The file's format, when its extension does not say.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Print the summary, with every failed row, as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Rows per transaction. Smaller makes a running server's writes wait less behind the
    /// import; larger imports faster.
    #[arg(long, value_name = "N", default_value_t = BATCH_ROWS,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    batch_rows: u32,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Csv,
    Jsonl,
}

/// Where rows come from, whichever the format.
enum Rows {
    Csv(CsvRows<BufReader<File>>),
    Jsonl(JsonlRows<BufReader<File>>),
}

impl Rows {
    fn next_row(&mut self) -> Option<Result<ImportRow, RowResult>> {
        match self {
            Rows::Csv(r) => r.next_row(),
            Rows::Jsonl(r) => r.next_row(),
        }
    }

    fn position(&self) -> u64 {
        match self {
            Rows::Csv(r) => r.position(),
            Rows::Jsonl(r) => r.position(),
        }
    }
}

/// What the import did, as `--json` prints it.
#[derive(Serialize, Default)]
struct Summary {
    imported: u64,
    skipped: u64,
    failed: u64,
    /// Every failed row: its line and why, never its values.
    failures: Vec<Failure>,
}

#[derive(Serialize)]
struct Failure {
    line: u64,
    error: String,
}

pub async fn run(service: &Service, args: ImportArgs) -> Result<(), Refusal> {
    let format = match args.format {
        Some(f) => f,
        None => format_of(&args.file)?,
    };
    let file = File::open(&args.file).map_err(|e| {
        Refusal::new(
            "bad_request",
            format!("cannot open {}: {e}", args.file.display()),
        )
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let input = BufReader::new(file);
    let mut rows = match format {
        Format::Csv => Rows::Csv(CsvRows::new(input).map_err(|m| Refusal::new("bad_request", m))?),
        Format::Jsonl => Rows::Jsonl(JsonlRows::new(input)),
    };
    let bar = progress_bar(size);
    let mut importer = service.importer().await?;
    let mut summary = Summary::default();
    let batch_rows = args.batch_rows as usize;
    let mut batch = Vec::with_capacity(batch_rows);
    // Rows the reader already refused, reported with their batch so lines stay in order.
    let mut refused = Vec::new();
    loop {
        let next = rows.next_row();
        let end = next.is_none();
        match next {
            Some(Ok(row)) => batch.push(row),
            Some(Err(failed)) => refused.push(failed),
            None => {}
        }
        if batch.len() >= batch_rows || end {
            let mut results = importer.import_batch(std::mem::take(&mut batch)).await?;
            results.append(&mut refused);
            results.sort_by_key(|r| r.line);
            record(&mut summary, results, &bar, args.json);
            bar.set_position(rows.position());
            bar.set_message(counts(&summary));
        }
        if end {
            break;
        }
    }
    bar.finish_and_clear();

    let rows_read = summary.imported + summary.skipped + summary.failed;
    if args.json {
        output::json(&summary);
    } else {
        println!(
            "Imported {}, skipped {} (already present), failed {}, of {rows_read} row(s).",
            summary.imported, summary.skipped, summary.failed
        );
    }
    if summary.failed > 0 {
        let listed = if args.json { "in failures" } else { "above" };
        return Err(Refusal::new(
            "validation_failed",
            format!(
                "{} of {rows_read} row(s) failed (listed {listed}); fix them and run the same \
                 file again: rows imported now are skipped",
                summary.failed
            ),
        ));
    }
    Ok(())
}

/// The format an extension names; anything else needs `--format`.
fn format_of(path: &Path) -> Result<Format, Refusal> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv") => Ok(Format::Csv),
        Some("jsonl" | "ndjson") => Ok(Format::Jsonl),
        _ => Err(Refusal::new(
            "bad_request",
            format!(
                "cannot tell the format of {} from its extension (.csv, .jsonl or .ndjson); \
                 pass --format csv or --format jsonl",
                path.display()
            ),
        )),
    }
}

/// A bar over the file's bytes on a terminal; otherwise one that draws nothing, so logs and
/// pipes get only the row errors and the summary.
fn progress_bar(size: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(size);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{bar:32}] {percent:>3}% {msg} ({elapsed})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Counts the results; failures go to stderr as they come (above the bar), unless `--json`
/// collects them for its summary.
fn record(summary: &mut Summary, results: Vec<RowResult>, bar: &ProgressBar, json: bool) {
    for result in results {
        match result.outcome {
            RowOutcome::Imported(_) => summary.imported += 1,
            RowOutcome::Skipped => summary.skipped += 1,
            RowOutcome::Failed(error) => {
                summary.failed += 1;
                if json {
                    summary.failures.push(Failure {
                        line: result.line,
                        error,
                    });
                } else {
                    bar.suspend(|| eprintln!("line {}: {error}", result.line));
                }
            }
        }
    }
}

fn counts(summary: &Summary) -> String {
    format!(
        "{} imported, {} skipped, {} failed",
        summary.imported, summary.skipped, summary.failed
    )
}
