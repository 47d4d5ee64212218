//! Accounts made by their owners: sign-up, the emailed verification link and resending it
//! (PRODUCT.md §4, `/auth/*`).

use chrono::TimeDelta;
use serde_json::json;

use super::sessions::random_secret;
use super::{Caller, RequestMeta, Service, Via};
use crate::error::{Error, Result};
use crate::mail::Email;
use crate::model::{new_id, now, EmailToken, Role, User};
use crate::secret::SecretString;
use crate::store::StoreError;
use crate::validate::{self, Fields};

/// How long a verification link works.
pub const VERIFY_LINK_TTL: TimeDelta = TimeDelta::hours(24);

#[derive(Debug, Clone)]
pub struct Signup {
    pub email: String,
    pub password: SecretString,
    pub name: String,
    /// The new workspace's name; `None` for "<name>'s workspace". Ignored with an invitation.
    pub workspace_name: Option<String>,
    /// The token of an emailed invitation: the account joins that workspace instead of
    /// getting its own, and its email counts as verified (the link proved it).
    pub invitation: Option<SecretString>,
}

impl Service {
    /// Creates a user and, without an invitation, its own workspace with the user as owner
    /// and no key (the first key is always made explicitly), then emails the verification
    /// link. With an invitation, the user joins the inviting workspace instead.
    pub async fn signup(&self, input: Signup, meta: RequestMeta) -> Result<User> {
        if input.invitation.is_none() && !self.settings.allow_signup {
            return Err(Error::Forbidden(
                "sign-up is closed on this server; ask its operator for an account or an invitation"
                    .into(),
            ));
        }
        let mut f = Fields::new();
        let email = f.take(validate::email("email", &input.email));
        f.take(validate::password(
            "password",
            input.password.expose_secret(),
        ));
        let name = f.take(validate::name("name", &input.name));
        let workspace_name = match (&input.invitation, input.workspace_name.as_deref()) {
            (None, Some(raw)) if !raw.trim().is_empty() => {
                f.take(validate::name("workspace_name", raw))
            }
            _ => name.as_ref().map(|n| default_workspace_name(n)),
        };
        f.finish()?;
        let (Some(email), Some(name), Some(workspace_name)) = (email, name, workspace_name) else {
            return Err(Error::Internal("validation passed without values".into()));
        };
        let password_hash = self.passwords.hash(input.password).await?;
        let now = now();
        let user = User {
            id: new_id(),
            email,
            name,
            password_hash: Some(password_hash),
            email_verified_at: input.invitation.is_some().then_some(now),
            created_at: now,
        };
        let caller = Caller {
            user: user.clone(),
            via: Via::Account,
            meta,
        };
        let link = retrying!({
            let mut tx = self.store.begin().await?;
            tx.insert_user(&user).await.map_err(|e| match e {
                StoreError::Conflict(_) => Error::Conflict(
                    "an account with this email exists already; log in instead".into(),
                ),
                other => other.into(),
            })?;
            let link = match &input.invitation {
                Some(token) => {
                    self.accept_invitation_in(tx.as_mut(), &caller, token)
                        .await?;
                    None
                }
                None => {
                    self.insert_workspace(
                        tx.as_mut(),
                        &caller,
                        workspace_name.clone(),
                        user.id,
                        Role::Owner,
                    )
                    .await?;
                    let (token, link) = self.new_verify_link(user.id);
                    tx.insert_email_token(&token).await?;
                    Some(link)
                }
            };
            self.commit(tx).await?;
            Ok(link)
        });
        if let Some(link) = link? {
            self.resend_limit.record(&user.email);
            self.send_verify_email(&user, link).await;
        }
        Ok(user)
    }

    /// Uses an emailed verification link: once, within 24 hours.
    pub async fn verify_email(&self, token: &str, meta: RequestMeta) -> Result<User> {
        let invalid = || {
            Error::validation(
                "token",
                "this link is not valid: it was used already, has expired, or was never sent",
            )
        };
        let hash = self.pepper.hash(token);
        let found = self.store.email_token_by_hash(&hash).await?;
        let Some(link) = found.filter(|t| t.token_hash.ct_eq(&hash)) else {
            return Err(invalid());
        };
        let now = now();
        if link.used_at.is_some() || link.expires_at <= now {
            return Err(invalid());
        }
        let user = self
            .store
            .user_by_id(link.user_id)
            .await?
            .ok_or_else(invalid)?;
        let workspaces = self.store.workspaces_of_user(user.id).await?;
        retrying!({
            // Each attempt starts from the user as read, not as a rolled-back attempt left it.
            let mut user = user.clone();
            let mut tx = self.store.begin().await?;
            if !tx.use_email_token(link.id, now).await? {
                return Err(invalid());
            }
            if user.email_verified_at.is_none() {
                user.email_verified_at = Some(now);
                tx.update_user(&user).await?;
                let caller = Caller {
                    user: user.clone(),
                    via: Via::Account,
                    meta: meta.clone(),
                };
                for (ws, _) in &workspaces {
                    let details = json!({"email": user.email});
                    tx.insert_audit(&caller.audit(
                        ws.id,
                        "user.email_verified",
                        ("user", user.id),
                        details,
                    ))
                    .await?;
                }
            }
            self.commit(tx).await?;
            Ok(user)
        })
    }

    /// Sends a new verification link to an unverified account. It answers the same whether
    /// or not the email has an account, so it cannot be used to find out; and it sends at
    /// most one message per address a minute, whoever asks.
    pub async fn resend_verification(&self, email: &str) -> Result<()> {
        let email = validate::email("email", email).map_err(|e| Error::Validation(vec![e]))?;
        if let Some(retry_after_secs) = self.resend_limit.blocked(&email) {
            return Err(Error::RateLimited { retry_after_secs });
        }
        self.resend_limit.record(&email);
        let Some(user) = self.store.user_by_email(&email).await? else {
            return Ok(());
        };
        if user.email_verified_at.is_some() {
            return Ok(());
        }
        let (token, link) = self.new_verify_link(user.id);
        retrying!({
            let mut tx = self.store.begin().await?;
            tx.insert_email_token(&token).await?;
            self.commit(tx).await
        })?;
        self.send_verify_email(&user, link).await;
        Ok(())
    }

    fn new_verify_link(&self, user_id: uuid::Uuid) -> (EmailToken, SecretString) {
        let secret = random_secret();
        let now = now();
        let token = EmailToken {
            id: new_id(),
            user_id,
            token_hash: self.pepper.hash(secret.expose_secret()),
            created_at: now,
            expires_at: now + VERIFY_LINK_TTL,
            used_at: None,
        };
        (token, self.link("/verify-email", &secret))
    }

    /// `<public_url><path>?token=<token>`: where an emailed link leads.
    pub(crate) fn link(&self, path: &str, token: &SecretString) -> SecretString {
        SecretString::new(format!(
            "{}{path}?token={}",
            self.settings.public_url.trim_end_matches('/'),
            token.expose_secret()
        ))
    }

    async fn send_verify_email(&self, user: &User, link: SecretString) {
        let text = format!(
            "Hello {name},\n\nconfirm that {email} is your address by opening this link within \
             24 hours:\n\n{url}\n\nUntil you do, you can look around but not create API keys.\n\
             If you did not sign up for keyward, ignore this message.\n",
            name = user.name,
            email = user.email,
            url = link.expose_secret(),
        );
        self.send(Email {
            to: user.email.clone(),
            subject: "Verify your email address".into(),
            text,
            link,
        })
        .await;
    }

    /// Hands a message to the mailer. A failure does not undo what the message is about
    /// (the user can ask for it again); it is logged, without the link.
    pub(crate) async fn send(&self, email: Email) {
        if let Err(e) = self.mailer.send(&email).await {
            tracing::warn!(error = %e, subject = %email.subject, "could not send email");
        }
    }
}

fn default_workspace_name(name: &str) -> String {
    let owned = format!("{name}'s workspace");
    if owned.chars().count() <= 100 {
        owned
    } else {
        "My workspace".into()
    }
}
