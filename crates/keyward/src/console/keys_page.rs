//! The API Keys page (`/platform/api-keys`, PRODUCT.md §10): the table, its filter, and the
//! create, edit, rotate, revoke and delete forms. Every form calls the same service method
//! as the JSON API; what the page hides from a visitor, the service refuses anyway.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::model::{now, ApiKey, KeyStatus};
use keyward_core::scope::MANAGEMENT_SCOPES;
use keyward_core::service::{KeyFilter, KeyPatch, NewKey, Principal, Rotation};
use keyward_core::Error;
use serde::Deserialize;
use uuid::Uuid;

use super::form::{CsrfOnly, Form};
use super::page::{self, redirect, render, words};
use super::time::When;
use super::visitor::{PageResult, Shell, Visitor};
use crate::http::extract::parse_id;
use crate::http::AppState;

#[derive(Template)]
#[template(path = "console/api_keys.html")]
struct KeysPage {
    shell: Shell,
    rows: Vec<KeyRow>,
    status: String,
    q: String,
    filtered: bool,
    can_create: bool,
    /// A secret just minted: shown once, in the dialog that opens with the page.
    created: Option<NewSecret>,
    /// The create form, empty or as sent when it failed: then the dialog reopens with it
    /// and the error.
    create_name: String,
    create_expires: String,
    create_custom: bool,
    create_choices: Vec<Choice>,
    /// Whether the visitor holds `*`, and so may give a key full access.
    full_allowed: bool,
    create_error: Option<String>,
    more: bool,
}

struct KeyRow {
    id: String,
    name: String,
    key_prefix: String,
    full_access: bool,
    scopes: Vec<String>,
    status: &'static str,
    created: When,
    created_by: String,
    expires: Option<When>,
    last_used: Option<When>,
    /// Which controls the visitor gets for this key (the service checks again).
    can_change: bool,
    can_revoke: bool,
    can_delete: bool,
    rotated: bool,
    /// Brought in by `keyward admin import-keys` from another system.
    imported: bool,
    /// The edit dialog's checkboxes.
    choices: Vec<Choice>,
}

/// One scope checkbox of the access fieldset.
#[derive(Clone)]
struct Choice {
    name: String,
    /// Product scopes first, then keyward's own, in two groups.
    product: bool,
    first_management: bool,
    checked: bool,
}

/// The scopes the visitor holds, as unticked checkboxes: nobody is offered what they
/// cannot give.
fn choices(catalog: &keyward_core::scope::Catalog, p: &Principal) -> Vec<Choice> {
    let mut out: Vec<Choice> = catalog
        .product_scopes()
        .iter()
        .map(|n| (n.clone(), true))
        .chain(MANAGEMENT_SCOPES.iter().map(|n| ((*n).to_owned(), false)))
        .filter(|(n, _)| p.held.grants(n))
        .map(|(name, product)| Choice {
            name,
            product,
            first_management: false,
            checked: false,
        })
        .collect();
    if let Some(first) = out.iter_mut().find(|c| !c.product) {
        first.first_management = true;
    }
    out
}

fn ticked(mut all: Vec<Choice>, scopes: &[String]) -> Vec<Choice> {
    for c in &mut all {
        c.checked = scopes.contains(&c.name);
    }
    all
}

struct NewSecret {
    name: String,
    secret: String,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    notice: Option<String>,
}

pub async fn home() -> Response {
    redirect("/platform/api-keys")
}

pub async fn page(
    State(s): State<AppState>,
    parts: Parts,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let v = Visitor::of_page(&s, &parts).await?;
    let shell = v.shell(&parts.headers, "keys", q.notice.as_deref());
    let p = v.principal(&s, &parts.headers).await?;
    Ok(show(&s, &p, shell, &q, None).await)
}

/// What a page render adds beyond the listing: a new secret, or a failed create form.
enum Extra {
    Created(NewSecret),
    CreateFailed(CreateForm, Error),
}

async fn show(
    s: &AppState,
    p: &Principal,
    mut shell: Shell,
    q: &ListQuery,
    extra: Option<Extra>,
) -> Response {
    let filter = KeyFilter {
        status: Some(q.status.clone()).filter(|x| !x.is_empty() && x != "all"),
        q: Some(q.q.trim().to_owned()).filter(|x| !x.is_empty()),
        limit: Some(200),
        ..KeyFilter::default()
    };
    let listing = match s.service.list_keys(p, filter).await {
        Ok(page) => page,
        Err(e) => {
            shell.error = Some(words(&e));
            keyward_core::service::Page {
                items: Vec::new(),
                next_cursor: None,
            }
        }
    };
    let names: HashMap<Uuid, String> = s
        .service
        .list_members(p)
        .await
        .map(|ms| ms.into_iter().map(|m| (m.user.id, m.user.name)).collect())
        .unwrap_or_default();
    let may_write = p.require("api_keys:write").is_ok() && p.require_verified().is_ok();
    let now = now();
    let all = choices(&s.service.settings().catalog, p);
    let full_allowed = p.held.is_full();
    let rows = listing
        .items
        .iter()
        .map(|k| row(k, p, may_write, &names, now, &all))
        .collect();
    let (created, form, create_error) = match extra {
        Some(Extra::Created(secret)) => (Some(secret), CreateForm::default(), None),
        Some(Extra::CreateFailed(form, error)) => (None, form, Some(error)),
        None => (None, CreateForm::default(), None),
    };
    let status = match (&created, &create_error) {
        (Some(_), _) => StatusCode::CREATED,
        (None, Some(e)) => page::status_of(e),
        (None, None) => StatusCode::OK,
    };
    let mut create_error = create_error.as_ref().map(words);
    if !may_write {
        // No dialog to show it in: the visitor may not create keys at all.
        shell.error = create_error.take().or(shell.error);
    }
    render(
        status,
        &KeysPage {
            shell,
            rows,
            status: q.status.clone(),
            q: q.q.clone(),
            filtered: !q.q.trim().is_empty() || !(q.status.is_empty() || q.status == "all"),
            can_create: may_write,
            created,
            // A visitor who cannot give `*` starts from every scope it holds, ticked: the
            // dialog's defaults must make a key it is allowed to make.
            create_custom: form.is_custom() || !full_allowed,
            create_choices: if full_allowed || form.is_custom() {
                ticked(all, &form.scopes)
            } else {
                all.into_iter()
                    .map(|c| Choice { checked: true, ..c })
                    .collect()
            },
            full_allowed,
            create_name: form.name,
            create_expires: form.expires_on,
            create_error,
            more: listing.next_cursor.is_some(),
        },
    )
}

fn row(
    k: &ApiKey,
    p: &Principal,
    may_write: bool,
    names: &HashMap<Uuid, String>,
    now: keyward_core::model::Timestamp,
    all: &[Choice],
) -> KeyRow {
    let status = k.status(now);
    let outranked = p.require_rank_over(k).is_err();
    KeyRow {
        id: k.id.to_string(),
        name: k.name.clone(),
        key_prefix: k.key_prefix.clone(),
        full_access: k.scopes.is_full(),
        scopes: k.scopes.as_strings(),
        status: match status {
            KeyStatus::Active => "Active",
            KeyStatus::Revoked => "Revoked",
            KeyStatus::Expired => "Expired",
        },
        created: When::new(k.created_at, now),
        created_by: names
            .get(&k.created_by)
            .cloned()
            .unwrap_or_else(|| "a former member".into()),
        expires: k.expires_at.map(|t| When::new(t, now)),
        last_used: k.last_used_at.map(|t| When::new(t, now)),
        can_change: may_write && status == KeyStatus::Active && !outranked,
        can_revoke: may_write && k.revoked_at.is_none(),
        can_delete: may_write && !outranked,
        rotated: k.rotated_to.is_some(),
        imported: k.source == keyward_core::model::KeySource::Imported,
        choices: ticked(all.to_vec(), &k.scopes.as_strings()),
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct CreateForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    /// `YYYY-MM-DD` from the date input; the key works until the end of that day (UTC).
    #[serde(default)]
    expires_on: String,
    /// `full` or `custom`.
    #[serde(default)]
    access: String,
    #[serde(default)]
    scopes: Vec<String>,
}

impl CreateForm {
    fn is_custom(&self) -> bool {
        self.access == "custom"
    }
}

/// The scopes an access choice asks for: `["*"]` for full access, else the ticked boxes.
fn requested_scopes(access: &str, ticked: &[String]) -> Vec<String> {
    if access == "custom" {
        ticked.to_vec()
    } else {
        vec!["*".to_owned()]
    }
}

/// The end of the chosen day in UTC, as RFC 3339; anything else is passed on as written for
/// the service to refuse in its own words.
fn expiry(date: &str) -> Option<String> {
    let date = date.trim();
    if date.is_empty() {
        return None;
    }
    Some(match chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d") {
        Ok(d) => format!("{}T23:59:59Z", d.format("%Y-%m-%d")),
        Err(_) => date.to_owned(),
    })
}

pub async fn create(
    State(s): State<AppState>,
    parts: Parts,
    Form(f): Form<CreateForm>,
) -> PageResult {
    let (v, p) = Visitor::acting(&s, &parts, &f.csrf_token).await?;
    let input = NewKey {
        name: f.name.clone(),
        expires_at: expiry(&f.expires_on),
        scopes: Some(requested_scopes(&f.access, &f.scopes)),
        metadata: None,
    };
    let shell = v.shell(&parts.headers, "keys", None);
    Ok(match s.service.create_key(&p, input).await {
        Ok(created) => {
            let secret = NewSecret {
                name: created.key.name.clone(),
                secret: created.secret.expose_secret().to_owned(),
            };
            show(
                &s,
                &p,
                shell,
                &ListQuery::default(),
                Some(Extra::Created(secret)),
            )
            .await
        }
        Err(e) => {
            show(
                &s,
                &p,
                shell,
                &ListQuery::default(),
                Some(Extra::CreateFailed(f, e)),
            )
            .await
        }
    })
}

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    access: String,
    #[serde(default)]
    scopes: Vec<String>,
}

/// After a change, back to the listing with a notice, or the listing with the error.
async fn after(
    s: &AppState,
    parts: &Parts,
    v: &Visitor,
    p: &Principal,
    result: Result<(), Error>,
    notice: &str,
) -> Response {
    match result {
        Ok(()) => redirect(&format!("/platform/api-keys?notice={notice}")),
        Err(e) => {
            let mut shell = v.shell(&parts.headers, "keys", None);
            shell.error = Some(words(&e));
            let mut r = show(s, p, shell, &ListQuery::default(), None).await;
            *r.status_mut() = page::status_of(&e);
            r
        }
    }
}

pub async fn edit(
    State(s): State<AppState>,
    parts: Parts,
    Path(id): Path<String>,
    Form(f): Form<EditForm>,
) -> PageResult {
    let (v, p) = Visitor::acting(&s, &parts, &f.csrf_token).await?;
    let patch = KeyPatch {
        name: Some(f.name),
        scopes: Some(requested_scopes(&f.access, &f.scopes)),
        ..KeyPatch::default()
    };
    let result = async {
        s.service
            .update_key(&p, parse_id(&id)?, patch)
            .await
            .map(|_| ())
    }
    .await;
    Ok(after(&s, &parts, &v, &p, result, "key_updated").await)
}

#[derive(Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    csrf_token: String,
    /// Seconds the old key keeps working: 0, an hour, a day or a week.
    #[serde(default)]
    grace: u64,
}

pub async fn rotate(
    State(s): State<AppState>,
    parts: Parts,
    Path(id): Path<String>,
    Form(f): Form<RotateForm>,
) -> PageResult {
    let (v, p) = Visitor::acting(&s, &parts, &f.csrf_token).await?;
    let rotation = Rotation {
        grace_period_seconds: Some(f.grace),
        expires_at: None,
    };
    let result = async { s.service.rotate_key(&p, parse_id(&id)?, rotation).await }.await;
    Ok(match result {
        Ok(created) => {
            let secret = NewSecret {
                name: created.key.name.clone(),
                secret: created.secret.expose_secret().to_owned(),
            };
            let shell = v.shell(&parts.headers, "keys", None);
            show(
                &s,
                &p,
                shell,
                &ListQuery::default(),
                Some(Extra::Created(secret)),
            )
            .await
        }
        Err(e) => after(&s, &parts, &v, &p, Err(e), "").await,
    })
}

pub async fn revoke(
    State(s): State<AppState>,
    parts: Parts,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> PageResult {
    let (v, p) = Visitor::acting(&s, &parts, &f.csrf_token).await?;
    let result = async {
        s.service
            .revoke_key(&p, parse_id(&id)?, None)
            .await
            .map(|_| ())
    }
    .await;
    Ok(after(&s, &parts, &v, &p, result, "key_revoked").await)
}

pub async fn delete(
    State(s): State<AppState>,
    parts: Parts,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> PageResult {
    let (v, p) = Visitor::acting(&s, &parts, &f.csrf_token).await?;
    let result = async { s.service.delete_key(&p, parse_id(&id)?).await }.await;
    Ok(after(&s, &parts, &v, &p, result, "key_deleted").await)
}
