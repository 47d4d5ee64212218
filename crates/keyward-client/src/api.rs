//! Calls to keyward's `/api/v1`: one bearer credential per client, the error envelope turned
//! into [`ApiError`], and `Link: <…>; rel="next"` pagination followed on request.

use std::time::Duration;

use keyward_core::secret::SecretString;
use reqwest::header::{HeaderMap, AUTHORIZATION, LINK};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

/// Why a call did not succeed. The three kinds map to the CLI's exit codes 1 and 3: the
/// server said no, or there was no server to ask.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No answer: refused connection, DNS, TLS or a timeout. Names the URL it tried, because
    /// the usual cause is a wrong `--url` or a server that is not running.
    #[error("cannot reach keyward at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The server answered with its error envelope (or a bare status).
    #[error("{0}")]
    Api(ApiError),
    /// The server answered something that is not keyward's API, e.g. HTML from a proxy.
    #[error("unexpected answer from {url}: {reason}")]
    Protocol { url: String, reason: String },
}

/// keyward's error envelope, `{"error": {code, message, details?, request_id}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// `(field, message)` pairs of a validation error.
    pub details: Vec<(String, String)>,
    pub request_id: Option<String>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        for (field, message) in &self.details {
            write!(f, "\n  {field}: {message}")?;
        }
        Ok(())
    }
}

/// One page of a listing and where the next one is, if there is one.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Value>,
    pub next: Option<Url>,
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// A client of one keyward server with one credential: an API key for the management API,
/// or a service token for the verify API.
#[derive(Clone)]
pub struct Client {
    /// `<server>/api/v1/`, so that relative paths join under it.
    api: Url,
    http: reqwest::Client,
    bearer: SecretString,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("api", &self.api.as_str())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// `server` is the server's base URL, e.g. `https://keys.example.com` (a path prefix
    /// such as `https://example.com/keyward` is kept).
    pub fn new(server: &str, bearer: SecretString) -> std::result::Result<Self, String> {
        let mut base = Url::parse(server.trim())
            .map_err(|e| format!("the URL {server:?} is not valid: {e}"))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(format!(
                "the URL {server:?} must start with http:// or https://"
            ));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let api = base
            .join("api/v1/")
            .map_err(|e| format!("the URL {server:?} is not valid: {e}"))?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("keyward-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(Self { api, http, bearer })
    }

    /// The server's base URL, as given (with a trailing `/`).
    pub fn server(&self) -> String {
        self.api
            .join("../../")
            .map(String::from)
            .unwrap_or_else(|_| self.api.to_string())
    }

    /// The URL a path resolves to, e.g. for messages.
    pub fn url(&self, path: &str) -> String {
        self.api
            .join(path)
            .map(String::from)
            .unwrap_or_else(|_| format!("{}{path}", self.api))
    }

    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        let (body, _) = self
            .send(Method::GET, self.resolve(path, query)?, None)
            .await?;
        Ok(body)
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let url = self.resolve(path, &[])?;
        Ok(self.send(Method::POST, url, Some(body)).await?.0)
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Result<Value> {
        let url = self.resolve(path, &[])?;
        Ok(self.send(Method::PATCH, url, Some(body)).await?.0)
    }

    pub async fn delete(&self, path: &str) -> Result<()> {
        let url = self.resolve(path, &[])?;
        self.send(Method::DELETE, url, None).await.map(|_| ())
    }

    /// The first page of a listing.
    pub async fn page(&self, path: &str, query: &[(&str, String)]) -> Result<Page> {
        self.page_at(self.resolve(path, query)?).await
    }

    /// A page from a `next` link.
    pub async fn page_at(&self, url: Url) -> Result<Page> {
        let (body, headers) = self.send(Method::GET, url.clone(), None).await?;
        let Value::Array(items) = body else {
            return Err(protocol(&url, "a listing that is not a JSON array"));
        };
        let next = next_link(&headers).and_then(|link| url.join(&link).ok());
        Ok(Page { items, next })
    }

    /// Every page of a listing, following `Link` headers to the end.
    pub async fn all(&self, path: &str, query: &[(&str, String)]) -> Result<Vec<Value>> {
        let mut page = self.page(path, query).await?;
        let mut items = std::mem::take(&mut page.items);
        while let Some(next) = page.next.take() {
            page = self.page_at(next).await?;
            items.append(&mut page.items);
        }
        Ok(items)
    }

    fn resolve(&self, path: &str, query: &[(&str, String)]) -> Result<Url> {
        let mut url = self
            .api
            .join(path.trim_start_matches('/'))
            .map_err(|e| protocol(&self.api, &format!("bad path: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<(Value, HeaderMap)> {
        let mut request = self.http.request(method, url.clone()).header(
            AUTHORIZATION,
            format!("Bearer {}", self.bearer.expose_secret()),
        );
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| ClientError::Unreachable {
            url: without_query(&url),
            reason: reason_of(&e),
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .map_err(|e| ClientError::Unreachable {
                url: without_query(&url),
                reason: reason_of(&e),
            })?;
        if status.is_success() {
            if status == StatusCode::NO_CONTENT || text.is_empty() {
                return Ok((Value::Null, headers));
            }
            return serde_json::from_str(&text)
                .map(|v| (v, headers))
                .map_err(|_| protocol(&url, "a body that is not JSON"));
        }
        Err(ClientError::Api(api_error(status, &headers, &text)))
    }
}

/// The envelope when the body is one; otherwise a message from the status alone, so that a
/// proxy's HTML error page still gives a readable line.
fn api_error(status: StatusCode, headers: &HeaderMap, text: &str) -> ApiError {
    let header_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let envelope = serde_json::from_str::<Value>(text).ok();
    let error = envelope.as_ref().and_then(|v| v.get("error"));
    let field = |name: &str| error.and_then(|e| e.get(name)).and_then(Value::as_str);
    let details = error
        .and_then(|e| e.get("details"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|d| {
                    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                    (s("field"), s("message"))
                })
                .collect()
        })
        .unwrap_or_default();
    ApiError {
        status: status.as_u16(),
        code: field("code").unwrap_or("http_error").to_owned(),
        message: field("message").map(str::to_owned).unwrap_or_else(|| {
            format!(
                "the server answered {status} without keyward's error envelope; is the URL a keyward server?"
            )
        }),
        details,
        request_id: field("request_id").map(str::to_owned).or(header_id),
    }
}

/// The target of `Link: <…>; rel="next"`, if the header has one.
fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find(|part| part.contains("rel=\"next\"") || part.contains("rel=next"))
        .and_then(|part| {
            let start = part.find('<')? + 1;
            let end = part.find('>')?;
            part.get(start..end).map(str::to_owned)
        })
}

fn protocol(url: &Url, reason: &str) -> ClientError {
    ClientError::Protocol {
        url: without_query(url),
        reason: reason.to_owned(),
    }
}

fn without_query(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.into()
}

/// reqwest's own message is "error sending request for url (...)"; its source says why.
fn reason_of(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut reason = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = e.source();
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(last) = last {
        reason = format!("{reason} ({last})");
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(server: &str) -> Client {
        match Client::new(server, SecretString::new("kw_x".into())) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn paths_join_under_api_v1_and_a_path_prefix_is_kept() {
        assert_eq!(
            client("http://127.0.0.1:8787").url("api-keys"),
            "http://127.0.0.1:8787/api/v1/api-keys"
        );
        assert_eq!(
            client("https://example.com/keyward").url("users/current"),
            "https://example.com/keyward/api/v1/users/current"
        );
        assert_eq!(
            client("https://example.com/keyward").server(),
            "https://example.com/keyward/"
        );
        assert_eq!(
            client("http://127.0.0.1:8787").server(),
            "http://127.0.0.1:8787/"
        );
    }

    #[test]
    fn only_http_urls_are_servers() {
        for bad in ["ftp://example.com", "example.com", "mailto:a@b.c", ""] {
            assert!(
                Client::new(bad, SecretString::new("k".into())).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_next_link_is_found_among_others() {
        let mut headers = HeaderMap::new();
        let value = "</api/v1/x?a=1>; rel=\"prev\", </api/v1/x?cursor=abc>; rel=\"next\"";
        headers.insert(LINK, value.parse().unwrap_or_else(|_| panic!("header")));
        assert_eq!(next_link(&headers).as_deref(), Some("/api/v1/x?cursor=abc"));
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn an_envelope_becomes_code_message_and_details() {
        let body = r#"{"error":{"code":"validation_failed","message":"The request is not valid.","details":[{"field":"name","message":"must not be empty"}],"request_id":"r1"}}"#;
        let e = api_error(StatusCode::UNPROCESSABLE_ENTITY, &HeaderMap::new(), body);
        assert_eq!(e.code, "validation_failed");
        assert_eq!(e.request_id.as_deref(), Some("r1"));
        assert_eq!(
            e.to_string(),
            "validation_failed: The request is not valid.\n  name: must not be empty"
        );
    }

    #[test]
    fn a_body_that_is_not_the_envelope_still_reads_as_words() {
        let e = api_error(
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            "<html>bad</html>",
        );
        assert_eq!(e.code, "http_error");
        assert!(e.message.contains("502"), "{}", e.message);
    }
}
