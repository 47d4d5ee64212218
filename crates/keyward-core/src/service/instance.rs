//! Facts about the instance as a whole: whether this node's pepper is the one the database's
//! hashes were made with (PRODUCT.md §8).

use super::Service;
use crate::error::Result;
use crate::model::now;
use crate::store::StoreError;

/// The outcome of comparing this node's pepper with the database's record of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PepperCheck {
    /// The recorded fingerprint is this pepper's.
    Matches,
    /// Nothing was recorded (a new database, or one from before fingerprints existed), so
    /// this pepper's fingerprint is now.
    Recorded,
    /// Another pepper made the stored hashes: no key, token or session would verify.
    Mismatch,
}

impl Service {
    /// Compares the pepper's fingerprint with the recorded one, recording it when there is
    /// none. Callers refuse to start on [`PepperCheck::Mismatch`].
    pub async fn check_pepper(&self) -> Result<PepperCheck> {
        let mine = self.pepper.fingerprint();
        let compare = |stored: crate::secret::CredentialHash| {
            if stored.ct_eq(&mine) {
                PepperCheck::Matches
            } else {
                PepperCheck::Mismatch
            }
        };
        // The common case reads only, so starts do not queue for the write lock.
        if let Some(stored) = self.store.pepper_fingerprint().await? {
            return Ok(compare(stored));
        }
        retrying!({
            let mut tx = self.store.begin().await?;
            if let Some(stored) = tx.pepper_fingerprint().await? {
                return Ok(compare(stored));
            }
            match tx.insert_pepper_fingerprint(&mine, now()).await {
                Ok(()) => {
                    self.commit(tx).await?;
                    Ok(PepperCheck::Recorded)
                }
                // A node starting at the same moment recorded its own first: compare with that.
                Err(StoreError::Conflict(_)) => {
                    drop(tx);
                    match self.store.pepper_fingerprint().await? {
                        Some(stored) => Ok(compare(stored)),
                        None => Err(crate::Error::Internal(
                            "the pepper fingerprint vanished after a conflict".into(),
                        )),
                    }
                }
                Err(e) => Err(e.into()),
            }
        })
    }
}
