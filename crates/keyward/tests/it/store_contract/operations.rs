//! What the operator's commands need from a store: the pepper fingerprint, service tokens
//! that are listed, revoked and show their last use, and instance-wide listings.

use keyward_core::model::{new_id, now, ServiceToken, Timestamp};
use keyward_core::secret::Pepper;

use super::fixtures::{assert_conflict, ms, random_hash, Db};

fn token(name: &str, created_at: Timestamp) -> ServiceToken {
    ServiceToken {
        id: new_id(),
        name: name.to_owned(),
        token_prefix: "kwsvc_ab12cd34".into(),
        hash: random_hash(),
        created_at,
        revoked_at: None,
        last_used_at: None,
    }
}

async fn insert_tokens(store: &Db, tokens: &[ServiceToken]) {
    let mut tx = store.begin().await.unwrap();
    for t in tokens {
        tx.insert_service_token(t).await.unwrap();
    }
    tx.commit().await.unwrap();
}

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

pub async fn service_tokens_are_listed_oldest_first_with_every_field(store: Db) {
    let t = now();
    let mut used = token("billing", t);
    used.last_used_at = Some(t + ms(5));
    used.revoked_at = Some(t + ms(6));
    let newer = token("search", t + ms(1));
    // Inserted newest first: the order comes from created_at, not from insertion.
    insert_tokens(&store, &[newer.clone(), used.clone()]).await;
    let listed = store.service_tokens().await.unwrap();
    assert_eq!(
        listed.iter().map(|t| t.id).collect::<Vec<_>>(),
        [used.id, newer.id]
    );
    let read = &listed[0];
    assert_eq!(
        (
            read.name.as_str(),
            read.token_prefix.as_str(),
            read.created_at,
            read.revoked_at,
            read.last_used_at
        ),
        (
            "billing",
            "kwsvc_ab12cd34",
            t,
            used.revoked_at,
            used.last_used_at
        )
    );
    assert!(read.hash.ct_eq(&used.hash));
}

pub async fn service_token_names_are_unique_revoked_ones_included(store: Db) {
    let mut revoked = token("billing", now());
    revoked.revoked_at = Some(now());
    let other = token("search", now());
    insert_tokens(&store, &[revoked, other.clone()]).await;
    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_service_token(&token("billing", now())).await);
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let mut renamed = other.clone();
    renamed.name = "billing".into();
    assert_conflict(tx.update_service_token(&renamed).await);
    drop(tx);
    assert_eq!(store.service_tokens().await.unwrap().len(), 2);
}

pub async fn update_service_token_writes_name_and_revoked_at(store: Db) {
    let t = now();
    let original = token("billing", t);
    insert_tokens(&store, std::slice::from_ref(&original)).await;
    let mut changed = original.clone();
    changed.name = "billing (old)".into();
    changed.revoked_at = Some(t + ms(3));
    let mut tx = store.begin().await.unwrap();
    tx.update_service_token(&changed).await.unwrap();
    tx.commit().await.unwrap();
    let read = store
        .service_token_by_hash(&original.hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (read.name.as_str(), read.revoked_at),
        ("billing (old)", changed.revoked_at)
    );
}

pub async fn record_service_token_use_never_moves_last_used_at_backwards(store: Db) {
    let t = now();
    let (a, b) = (token("a", t), token("b", t));
    insert_tokens(&store, &[a.clone(), b.clone()]).await;
    store
        .record_service_token_use(&[(a.id, t + ms(10)), (b.id, t + ms(20))])
        .await
        .unwrap();
    store
        .record_service_token_use(&[(a.id, t + ms(5))])
        .await
        .unwrap();
    store.record_service_token_use(&[]).await.unwrap();
    let listed = store.service_tokens().await.unwrap();
    let last = |id| listed.iter().find(|t| t.id == id).unwrap().last_used_at;
    assert_eq!(last(a.id), Some(t + ms(10)), "an older use never wins");
    assert_eq!(last(b.id), Some(t + ms(20)));
}
