//! What the operator's commands need from a store: the pepper fingerprint, service tokens
//! that are listed, revoked and show their last use, and instance-wide listings.

use keyward_core::model::now;
use keyward_core::secret::Pepper;

use super::fixtures::{assert_conflict, ms, Db};

pub async fn pepper_fingerprint_is_recorded_once_and_never_replaced(store: Db) {
    assert!(store.pepper_fingerprint().await.unwrap().is_none());
    let mine = Pepper::new(b"this instance's pepper".to_vec()).fingerprint();
    let theirs = Pepper::new(b"another instance's pepper".to_vec()).fingerprint();

    let mut tx = store.begin().await.unwrap();
    assert!(tx.pepper_fingerprint().await.unwrap().is_none());
    tx.insert_pepper_fingerprint(&mine, now()).await.unwrap();
    let seen = tx.pepper_fingerprint().await.unwrap().unwrap();
    assert!(seen.ct_eq(&mine), "a transaction sees its own record");
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_pepper_fingerprint(&theirs, now() + ms(1)).await);
    drop(tx);
    let stored = store.pepper_fingerprint().await.unwrap().unwrap();
    assert!(stored.ct_eq(&mine), "the first fingerprint stays");
}
