//! The columns of an import file, shared by the CSV and JSON Lines readers: their names, and
//! how a value lands in an [`ImportRow`].

use keyward_core::secret::SecretString;
use keyward_core::service::ImportRow;

/// One column of an import file (a CSV header, or a JSON Lines field name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Workspace,
    Name,
    Key,
    Sha256,
    KeyPrefix,
    Scopes,
    ExpiresAt,
    CreatedBy,
    CreatedAt,
}

/// Every column, for messages that list them.
pub const KNOWN: &str = "workspace, name, key or sha256, and optionally key_prefix, scopes, \
     expires_at, created_by, created_at";

impl Column {
    /// A column by its name, ignoring case and surrounding spaces.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw.trim().to_ascii_lowercase().as_str() {
            "workspace" => Column::Workspace,
            "name" => Column::Name,
            "key" => Column::Key,
            "sha256" => Column::Sha256,
            "key_prefix" => Column::KeyPrefix,
            "scopes" => Column::Scopes,
            "expires_at" => Column::ExpiresAt,
            "created_by" => Column::CreatedBy,
            "created_at" => Column::CreatedAt,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Column::Workspace => "workspace",
            Column::Name => "name",
            Column::Key => "key",
            Column::Sha256 => "sha256",
            Column::KeyPrefix => "key_prefix",
            Column::Scopes => "scopes",
            Column::ExpiresAt => "expires_at",
            Column::CreatedBy => "created_by",
            Column::CreatedAt => "created_at",
        }
    }

    /// Stores a text value; an empty one means the column was left empty.
    pub fn set(self, row: &mut ImportRow, value: String) {
        if value.trim().is_empty() {
            return;
        }
        match self {
            Column::Workspace => row.workspace = Some(value),
            Column::Name => row.name = Some(value),
            // The secret goes straight into the type that never prints it.
            Column::Key => row.key = Some(SecretString::new(value.trim().to_owned())),
            Column::Sha256 => row.sha256 = Some(value),
            Column::KeyPrefix => row.key_prefix = Some(value),
            Column::Scopes => row.scopes = Some(split_scopes(&value)),
            Column::ExpiresAt => row.expires_at = Some(value),
            Column::CreatedBy => row.created_by = Some(value),
            Column::CreatedAt => row.created_at = Some(value),
        }
    }
}

/// Scopes written in one text field, separated by spaces or commas.
pub fn split_scopes(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Which required columns a set lacks, as a message; `None` when it has them all.
pub fn missing(columns: &[Column]) -> Option<String> {
    let has = |c| columns.contains(&c);
    let mut lacking = Vec::new();
    for c in [Column::Workspace, Column::Name] {
        if !has(c) {
            lacking.push(c.name());
        }
    }
    if !has(Column::Key) && !has(Column::Sha256) {
        lacking.push("key or sha256");
    }
    (!lacking.is_empty()).then(|| format!("missing column(s): {}", lacking.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_split_on_commas_and_spaces() {
        assert_eq!(
            split_scopes("apps:read, apps:deploy  billing:read,"),
            ["apps:read", "apps:deploy", "billing:read"]
        );
        assert_eq!(split_scopes("*"), ["*"]);
    }

    #[test]
    fn columns_are_named_case_insensitively_and_required_ones_are_checked() {
        assert_eq!(Column::parse(" SHA256 "), Some(Column::Sha256));
        assert_eq!(Column::parse("secret"), None);
        assert_eq!(
            missing(&[Column::Name]).as_deref(),
            Some("missing column(s): workspace, key or sha256")
        );
        assert_eq!(
            missing(&[Column::Workspace, Column::Name, Column::Sha256]),
            None
        );
    }
}
