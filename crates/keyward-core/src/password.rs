//! Passwords: argon2id hashing and checking, off the async runtime and a few at a time.
//!
//! argon2id with the crate defaults (19 MiB of memory, 2 iterations, 1 lane: OWASP's
//! minimum) is slow on purpose. It runs on the blocking pool so that it never stalls the
//! executor that serves verification, and behind a semaphore of one permit per core so that
//! a burst of log-ins queues instead of starting hundreds of 19 MiB hashes at once.

use std::sync::Arc;

use argon2::password_hash::{rand_core::OsRng, PasswordHasher, PasswordVerifier, SaltString};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::secret::{PasswordHash, SecretString};

/// The hash of a random password nobody knows, with the same parameters as real hashes. A
/// log-in for an email without an account checks against it, so an unknown email costs the
/// same time as a wrong password and the answer's timing does not tell which it was.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$p4P6Mt6usAEy3ZpgU1lL5A$wApJkxz/I51MfDIB6q6Oo1/sIArMZs62Mr5Uwo6B62c";

#[derive(Debug, Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
}

impl Default for Passwords {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            permits: Arc::new(Semaphore::new(cores)),
        }
    }
}

impl Passwords {
    pub async fn hash(&self, password: SecretString) -> Result<PasswordHash> {
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2::Argon2::default()
                .hash_password(password.expose_secret().as_bytes(), &salt)
                .map(|h| PasswordHash::from_phc(h.to_string()))
                .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
        })
        .await
    }

    /// Whether `password` matches `hash`. With no hash (no such user, or a user who cannot
    /// log in with a password) it checks against [`DUMMY_HASH`] and answers `false`.
    pub async fn verify(&self, password: SecretString, hash: Option<PasswordHash>) -> Result<bool> {
        self.run(move || {
            let known = hash.is_some();
            let phc = hash.map_or_else(|| DUMMY_HASH.to_owned(), |h| h.expose_secret().to_owned());
            let parsed = argon2::password_hash::PasswordHash::new(&phc).map_err(|_| {
                Error::Internal("a stored password hash is not a PHC string".into())
            })?;
            let matches = argon2::Argon2::default()
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok();
            Ok(known && matches)
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Internal("password semaphore closed".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Error::Internal(format!("password task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::new(s.to_owned())
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() -> Result<()> {
        let p = Passwords::default();
        let hash = p.hash(secret("correct horse battery staple")).await?;
        assert!(hash
            .expose_secret()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            p.verify(secret("correct horse battery staple"), Some(hash.clone()))
                .await?
        );
        assert!(
            !p.verify(secret("correct horse battery stapl"), Some(hash))
                .await?
        );
        Ok(())
    }

    #[tokio::test]
    async fn no_hash_never_verifies_but_still_does_the_work() -> Result<()> {
        let p = Passwords::default();
        // The dummy must parse, or unknown emails would fail fast and be told apart by time.
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!p.verify(secret("anything at all"), None).await?);
        Ok(())
    }
}
