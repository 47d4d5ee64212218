//! How client commands print: tables that fit 80 columns, colour only on a terminal (and
//! never with `NO_COLOR`), times people read, and a secret printed exactly once.

use std::io::IsTerminal;

use chrono::{DateTime, Utc};
use comfy_table::{presets, Cell, Color, ContentArrangement, Table};
use serde_json::Value;

/// The width tables wrap to when stdout is not a terminal (a pipe, a file, CI logs).
const PLAIN_WIDTH: u16 = 80;

/// Colour is for people: a terminal on stdout, and no `NO_COLOR` (https://no-color.org).
pub fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A table with a header row, wrapped to the terminal's width or to 80 columns.
pub fn table<const N: usize>(header: [&str; N]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().map(|h| Cell::new(h.to_uppercase())));
    if colour() {
        table.enforce_styling();
    } else {
        table.force_no_tty().set_width(PLAIN_WIDTH);
    }
    if table.width().is_none() {
        table.set_width(PLAIN_WIDTH);
    }
    table
}

/// Two columns, field and value, for one object (`apikey show`, `whoami`).
pub fn details(rows: &[(&str, String)]) -> Table {
    let mut table = table(["field", "value"]);
    for (field, value) in rows {
        table.add_row([Cell::new(field), Cell::new(value)]);
    }
    table
}

/// A key's status in colour: green active, red revoked, yellow expired.
pub fn status(key: &Value) -> Cell {
    let status = text(key, "status");
    let colour = match status.as_str() {
        "active" => Color::Green,
        "revoked" => Color::Red,
        _ => Color::Yellow,
    };
    Cell::new(status).fg(colour)
}

/// A string field, or "" when absent or null.
pub fn text(value: &Value, field: &str) -> String {
    match value.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A key's permissions: "full access", or its scopes.
pub fn permissions(key: &Value) -> String {
    if text(key, "access") == "full" {
        return "full access".into();
    }
    key.get("scopes")
        .and_then(Value::as_array)
        .map(|scopes| {
            scopes
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// `2027-01-01 00:00 UTC`, or `never` for a null timestamp.
pub fn time(value: &Value, field: &str) -> String {
    match parse_time(value, field) {
        Some(t) => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        None => "never".into(),
    }
}

/// `2027-01-01 00:00`, for columns headed "(utc)".
pub fn date_time(value: &Value, field: &str) -> String {
    match parse_time(value, field) {
        Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        None => "never".into(),
    }
}

/// The date only, for narrow columns.
pub fn date(value: &Value, field: &str) -> String {
    match parse_time(value, field) {
        Some(t) => t.format("%Y-%m-%d").to_string(),
        None => "never".into(),
    }
}

/// "3 days ago", "in 2 hours", "just now" or "never".
pub fn relative(value: &Value, field: &str) -> String {
    let Some(t) = parse_time(value, field) else {
        return "never".into();
    };
    let seconds = (t - Utc::now()).num_seconds();
    let (amount, unit) = match seconds.unsigned_abs() {
        s if s < 60 => return "just now".into(),
        s if s < 3_600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3_600, "hour"),
        s if s < 86_400 * 60 => (s / 86_400, "day"),
        s if s < 86_400 * 730 => (s / (86_400 * 30), "month"),
        s => (s / (86_400 * 365), "year"),
    };
    let plural = if amount == 1 { "" } else { "s" };
    if seconds < 0 {
        format!("{amount} {unit}{plural} ago")
    } else {
        format!("in {amount} {unit}{plural}")
    }
}

fn parse_time(value: &Value, field: &str) -> Option<DateTime<Utc>> {
    value
        .get(field)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Prints a table without the padding its last column leaves at the end of each line.
pub fn print_table(table: &Table) {
    for line in table.lines() {
        println!("{}", line.trim_end());
    }
}

/// What a command did: `value` as JSON for `--json`, else a sentence.
pub fn outcome(json: bool, value: &Value, sentence: &str) {
    if json {
        print_json(value);
    } else {
        println!("{sentence}");
    }
}

/// Prints the API's JSON, for `--json`.
pub fn print_json(value: &Value) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("error: cannot encode output: {e}"),
    }
}

/// Prints the secret of a key just created or rotated, the one time it can be seen.
/// On a terminal: the key's name and prefix, the secret, and a warning on stderr. Otherwise
/// only the secret, so that `KEY=$(keyward apikey create --name ci)` captures exactly it.
pub fn print_new_secret(key: &Value) {
    let secret = text(key, "key");
    if !std::io::stdout().is_terminal() {
        println!("{secret}");
        return;
    }
    println!(
        "Created {} ({}).\n\n  {secret}\n",
        text(key, "name"),
        text(key, "key_prefix")
    );
    let warning = "Copy this key now and store it somewhere safe: it will not be shown again.";
    if colour() && std::io::stderr().is_terminal() {
        eprintln!("\x1b[33m{warning}\x1b[0m");
    } else {
        eprintln!("{warning}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn relative_times_read_like_speech() {
        let at =
            |secs: i64| json!({"t": (Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339()});
        assert_eq!(relative(&at(-5), "t"), "just now");
        assert_eq!(relative(&at(-3 * 86_400 - 10), "t"), "3 days ago");
        assert_eq!(relative(&at(2 * 3_600 + 30), "t"), "in 2 hours");
        assert_eq!(relative(&at(-61), "t"), "1 minute ago");
        assert_eq!(relative(&json!({"t": null}), "t"), "never");
    }

    #[test]
    fn permissions_say_full_access_or_list_the_scopes() {
        assert_eq!(
            permissions(&json!({"access": "full", "scopes": ["*"]})),
            "full access"
        );
        assert_eq!(
            permissions(&json!({"access": "custom", "scopes": ["apps:read", "billing:read"]})),
            "apps:read, billing:read"
        );
    }

    #[test]
    fn a_wide_table_wraps_to_80_columns_off_a_terminal() {
        let mut t = table(["name", "value"]);
        t.add_row(["x".repeat(70), "y".repeat(70)]);
        // Tests run with stdout captured, so this is the non-terminal case.
        for line in t.to_string().lines() {
            assert!(line.chars().count() <= 80, "{} columns: {line}", line.len());
        }
    }
}
