//! Reading an import file as CSV: a header line naming the columns, then one key a record.
//! Quoting, commas and newlines inside fields are the `csv` crate's job; each record knows
//! the line it starts on, which every error message gives.

use std::io::Read;

use csv::{ByteRecord, ErrorKind};
use keyward_core::service::{ImportRow, RowResult};

use super::columns::{self, Column, KNOWN};

pub struct CsvRows<R: Read> {
    reader: csv::Reader<R>,
    columns: Vec<Column>,
    record: ByteRecord,
    done: bool,
}

impl<R: Read> CsvRows<R> {
    /// Reads and checks the header. A header keyward cannot use stops the import before any
    /// row is read: every row would fail the same way.
    pub fn new(input: R) -> Result<Self, String> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(input);
        let header = reader
            .byte_headers()
            .map_err(|e| format!("cannot read the CSV header: {}", describe(&e)))?
            .clone();
        let mut columns = Vec::with_capacity(header.len());
        for (i, raw) in header.iter().enumerate() {
            // Never echoed: in a file without a header line, this "name" is a row's secret.
            let column = std::str::from_utf8(raw)
                .ok()
                .and_then(Column::parse)
                .ok_or_else(|| {
                    format!(
                        "column {} of the header line is not one keyward knows (the columns \
                         are {KNOWN}); does the file start with a header line?",
                        i + 1
                    )
                })?;
            if columns.contains(&column) {
                return Err(format!(
                    "the header line names the column {} twice",
                    column.name()
                ));
            }
            columns.push(column);
        }
        if let Some(message) = columns::missing(&columns) {
            return Err(format!(
                "{message} in the header line (the columns are {KNOWN})"
            ));
        }
        Ok(Self {
            reader,
            columns,
            record: ByteRecord::new(),
            done: false,
        })
    }

    /// How far into the file reading has got, in bytes, for the progress bar.
    pub fn position(&self) -> u64 {
        self.reader.position().byte()
    }

    /// The next row, or a failure for a record that cannot be read; `None` at the end.
    pub fn next_row(&mut self) -> Option<Result<ImportRow, RowResult>> {
        if self.done {
            return None;
        }
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                Some(self.row(line))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                // A damaged record is skipped and reading goes on; a failing read stops.
                if matches!(e.kind(), ErrorKind::Io(_)) {
                    self.done = true;
                }
                Some(Err(RowResult::failed(line, describe(&e))))
            }
        }
    }

    fn row(&self, line: u64) -> Result<ImportRow, RowResult> {
        let mut row = ImportRow {
            line,
            ..ImportRow::default()
        };
        for (column, raw) in self.columns.iter().zip(self.record.iter()) {
            let value = String::from_utf8(raw.to_vec()).map_err(|_| {
                RowResult::failed(line, format!("{}: is not valid UTF-8", column.name()))
            })?;
            column.set(&mut row, value);
        }
        Ok(row)
    }
}

/// What went wrong with a record, in words that never quote its fields.
fn describe(e: &csv::Error) -> String {
    match e.kind() {
        ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} field(s) where the header line has {expected_len}"),
        ErrorKind::Utf8 { .. } => "is not valid UTF-8".into(),
        ErrorKind::Io(io) => format!("cannot be read: {}", io.kind()),
        _ => "is not valid CSV".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::service::RowOutcome;

    fn read(text: &str) -> Vec<Result<ImportRow, RowResult>> {
        let mut rows = CsvRows::new(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        std::iter::from_fn(|| rows.next_row()).collect()
    }

    #[test]
    fn records_carry_the_line_they_start_on_and_quoted_fields_keep_commas_and_newlines() {
        let rows = read(
            "workspace,name,key,scopes\n\
             Acme,\"Zapier, prod\",legacy-0123456789,\"apps:read apps:deploy\"\n\
             Acme,\"two\nlines\",legacy-abcdef012345,\n",
        );
        let first = rows[0].as_ref().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(first.line, 2);
        assert_eq!(first.name.as_deref(), Some("Zapier, prod"));
        assert_eq!(
            first.scopes.as_deref(),
            Some(&["apps:read".to_owned(), "apps:deploy".to_owned()][..])
        );
        let second = rows[1].as_ref().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(second.line, 3);
        assert_eq!(second.scopes, None, "an empty field is left out");
    }

    #[test]
    fn a_record_with_the_wrong_number_of_fields_fails_alone_without_quoting_it() {
        let rows = read(
            "workspace,name,key\n\
             Acme,one,legacy-0123456789,extra-secret-field\n\
             Acme,two,legacy-abcdef012345\n",
        );
        match &rows[0] {
            Err(RowResult {
                line: 2,
                outcome: RowOutcome::Failed(message),
            }) => {
                assert!(message.contains("4 field(s)"), "{message}");
                assert!(!message.contains("secret"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(rows[1].is_ok());
    }

    #[test]
    fn a_header_keyward_cannot_use_stops_the_import_without_echoing_it() {
        for (text, expect) in [
            ("legacy-0123456789,Acme,name\n", "column 1 of the header"),
            ("workspace,name\n", "missing column(s): key or sha256"),
            ("workspace,name,key,KEY\n", "twice"),
        ] {
            let e = CsvRows::new(text.as_bytes()).err().unwrap_or_default();
            assert!(e.contains(expect), "{e}");
            assert!(!e.contains("legacy-0123456789"), "{e}");
        }
    }
}
