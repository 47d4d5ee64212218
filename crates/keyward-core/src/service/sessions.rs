//! Console sessions: log-in, log-out, and turning a session cookie into a [`Caller`], with
//! the idle and absolute timeouts and the CSRF rule of PRODUCT.md §4.

use std::net::IpAddr;

use chrono::TimeDelta;

use super::{Caller, RequestMeta, Service, Via};
use crate::error::{Error, Result};
use crate::limiter::Client;
use crate::model::{new_id, now, Session, User};
use crate::secret::SecretString;

/// A successful log-in: the cookie value and the CSRF token are shown to this client only.
#[derive(Debug)]
pub struct LoggedIn {
    pub user: User,
    pub session: SecretString,
    pub csrf_token: SecretString,
}

/// What the CSRF token is derived from, beside the session. Never change it: every open
/// session's token would stop matching.
const CSRF_LABEL: &str = "keyward csrf v1:";

/// How often `last_seen_at` is written: at most once a minute per session (or a quarter of
/// the idle timeout, if that is shorter), so reading a page is not a database write.
const TOUCH_EVERY: TimeDelta = TimeDelta::seconds(60);

impl Service {
    /// Checks an email and password and starts a session.
    ///
    /// Failures are limited per account and per client IP. A wrong password and an unknown
    /// email give the same error after the same work: an unknown email is checked against a
    /// dummy hash.
    pub async fn login(&self, email: &str, password: SecretString, ip: IpAddr) -> Result<LoggedIn> {
        let email = email.trim().to_lowercase();
        let client = Client::of(ip);
        if let Some(retry_after_secs) = self
            .login_limits
            .by_client
            .blocked(&client)
            .or_else(|| self.login_limits.by_account.blocked(&email))
        {
            return Err(Error::RateLimited { retry_after_secs });
        }
        // Looked up by what it is, not by today's email rule: an account made when the rule
        // was looser still logs in. Only what no address can be (too long, or a control
        // character, which PostgreSQL's text cannot even hold) is not looked up.
        let user = if email.len() <= 254 && !email.contains(char::is_control) {
            self.store.user_by_email(&email).await?
        } else {
            None
        };
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let matches = self.passwords.verify(password, hash).await?;
        let user = match user {
            Some(user) if matches => user,
            _ => {
                self.login_limits.by_client.record(&client);
                self.login_limits.by_account.record(&email);
                return Err(Error::LoginFailed);
            }
        };
        let (session, csrf_token) = self.create_session(user.id).await?;
        Ok(LoggedIn {
            user,
            session,
            csrf_token,
        })
    }

    /// Starts a session for a user: a fresh random id (256 bits) every time, stored only as
    /// its hash. Returns the cookie value and its CSRF token.
    pub async fn create_session(
        &self,
        user_id: uuid::Uuid,
    ) -> Result<(SecretString, SecretString)> {
        let token = random_secret();
        let csrf = self.csrf_token(&token);
        let now = now();
        let session = Session {
            id: new_id(),
            token_hash: self.pepper.hash(token.expose_secret()),
            csrf_hash: self.pepper.hash(csrf.expose_secret()),
            user_id,
            created_at: now,
            last_seen_at: now,
        };
        retrying!({
            let mut tx = self.store.begin().await?;
            tx.insert_session(&session).await?;
            self.commit(tx).await
        })?;
        Ok((token, csrf))
    }

    /// The CSRF token of a session: an HMAC of its cookie value under the pepper. The server
    /// can render it into each console page without storing it, a cross-site page cannot
    /// read it, and it dies with the session.
    pub fn csrf_token(&self, session: &SecretString) -> SecretString {
        let mac = self
            .pepper
            .hash(&format!("{CSRF_LABEL}{}", session.expose_secret()));
        SecretString::new(hex::encode(mac.expose_secret()))
    }

    /// The console's session cookie. State-changing requests must also carry the session's
    /// CSRF token, compared in constant time through its hash. A session idle for longer
    /// than `session_idle`, or older than `session_max`, is over.
    pub async fn authenticate_session(
        &self,
        token: &str,
        csrf: Option<&str>,
        state_changing: bool,
        meta: RequestMeta,
    ) -> Result<Caller> {
        let unauthorized = Error::Unauthorized { token_sent: true };
        let hash = self.pepper.hash(token);
        let session = self
            .store
            .session_by_hash(&hash)
            .await?
            .ok_or(Error::Unauthorized { token_sent: true })?;
        if !session.token_hash.ct_eq(&hash) {
            return Err(unauthorized);
        }
        let now = now();
        let limits = &self.settings.sessions;
        if now - session.last_seen_at > limits.idle || now - session.created_at > limits.max {
            retrying!({
                let mut tx = self.store.begin().await?;
                tx.delete_session(session.id).await?;
                self.commit(tx).await
            })?;
            return Err(unauthorized);
        }
        if state_changing {
            let sent = csrf.map(|c| self.pepper.hash(c));
            if !sent.is_some_and(|h| h.ct_eq(&session.csrf_hash)) {
                return Err(Error::CsrfFailed);
            }
        }
        let user = self
            .store
            .user_by_id(session.user_id)
            .await?
            .ok_or(unauthorized)?;
        if now - session.last_seen_at >= TOUCH_EVERY.min(limits.idle / 4) {
            self.store.touch_session(session.id, now).await?;
        }
        Ok(Caller {
            user,
            via: Via::Session(session),
            meta,
        })
    }

    /// Ends the caller's session on the server: its cookie no longer works anywhere.
    pub async fn logout(&self, caller: &Caller) -> Result<()> {
        let Via::Session(session) = &caller.via else {
            return Err(Error::Forbidden(
                "log-out ends a console session; revoke an API key instead".into(),
            ));
        };
        retrying!({
            let mut tx = self.store.begin().await?;
            tx.delete_session(session.id).await?;
            self.commit(tx).await?;
            Ok(())
        })
    }
}

/// 256 bits from the OS CSPRNG, hex-encoded: session ids and emailed link tokens.
pub(crate) fn random_secret() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    SecretString::new(hex::encode(bytes))
}
