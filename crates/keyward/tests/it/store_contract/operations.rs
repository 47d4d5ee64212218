//! What the operator's commands need from a store: the pepper fingerprint, service tokens
//! that are listed, revoked and show their last use, and instance-wide listings.

use keyward_core::model::{new_id, now, ServiceToken, Timestamp};
use keyward_core::secret::{PasswordHash, Pepper};
use keyward_core::store::Cursor;

use super::fixtures::{assert_conflict, ms, random_hash, user, workspace, Db};

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

pub async fn users_and_workspaces_are_listed_oldest_first_after_the_cursor(store: Db) {
    let t = now();
    let mut users = Vec::new();
    let mut workspaces = Vec::new();
    // Inserted newest first, with one tie on created_at that the id breaks.
    for (i, offset) in [(0, 20), (1, 10), (2, 10), (3, 0)] {
        let mut u = user(&format!("u{i}@example.com"));
        u.created_at = t + ms(offset);
        let mut w = workspace(&format!("w{i}"));
        w.created_at = t + ms(offset);
        users.push(u);
        workspaces.push(w);
    }
    let mut tx = store.begin().await.unwrap();
    for (u, w) in users.iter().zip(&workspaces) {
        tx.insert_user(u).await.unwrap();
        tx.insert_workspace(w).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut expected_users: Vec<_> = users.iter().map(|u| (u.created_at, u.id)).collect();
    expected_users.sort();
    let mut expected_ws: Vec<_> = workspaces.iter().map(|w| (w.created_at, w.id)).collect();
    expected_ws.sort();

    let page = store.list_users(None, 3).await.unwrap();
    let got: Vec<_> = page.iter().map(|u| (u.created_at, u.id)).collect();
    assert_eq!(got, expected_users[..3]);
    let (at, id) = expected_users[2];
    let rest = store.list_users(Some(Cursor { at, id }), 3).await.unwrap();
    assert_eq!(
        rest.iter().map(|u| u.id).collect::<Vec<_>>(),
        [expected_users[3].1]
    );

    let page = store.list_workspaces(None, 2).await.unwrap();
    let got: Vec<_> = page.iter().map(|w| (w.created_at, w.id)).collect();
    assert_eq!(got, expected_ws[..2]);
    let (at, id) = expected_ws[1];
    let rest = store
        .list_workspaces(Some(Cursor { at, id }), 5)
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|w| w.id).collect::<Vec<_>>(),
        [expected_ws[2].1, expected_ws[3].1]
    );
}

pub async fn update_user_writes_name_password_hash_and_email_verified_at(store: Db) {
    let original = user("verify-me@example.com");
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&original).await.unwrap();
    tx.commit().await.unwrap();
    let mut changed = original.clone();
    changed.name = "Renamed".into();
    changed.password_hash = Some(PasswordHash::from_phc("$argon2id$v=19$new".into()));
    changed.email_verified_at = Some(now());
    let mut tx = store.begin().await.unwrap();
    tx.update_user(&changed).await.unwrap();
    tx.commit().await.unwrap();
    let read = store.user_by_id(original.id).await.unwrap().unwrap();
    assert_eq!(read.name, "Renamed");
    assert_eq!(read.email, original.email, "the email never changes");
    assert_eq!(
        read.password_hash.as_ref().map(|h| h.expose_secret()),
        Some("$argon2id$v=19$new")
    );
    assert_eq!(read.email_verified_at, changed.email_verified_at);
    assert_eq!(read.created_at, original.created_at);
}
