//! The service layer: every rule of PRODUCT.md §3–§5 lives here, and the HTTP API, the
//! console and the admin CLI all call it, so they cannot disagree.

#[macro_use]
mod retry;

mod accounts;
mod audit;
mod import;
mod instance;
mod invitations;
mod keys;
mod lookup;
mod members;
mod operator;
mod principal;
mod rotation;
mod service_tokens;
mod sessions;
mod signup;
mod workspaces;

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use uuid::Uuid;

pub use accounts::{NewUser, UserWorkspace, WhoAmI};
pub use audit::AuditFilter;
pub use import::{ImportRow, Importer, RowOutcome, RowResult};
pub use instance::PepperCheck;
pub use invitations::{Added, InvitationView, INVITATION_TTL};
pub use keys::{CreatedKey, KeyFilter, KeyPatch, NewKey};
pub use lookup::{FoundKey, LeakReport, ReportedLeak};
pub use members::{MemberPatch, NewMember};
pub use principal::{Caller, Principal, RequestMeta, Via};
pub use rotation::Rotation;
pub use sessions::LoggedIn;
pub use signup::{Signup, VERIFY_LINK_TTL};
pub use workspaces::{PlanChange, WorkspacePatch};

/// Every audit action, for the API's schema of `action`.
pub use audit::ACTIONS;

use crate::error::{Error, Result};
use crate::key_format::{KeyFormat, KeyPrefix};
use crate::limiter::{Client, WindowLimiter};
use crate::mail::Mailer;
use crate::model::ApiKey;
use crate::password::Passwords;
use crate::scope::Catalog;
use crate::secret::Pepper;
use crate::store::{Cursor, Store};
use crate::usage::UsageLog;
use crate::verify::Verifier;

/// A plan's limits; `None` means no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub max_active_keys: Option<u64>,
}

/// The parts of the configuration that rules depend on.
#[derive(Debug, Clone)]
pub struct Settings {
    pub catalog: Catalog,
    pub plans: BTreeMap<String, Plan>,
    pub default_plan: String,
    pub max_keys_per_workspace: u64,
    pub default_key_prefix: KeyPrefix,
    /// The shape of new workspaces' keys.
    pub default_key_format: KeyFormat,
    /// The verification cache's bounds.
    pub cache: crate::cache::CachePolicy,
    /// Whether anyone may sign up; invitations work either way.
    pub allow_signup: bool,
    /// The externally visible base URL that emailed links start with.
    pub public_url: String,
    pub sessions: SessionPolicy,
    /// Failed log-ins allowed per account, and per client IP, in a minute.
    pub login_failures_per_minute: u32,
}

/// How long a console session lives.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Ended after this long without a request.
    pub idle: chrono::TimeDelta,
    /// Ended this long after log-in, however busy.
    pub max: chrono::TimeDelta,
}

/// Failed log-ins, counted per account and per client.
#[derive(Debug)]
struct LoginLimits {
    by_account: WindowLimiter<String>,
    by_client: WindowLimiter<Client>,
}

/// One page of a newest-first listing, and the cursor of the next page if there is one.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The service layer. Cloning it is one reference count: every request's handler gets a
/// clone (axum's `State`), and a profile of the verify endpoint under load showed copying
/// the fields one by one among its largest costs.
#[derive(Clone)]
pub struct Service(Arc<Parts>);

/// What [`Service`] shares; its methods reach these fields through `Deref`.
pub struct Parts {
    store: Arc<dyn Store>,
    pepper: Pepper,
    settings: Arc<Settings>,
    usage: Arc<UsageLog>,
    verifier: Verifier,
    mailer: Arc<dyn Mailer>,
    passwords: Passwords,
    login_limits: Arc<LoginLimits>,
    /// Verification emails sent per address: one a minute.
    resend_limit: Arc<WindowLimiter<String>>,
}

impl std::ops::Deref for Service {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").finish_non_exhaustive()
    }
}

impl Service {
    pub fn new(
        store: Arc<dyn Store>,
        pepper: Pepper,
        settings: Settings,
        mailer: Arc<dyn Mailer>,
    ) -> Self {
        let usage = Arc::new(UsageLog::default());
        let verifier = Verifier::new(store.clone(), pepper.clone(), usage.clone(), settings.cache);
        let login_limits = Arc::new(LoginLimits {
            by_account: WindowLimiter::new(settings.login_failures_per_minute),
            by_client: WindowLimiter::new(settings.login_failures_per_minute),
        });
        Self(Arc::new(Parts {
            store,
            pepper,
            settings: Arc::new(settings),
            usage,
            verifier,
            mailer,
            passwords: Passwords::default(),
            login_limits,
            resend_limit: Arc::new(WindowLimiter::new(1)),
        }))
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Commits a write, then applies what it wrote to this node's verification cache before
    /// the caller acknowledges it: the next verification on this node sees the change. Every
    /// write goes through here, so no write path can forget to invalidate; the transaction
    /// says what it wrote. Other processes' writes arrive through the store's change feed.
    pub(crate) async fn commit(&self, tx: Box<dyn crate::store::StoreTx>) -> Result<()> {
        let written = tx.commit().await?;
        self.verifier.forget_written(&written);
        Ok(())
    }

    pub fn usage(&self) -> &Arc<UsageLog> {
        &self.usage
    }

    /// Shows a key with its latest use, including uses not yet flushed to the store.
    fn with_usage(&self, mut key: ApiKey) -> ApiKey {
        if let Some(at) = self.usage.pending(key.id) {
            key.last_used_at = Some(key.last_used_at.map_or(at, |stored| stored.max(at)));
        }
        key
    }
}

/// Page sizes: `?limit=` is 1–200, default 50.
pub(crate) fn page_limit(limit: Option<u32>) -> Result<u32> {
    match limit {
        None => Ok(50),
        Some(n @ 1..=200) => Ok(n),
        Some(_) => Err(Error::BadRequest("limit must be between 1 and 200".into())),
    }
}

/// Cursors are opaque to clients: base64url of `<millis>.<id>` of the last row shown.
pub(crate) fn encode_cursor(c: Cursor) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        "{}.{}",
        c.at.timestamp_millis(),
        c.id
    ))
}

pub(crate) fn decode_cursor(raw: Option<&str>) -> Result<Option<Cursor>> {
    let Some(raw) = raw else { return Ok(None) };
    let bad = || Error::BadRequest("cursor is not one this server issued".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (ms, id) = text.split_once('.').ok_or_else(bad)?;
    let at = ms
        .parse::<i64>()
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .ok_or_else(bad)?;
    let id = Uuid::parse_str(id).map_err(|_| bad())?;
    Ok(Some(Cursor { at, id }))
}

/// Trims a fetched page of `limit + 1` rows to `limit`, and derives the next cursor.
pub(crate) fn paginate<T>(
    mut rows: Vec<T>,
    limit: u32,
    cursor_of: impl Fn(&T) -> Cursor,
) -> Page<T> {
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|last| encode_cursor(cursor_of(last)))
    } else {
        None
    };
    Page {
        items: rows,
        next_cursor,
    }
}
