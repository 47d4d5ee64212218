//! Users, service tokens and sessions: creating them, and turning a presented credential into
//! a [`Caller`].

use uuid::Uuid;

use super::{Caller, RequestMeta, Service, Via};
use crate::error::{Error, Result};
use crate::key_format::{self, SERVICE_TOKEN_PREFIX};
use crate::model::{new_id, now, ApiKey, Role, ServiceToken, User, Workspace};
use crate::scope::ScopeSet;
use crate::secret::SecretString;
use crate::store::StoreError;
use crate::validate::{self, Fields};
use crate::verify::VerifyCode;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: Option<String>,
    pub password: Option<SecretString>,
    pub verified: bool,
    /// Where the user starts, in `role`; `None` leaves it in no workspace.
    pub workspace: Option<UserWorkspace>,
    pub role: Role,
}

/// The workspace `admin user create` puts a new user in.
#[derive(Debug, Clone)]
pub enum UserWorkspace {
    /// A new workspace of this name. It must start with its owner, so `role` must be owner.
    New(String),
    /// An existing workspace, joined in any role, as a member added by the operator.
    Join(Uuid),
}

/// The answer of `GET /users/current`.
#[derive(Debug, Clone)]
pub struct WhoAmI {
    pub user: User,
    pub workspace: Option<Workspace>,
    pub role: Option<Role>,
    pub key: Option<ApiKey>,
    pub scopes: ScopeSet,
}

impl Service {
    /// The operator's `admin user create`.
    pub async fn create_user(&self, input: NewUser) -> Result<(User, Option<Workspace>)> {
        let mut f = Fields::new();
        let email = f.take(validate::email("email", &input.email));
        let name = match input.name.as_deref() {
            Some(raw) => f.take(validate::name("name", raw)),
            None => email
                .as_deref()
                .map(|e| e.split('@').next().unwrap_or(e).to_owned()),
        };
        if let Some(pw) = &input.password {
            f.take(validate::password("password", pw.expose_secret()));
        }
        let workspace = match &input.workspace {
            Some(UserWorkspace::New(raw)) => f
                .take(validate::name("workspace", raw))
                .map(|name| Some(UserWorkspace::New(name))),
            other => Some(other.clone()),
        };
        if matches!(input.workspace, Some(UserWorkspace::New(_))) && input.role != Role::Owner {
            // A workspace always keeps an owner (PRODUCT.md §1), so a new one starts with one.
            f.take::<()>(Err(crate::error::FieldError::new(
                "role",
                "a new workspace needs an owner: create it with --role owner, then add others with --workspace ID --role ROLE",
            )));
        }
        f.finish()?;
        let (Some(email), Some(name), Some(workspace)) = (email, name, workspace) else {
            return Err(Error::Internal("validation passed without values".into()));
        };
        let password_hash = match input.password {
            Some(pw) => Some(self.passwords.hash(pw).await?),
            None => None,
        };
        let now = now();
        let user = User {
            id: new_id(),
            email,
            name,
            password_hash,
            email_verified_at: input.verified.then_some(now),
            created_at: now,
        };
        retrying!({
            let mut tx = self.store.begin().await?;
            tx.insert_user(&user).await.map_err(|e| match e {
                StoreError::Conflict(_) => {
                    Error::Conflict("a user with this email already exists".into())
                }
                other => other.into(),
            })?;
            let caller = Caller {
                user: user.clone(),
                via: Via::System,
                meta: RequestMeta::default(),
            };
            let workspace = match workspace.clone() {
                Some(UserWorkspace::New(ws_name)) => Some(
                    self.insert_workspace(tx.as_mut(), &caller, ws_name, user.id, input.role)
                        .await?,
                ),
                Some(UserWorkspace::Join(id)) => Some(
                    self.join_workspace(tx.as_mut(), &caller, id, input.role)
                        .await?,
                ),
                None => None,
            };
            self.commit(tx).await?;
            Ok(workspace)
        })
        .map(|workspace| (user, workspace))
    }

    /// Finds a user by id or email, for the operator's CLI.
    pub async fn find_user(&self, id_or_email: &str) -> Result<User> {
        let found = match Uuid::parse_str(id_or_email) {
            Ok(id) => self.store.user_by_id(id).await?,
            Err(_) => {
                self.store
                    .user_by_email(&id_or_email.trim().to_lowercase())
                    .await?
            }
        };
        found.ok_or(Error::NotFound)
    }

    /// `Authorization: Bearer <api key>` on the management API: the key must verify as valid.
    /// A valid service token is a credential of the wrong kind: `403`, naming what this API
    /// takes, and no failed authentication (it proves its holder is the operator).
    pub async fn authenticate_key(&self, presented: &str, meta: RequestMeta) -> Result<Caller> {
        if presented.starts_with(SERVICE_TOKEN_PREFIX) {
            self.authenticate_service(presented).await?;
            return Err(Error::Forbidden(
                "the management API takes an API key or a console session, not a service token"
                    .into(),
            ));
        }
        let verdict = self.verifier.verify(presented, &[]).await?;
        let (VerifyCode::Valid, Some(key)) = (verdict.code, verdict.key) else {
            return Err(Error::Unauthorized { token_sent: true });
        };
        let user = self
            .store
            .user_by_id(key.created_by)
            .await?
            .ok_or(Error::Unauthorized { token_sent: true })?;
        Ok(Caller {
            user,
            via: Via::ApiKey(key),
            meta,
        })
    }

    /// Only service tokens may call the verify API. A valid API key is a credential of the
    /// wrong kind: `403`, naming what this API takes, and no failed authentication. Finding
    /// that out is a verification like any other, so it counts as a use of the key.
    pub async fn authenticate_service(
        &self,
        presented: &str,
    ) -> Result<std::sync::Arc<ServiceToken>> {
        let unauthorized = Error::Unauthorized { token_sent: true };
        if !presented.starts_with(SERVICE_TOKEN_PREFIX) {
            return match self.verifier.verify(presented, &[]).await?.code {
                VerifyCode::Valid => Err(Error::Forbidden(
                    "the verify API takes a service token (kwsvc_…), not an API key".into(),
                )),
                _ => Err(unauthorized),
            };
        }
        if key_format::parse(presented).is_err() {
            return Err(unauthorized);
        }
        let hash = self.pepper.hash(presented);
        match self.verifier.service_token(&hash).await? {
            Some(t) if t.revoked_at.is_none() && t.hash.ct_eq(&hash) => {
                // In memory only; the usage flusher writes it, off the verify path.
                self.usage.record_service_token(t.id, now());
                Ok(t)
            }
            _ => Err(unauthorized),
        }
    }

    pub async fn whoami(&self, caller: &Caller, hint: Option<Uuid>) -> Result<WhoAmI> {
        let workspace_id = match self.current_workspace(caller, hint).await {
            Ok(id) => Some(id),
            Err(Error::NotFound | Error::BadRequest(_)) => None,
            Err(e) => return Err(e),
        };
        let principal = match workspace_id {
            Some(id) => Some(self.principal(caller, id).await?),
            None => None,
        };
        let key = match &caller.via {
            Via::ApiKey(k) => Some(self.with_usage((**k).clone())),
            _ => None,
        };
        Ok(WhoAmI {
            user: caller.user.clone(),
            scopes: principal
                .as_ref()
                .map(|p| p.held.clone())
                .unwrap_or_default(),
            role: principal.as_ref().map(|p| p.role),
            workspace: principal.map(|p| p.workspace),
            key,
        })
    }
}
