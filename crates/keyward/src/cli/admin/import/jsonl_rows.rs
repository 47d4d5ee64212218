//! Reading an import file as JSON Lines: one JSON object a line, its fields named like the
//! CSV columns. `scopes` may be an array of strings or one string; blank lines are skipped.

use std::io::BufRead;

use keyward_core::service::{ImportRow, RowResult};
use serde_json::Value;

use super::columns::{split_scopes, Column, KNOWN};

pub struct JsonlRows<R: BufRead> {
    input: R,
    line: u64,
    bytes: u64,
    buffer: Vec<u8>,
    done: bool,
}

impl<R: BufRead> JsonlRows<R> {
    pub fn new(input: R) -> Self {
        Self {
            input,
            line: 0,
            bytes: 0,
            buffer: Vec::new(),
            done: false,
        }
    }

    /// How far into the file reading has got, in bytes, for the progress bar.
    pub fn position(&self) -> u64 {
        self.bytes
    }

    /// The next row, or a failure for a line that cannot be one; `None` at the end.
    pub fn next_row(&mut self) -> Option<Result<ImportRow, RowResult>> {
        loop {
            if self.done {
                return None;
            }
            self.buffer.clear();
            let read = match self.input.read_until(b'\n', &mut self.buffer) {
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(n) => n,
                Err(e) => {
                    self.done = true;
                    return Some(Err(RowResult::failed(
                        self.line + 1,
                        format!("cannot be read: {}", e.kind()),
                    )));
                }
            };
            self.line += 1;
            self.bytes += read as u64;
            if self.buffer.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(parse_line(self.line, &self.buffer));
        }
    }
}

/// One line into a row. Messages name fields and positions, never values.
fn parse_line(line: u64, bytes: &[u8]) -> Result<ImportRow, RowResult> {
    let fail = |message: String| RowResult::failed(line, message);
    let text = std::str::from_utf8(bytes).map_err(|_| fail("is not valid UTF-8".into()))?;
    let object = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return Err(fail("is not a JSON object".into())),
        Err(e) => {
            return Err(fail(format!(
                "is not valid JSON (at column {})",
                e.column()
            )))
        }
    };
    let mut row = ImportRow {
        line,
        ..ImportRow::default()
    };
    for (field, value) in object {
        let Some(column) = Column::parse(&field) else {
            // Not named: a field name is the file's text, and could be anything.
            return Err(fail(format!(
                "has a field keyward does not know (the fields are {KNOWN})"
            )));
        };
        match (column, value) {
            (_, Value::Null) => {}
            (Column::Scopes, Value::Array(items)) => {
                let scopes: Option<Vec<String>> = items
                    .into_iter()
                    .map(|v| match v {
                        Value::String(s) => Some(s),
                        _ => None,
                    })
                    .collect();
                row.scopes = Some(scopes.ok_or_else(|| {
                    fail("scopes: must be an array of strings, or one string".into())
                })?);
            }
            (Column::Scopes, Value::String(s)) => row.scopes = Some(split_scopes(&s)),
            (column, Value::String(s)) => column.set(&mut row, s),
            (column, _) => {
                return Err(fail(format!("{}: must be a string", column.name())));
            }
        }
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::service::RowOutcome;

    fn read(text: &str) -> Vec<Result<ImportRow, RowResult>> {
        let mut rows = JsonlRows::new(text.as_bytes());
        std::iter::from_fn(|| rows.next_row()).collect()
    }

    fn failure(r: &Result<ImportRow, RowResult>) -> (u64, String) {
        match r {
            Err(RowResult {
                line,
                outcome: RowOutcome::Failed(m),
            }) => (*line, m.clone()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lines_are_counted_blank_ones_skipped_and_scopes_may_be_an_array_or_a_string() {
        let rows = read(
            "{\"workspace\":\"Acme\",\"name\":\"a\",\"key\":\"legacy-0123456789\",\"scopes\":[\"apps:read\"]}\n\
             \n\
             {\"workspace\":\"Acme\",\"name\":\"b\",\"sha256\":\"00\",\"scopes\":\"apps:read, billing:read\",\"expires_at\":null}\n",
        );
        assert_eq!(rows.len(), 2);
        let a = rows[0].as_ref().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            (a.line, a.scopes.clone()),
            (1, Some(vec!["apps:read".into()]))
        );
        let b = rows[1].as_ref().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(b.line, 3);
        assert_eq!(
            b.scopes,
            Some(vec!["apps:read".into(), "billing:read".into()])
        );
        assert_eq!(b.expires_at, None);
    }

    #[test]
    fn bad_lines_fail_alone_by_line_number_without_quoting_the_line() {
        let rows = read(
            "{\"workspace\":\"Acme\",\"key\":\"legacy-secret-1\"\n\
             [\"legacy-secret-2\"]\n\
             {\"workspace\":\"Acme\",\"legacy-secret-3\":1}\n\
             {\"workspace\":\"Acme\",\"key\":42}\n\
             {\"workspace\":\"Acme\",\"scopes\":[1]}\n",
        );
        let expected = [
            (1, "not valid JSON"),
            (2, "not a JSON object"),
            (3, "does not know"),
            (4, "key: must be a string"),
            (5, "scopes: must be an array of strings"),
        ];
        assert_eq!(rows.len(), expected.len());
        for (row, (line, text)) in rows.iter().zip(expected) {
            let (got_line, message) = failure(row);
            assert_eq!(got_line, line, "{message}");
            assert!(message.contains(text), "{message}");
            assert!(!message.contains("legacy-secret"), "{message}");
        }
    }
}
