//! Reading a message the way a mail client does: unfolded headers with RFC 2047 words
//! decoded, and the body decoded from its transfer encoding (keyward's links usually make a
//! line long enough for quoted-printable). Also: the outbox directory's messages.

use std::path::Path;

use base64::Engine;

#[derive(Debug, Clone)]
pub struct Eml {
    /// Header names in lower case, values unfolded and decoded, in order.
    pub headers: Vec<(String, String)>,
    /// The decoded text, with `\n` line ends.
    pub body: String,
}

impl Eml {
    /// Parses `raw`, panicking (this is a test) on anything that is not a message.
    pub fn parse(raw: &str) -> Eml {
        let (head, body) = raw
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no blank line between headers and body:\n{raw}"));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                let (_, value) = headers.last_mut().expect("a folded line follows a header");
                value.push_str(line);
            } else {
                let (name, value) = line
                    .split_once(':')
                    .unwrap_or_else(|| panic!("not a header line: {line:?}"));
                headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        for (_, value) in &mut headers {
            *value = decode_words(value);
        }
        let mut eml = Eml {
            headers,
            body: String::new(),
        };
        let bytes = match eml.header("content-transfer-encoding") {
            None | Some("7bit" | "8bit") => body.as_bytes().to_vec(),
            Some("quoted-printable") => quoted_printable(body),
            Some("base64") => base64::engine::general_purpose::STANDARD
                .decode(body.replace("\r\n", ""))
                .expect("a base64 body"),
            Some(other) => panic!("unexpected Content-Transfer-Encoding {other}"),
        };
        eml.body = String::from_utf8(bytes)
            .expect("a UTF-8 body")
            .replace("\r\n", "\n");
        eml
    }

    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first `http(s)://` link in the body that contains `needle`, e.g. `token=`.
    pub fn link_containing(&self, needle: &str) -> Option<String> {
        self.body
            .split_whitespace()
            .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
            .find(|w| w.contains(needle))
            .map(|w| w.trim_end_matches(['.', ',', ')', '>']).to_owned())
    }
}

/// Every message in `<data_dir>/outbox/`, oldest first (the file names are v7 UUIDs).
pub fn outbox(data_dir: &Path) -> Vec<Eml> {
    let dir = data_dir.join("outbox");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| Eml::parse(&std::fs::read_to_string(p).unwrap()))
        .collect()
}

/// RFC 2045 §6.7: `=` at a line end is a soft break, `=XX` a byte.
fn quoted_printable(body: &str) -> Vec<u8> {
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).expect("=XX in quoted-printable"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`); whitespace between two
/// adjacent encoded words is dropped, as the RFC says.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let Some(word) = parse_word(&rest[start..]) else {
            break;
        };
        let gap = &rest[..start];
        if !(after_word && gap.trim().is_empty()) {
            out.push_str(gap);
        }
        out.push_str(&word.0);
        rest = &rest[start + word.1..];
        after_word = true;
    }
    out.push_str(rest);
    out
}

/// One encoded word at the start of `text`: (decoded text, length consumed).
fn parse_word(text: &str) -> Option<(String, usize)> {
    let mut parts = text[2..].splitn(3, '?');
    let _charset = parts.next()?;
    let encoding = parts.next()?.to_ascii_lowercase();
    let tail = parts.next()?;
    let end = tail.find("?=")?;
    let encoded = &tail[..end];
    let bytes = match encoding.as_str() {
        "b" => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?,
        "q" => quoted_printable(&encoded.replace('_', " ")),
        _ => return None,
    };
    let consumed = text.len() - tail.len() + end + 2;
    Some((String::from_utf8(bytes).ok()?, consumed))
}
