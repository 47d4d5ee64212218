//! Wire profiles (PRODUCT.md §11): the API of each seed product, served as its own docs show
//! it, beside the native API. Each profile is a thin adapter: it maps the documented request
//! onto a call of the service layer and the answer back into the documented shape. No rule
//! lives here; roles, scopes, limits, audit and freshness all come from the core, so a key
//! made through one surface is the same key on every other.
//!
//! Profiles are off by default and turned on by name (`compat`); when off, their routes are
//! neither served nor documented.

pub mod errors;
pub mod signalsmith;
pub mod simpledeploy;
pub mod skillett;
pub mod smplkit;

use keyward_core::model::ApiKey;
use keyward_core::service::{KeyFilter, Principal};
use keyward_core::Error;
use uuid::Uuid;

use super::error::ApiResult;
use super::AppState;

/// One seed product's wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Smplkit,
    Simpledeploy,
    Skillett,
    Signalsmith,
}

impl Profile {
    pub const ALL: [Profile; 4] = [
        Profile::Smplkit,
        Profile::Simpledeploy,
        Profile::Skillett,
        Profile::Signalsmith,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Smplkit => "smplkit",
            Profile::Simpledeploy => "simpledeploy",
            Profile::Skillett => "skillett",
            Profile::Signalsmith => "signalsmith",
        }
    }
}

/// The profiles turned on: one flag per [`Profile`], in [`Profile::ALL`]'s order. `Copy`, so
/// the error layer's state costs nothing to hand to each request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Profiles([bool; Profile::ALL.len()]);

impl Profiles {
    /// The profiles `compat` names. An unknown name is an error that lists the known ones,
    /// so that a typo stops start-up instead of silently serving nothing.
    pub fn from_names(names: &[String]) -> Result<Self, String> {
        let mut on = Self::default();
        for name in names {
            let wanted = name.trim().to_ascii_lowercase();
            let profile = Profile::ALL
                .into_iter()
                .find(|p| p.name() == wanted)
                .ok_or_else(|| {
                    let known: Vec<&str> = Profile::ALL.iter().map(|p| p.name()).collect();
                    format!(
                        "names an unknown profile {name:?}; the profiles are {}",
                        known.join(", ")
                    )
                })?;
            on.0[profile as usize] = true;
        }
        Ok(on)
    }

    pub fn has(&self, profile: Profile) -> bool {
        self.0[profile as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = Profile> + '_ {
        Profile::ALL.into_iter().filter(|p| self.has(*p))
    }

    /// Whether a profile that answers errors in its own shape is on: only then does the
    /// router need the layer that reshapes them.
    pub fn reshape_errors(&self) -> bool {
        self.has(Profile::Smplkit) || self.has(Profile::Skillett)
    }
}

/// Every key the caller made in the principal's workspace, newest first, deleted ones left
/// out: the "my keys" listings of simpledeploy and Skillett. Those wire formats have no
/// pages, so this follows the service's pages to the end (a workspace's hard cap bounds it).
pub async fn own_keys(state: &AppState, p: &Principal) -> ApiResult<Vec<ApiKey>> {
    let mut keys = Vec::new();
    let mut cursor = None;
    loop {
        let filter = KeyFilter {
            created_by: Some(p.user_id().to_string()),
            limit: Some(200),
            cursor,
            ..KeyFilter::default()
        };
        let page = state.service.list_keys(p, filter).await?;
        keys.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(keys),
        }
    }
}

/// A key the caller made, by id; anyone else's is `404`, like a missing one, because these
/// profiles show each user only their own keys.
pub async fn own_key(state: &AppState, p: &Principal, id: Uuid) -> ApiResult<ApiKey> {
    let key = state.service.get_key(p, id).await?;
    mine(p, key)
}

/// [`own_key`] by sequence number.
pub async fn own_key_by_seq(state: &AppState, p: &Principal, seq: i64) -> ApiResult<ApiKey> {
    let key = state.service.get_key_by_seq(p, seq).await?;
    mine(p, key)
}

fn mine(p: &Principal, key: ApiKey) -> ApiResult<ApiKey> {
    if key.created_by == p.user_id() {
        Ok(key)
    } else {
        Err(Error::NotFound.into())
    }
}
