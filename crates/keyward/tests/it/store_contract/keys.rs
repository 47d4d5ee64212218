//! API keys: lookups, conflicts, counts, updates and recorded use.

use keyward_core::model::{new_id, now, KeySource, KeyStatus, Role};
use keyward_core::scope::ScopeSet;
use keyward_core::store::KeyCounts;

use super::fixtures::{
    assert_conflict, ids, insert_keys, key, key_at, ms, owner_and_workspace, query, random_hash,
    update_keys, Db,
};

pub async fn a_key_round_trips_every_field(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let parent = key(w.id, u.id, "parent");
    let t = now();
    let mut k = key_at(w.id, u.id, "deploy bot", t);
    k.key_prefix = "kw_Zx9Yw8Vu".into();
    k.source = KeySource::Imported;
    k.scopes = ScopeSet::from_trusted(["apps:deploy", "apps:read"]);
    k.creator_role = Role::Member;
    k.creator_scopes = ScopeSet::from_trusted(["apps", "api_keys:read"]);
    k.updated_at = t + ms(1);
    k.expires_at = Some(t + ms(86_400_000));
    k.last_used_at = Some(t + ms(2));
    k.metadata.insert("team".into(), serde_json::json!("infra"));
    k.metadata
        .insert("nested".into(), serde_json::json!({"a": [1, 2]}));
    k.rotated_from = Some(parent.id);
    insert_keys(&store, &[parent, k.clone()]).await;

    let read = store.key(w.id, k.id).await.unwrap().unwrap();
    assert_eq!(read.id, k.id);
    assert_eq!(read.workspace_id, w.id);
    assert_eq!(read.name, "deploy bot");
    assert_eq!(read.key_prefix, "kw_Zx9Yw8Vu");
    assert!(read.hash.ct_eq(&k.hash));
    assert_eq!(read.source, KeySource::Imported);
    assert_eq!(read.scopes, k.scopes);
    assert_eq!(read.creator_role, Role::Member);
    assert_eq!(read.creator_scopes, k.creator_scopes);
    assert_eq!(read.created_by, u.id);
    assert_eq!(read.created_at, k.created_at);
    assert_eq!(read.updated_at, k.updated_at);
    assert_eq!(read.expires_at, k.expires_at);
    assert_eq!(read.last_used_at, k.last_used_at);
    assert_eq!(read.revoked_at, None);
    assert_eq!(read.deleted_at, None);
    assert_eq!(read.metadata, k.metadata);
    assert_eq!(read.rotated_from, k.rotated_from);

    let mut tx = store.begin().await.unwrap();
    let in_tx = tx.key(w.id, k.id).await.unwrap().unwrap();
    assert_eq!(in_tx.name, "deploy bot");
    assert!(tx.key(w.id, new_id()).await.unwrap().is_none());
}

pub async fn key_by_hash_finds_the_key_and_returns_deleted_keys_too(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let mut k = key(w.id, u.id, "ci");
    insert_keys(&store, &[k.clone()]).await;
    let found = store.key_by_hash(&k.hash).await.unwrap().unwrap();
    assert_eq!(found.key.id, k.id);
    assert!(store.key_by_hash(&random_hash()).await.unwrap().is_none());

    k.revoked_at = Some(now());
    k.deleted_at = Some(now());
    update_keys(&store, &[k.clone()]).await;
    let found = store.key_by_hash(&k.hash).await.unwrap().unwrap();
    assert_eq!(
        found.key.deleted_at, k.deleted_at,
        "the verifier decides what deleted means"
    );
    assert!(store.key(w.id, k.id).await.unwrap().is_none());
}

pub async fn key_by_hash_brings_the_creators_membership_and_the_members_policy(store: Db) {
    let (u, mut w) = owner_and_workspace(&store).await;
    let k = key(w.id, u.id, "ci");
    insert_keys(&store, std::slice::from_ref(&k)).await;
    let found = store.key_by_hash(&k.hash).await.unwrap().unwrap();
    assert!(found.creator_is_member);
    assert!(!found.members_can_create_keys);

    w.members_can_create_keys = true;
    let mut tx = store.begin().await.unwrap();
    tx.update_workspace(&w).await.unwrap();
    tx.delete_membership(w.id, u.id).await.unwrap();
    tx.commit().await.unwrap();
    let found = store.key_by_hash(&k.hash).await.unwrap().unwrap();
    assert!(!found.creator_is_member, "the creator has left");
    assert!(
        found.members_can_create_keys,
        "today's policy, not the key's"
    );
}

pub async fn key_by_id_finds_a_key_in_any_workspace_but_never_a_deleted_one(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let (u2, w2) = owner_and_workspace(&store).await;
    let mut k = key(w.id, u.id, "mine");
    let theirs = key(w2.id, u2.id, "theirs");
    insert_keys(&store, &[k.clone(), theirs.clone()]).await;
    assert_eq!(
        store
            .key_by_id(theirs.id)
            .await
            .unwrap()
            .unwrap()
            .workspace_id,
        w2.id
    );
    assert_eq!(store.key_by_id(k.id).await.unwrap().unwrap().name, "mine");
    assert!(store.key_by_id(new_id()).await.unwrap().is_none());
    k.deleted_at = Some(now());
    update_keys(&store, &[k.clone()]).await;
    assert!(store.key_by_id(k.id).await.unwrap().is_none());
}

pub async fn duplicate_key_hash_is_a_conflict(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let first = key(w.id, u.id, "first");
    insert_keys(&store, std::slice::from_ref(&first)).await;
    let mut second = key(w.id, u.id, "second");
    second.hash = first.hash;
    let mut tx = store.begin().await.unwrap();
    let result = tx.insert_key(&second).await;
    if let Err(e) = &result {
        let text = e.to_string();
        let hex: String = first
            .hash
            .expose_secret()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(
            !text.contains(&hex),
            "the error must not carry the hash: {text}"
        );
    }
    assert_conflict(result);
}

pub async fn a_second_successor_of_the_same_key_is_a_conflict(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let old = key(w.id, u.id, "old");
    let mut one = key(w.id, u.id, "old");
    one.rotated_from = Some(old.id);
    let mut two = key(w.id, u.id, "old");
    two.rotated_from = Some(old.id);
    insert_keys(&store, &[old, one]).await;
    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_key(&two).await);
    drop(tx);
    // Keys that were not rotated from anything never collide with each other.
    insert_keys(&store, &[key(w.id, u.id, "a"), key(w.id, u.id, "b")]).await;
}

pub async fn keys_of_another_workspace_are_invisible(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let (u2, w2) = owner_and_workspace(&store).await;
    let k = key(w.id, u.id, "mine");
    insert_keys(&store, &[k.clone(), key(w2.id, u2.id, "theirs")]).await;
    assert!(store.key(w2.id, k.id).await.unwrap().is_none());
    let listed = store.list_keys(w.id, &query(now())).await.unwrap();
    assert_eq!(ids(&listed), vec![k.id]);
    let mut tx = store.begin().await.unwrap();
    assert!(tx.key(w2.id, k.id).await.unwrap().is_none());
    assert_eq!(tx.key_counts(w2.id, now()).await.unwrap().total, 1);
}

pub async fn each_key_gets_the_next_sequence_number_and_is_found_by_it(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let (u2, w2) = owner_and_workspace(&store).await;
    let (a, b, theirs) = (
        key(w.id, u.id, "a"),
        key(w.id, u.id, "b"),
        key(w2.id, u2.id, "theirs"),
    );
    let mut tx = store.begin().await.unwrap();
    let seq_a = tx.insert_key(&a).await.unwrap();
    let seq_theirs = tx.insert_key(&theirs).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.insert_keys(&[key(w.id, u.id, "bulk 1"), key(w.id, u.id, "bulk 2")])
        .await
        .unwrap();
    let seq_b = tx.insert_key(&b).await.unwrap();
    tx.commit().await.unwrap();
    // One sequence for the whole instance, across workspaces and bulk inserts.
    assert!(seq_a >= 1, "{seq_a}");
    assert_eq!(seq_theirs, seq_a + 1);
    assert_eq!(seq_b, seq_a + 4);

    let found = store.key_by_seq(w.id, seq_a).await.unwrap().unwrap();
    assert_eq!((found.id, found.seq), (a.id, seq_a));
    assert_eq!(store.key(w.id, b.id).await.unwrap().unwrap().seq, seq_b);
    // Another workspace's number is not found, nor is a number no key has.
    assert!(store.key_by_seq(w.id, seq_theirs).await.unwrap().is_none());
    assert!(store.key_by_seq(w.id, seq_b + 100).await.unwrap().is_none());

    // A deleted key keeps its number (it is never reused) but is not found by it.
    let mut gone = store.key(w.id, a.id).await.unwrap().unwrap();
    gone.deleted_at = Some(now());
    update_keys(&store, &[gone]).await;
    assert!(store.key_by_seq(w.id, seq_a).await.unwrap().is_none());
    let mut tx = store.begin().await.unwrap();
    let next = tx.insert_key(&key(w.id, u.id, "next")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(next, seq_b + 1);
}

pub async fn deleted_keys_are_not_listed_and_do_not_count(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let kept = key(w.id, u.id, "kept");
    let mut gone = key(w.id, u.id, "gone");
    insert_keys(&store, &[kept.clone(), gone.clone()]).await;
    gone.revoked_at = Some(now());
    gone.deleted_at = Some(now());
    update_keys(&store, &[gone.clone()]).await;

    assert_eq!(
        ids(&store.list_keys(w.id, &query(now())).await.unwrap()),
        vec![kept.id]
    );
    let mut q = query(now());
    q.status = Some(KeyStatus::Revoked);
    assert!(store.list_keys(w.id, &q).await.unwrap().is_empty());
    assert!(store.key(w.id, gone.id).await.unwrap().is_none());
    let mut tx = store.begin().await.unwrap();
    assert!(tx.key(w.id, gone.id).await.unwrap().is_none());
    assert_eq!(
        tx.key_counts(w.id, now()).await.unwrap(),
        KeyCounts {
            active: 1,
            total: 1
        }
    );
    assert!(tx
        .unrevoked_keys_of_user(w.id, u.id)
        .await
        .unwrap()
        .iter()
        .all(|k| k.id != gone.id));
}

pub async fn key_counts_count_active_and_total(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let t = now();
    let mut expired = key(w.id, u.id, "expired");
    expired.expires_at = Some(t);
    let mut revoked = key(w.id, u.id, "revoked");
    revoked.revoked_at = Some(t);
    let mut later = key(w.id, u.id, "later");
    later.expires_at = Some(t + ms(10));
    insert_keys(&store, &[key(w.id, u.id, "a"), expired, revoked, later]).await;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.key_counts(w.id, t).await.unwrap(),
        KeyCounts {
            active: 2,
            total: 4
        }
    );
    assert_eq!(
        tx.key_counts(w.id, t + ms(10)).await.unwrap(),
        KeyCounts {
            active: 1,
            total: 4
        },
        "counted at the instant given"
    );
    assert_eq!(
        tx.key_counts(new_id(), t).await.unwrap(),
        KeyCounts {
            active: 0,
            total: 0
        }
    );
}

pub async fn a_grace_key_counts_as_active_only_once_its_successor_is_not(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let t = now();
    let mut old = key(w.id, u.id, "old");
    let mut new = key(w.id, u.id, "new");
    new.rotated_from = Some(old.id);
    insert_keys(&store, &[old.clone(), new.clone()]).await;
    old.rotated_to = Some(new.id);
    old.expires_at = Some(t + chrono::Duration::hours(1));
    update_keys(&store, &[old.clone()]).await;
    let counts = |store: Db| async move {
        let mut tx = store.begin().await.unwrap();
        tx.key_counts(w.id, t).await.unwrap()
    };
    let c = counts(store.clone()).await;
    assert_eq!((c.active, c.total), (1, 2), "the pair counts once");

    new.revoked_at = Some(t);
    update_keys(&store, &[new.clone()]).await;
    let c = counts(store.clone()).await;
    assert_eq!(
        c.active, 1,
        "the grace key counts once its successor is revoked"
    );

    new.deleted_at = Some(t);
    update_keys(&store, &[new]).await;
    let c = counts(store.clone()).await;
    assert_eq!((c.active, c.total), (1, 1), "and once it is deleted");
}

pub async fn update_key_writes_the_mutable_fields(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let mut k = key(w.id, u.id, "before");
    insert_keys(&store, &[k.clone()]).await;
    let t = now() + ms(5);
    k.name = "after".into();
    k.scopes = ScopeSet::from_trusted(["apps:read"]);
    k.expires_at = Some(t + ms(1_000));
    k.metadata.insert("env".into(), serde_json::json!("prod"));
    k.revoked_at = Some(t);
    k.updated_at = t;
    let mut tx = store.begin().await.unwrap();
    tx.update_key(&k).await.unwrap();
    let in_tx = tx.key(w.id, k.id).await.unwrap().unwrap();
    assert_eq!(in_tx.name, "after");
    tx.commit().await.unwrap();

    let read = store.key(w.id, k.id).await.unwrap().unwrap();
    assert_eq!(read.name, "after");
    assert_eq!(read.scopes, k.scopes);
    assert_eq!(read.expires_at, k.expires_at);
    assert_eq!(read.metadata, k.metadata);
    assert_eq!(read.revoked_at, Some(t));
    assert_eq!(read.updated_at, t);
    assert_eq!(read.created_at, k.created_at, "created_at never changes");
    assert!(read.hash.ct_eq(&k.hash));

    k.expires_at = None;
    k.revoked_at = None;
    update_keys(&store, &[k.clone()]).await;
    let read = store.key(w.id, k.id).await.unwrap().unwrap();
    assert_eq!(
        (read.expires_at, read.revoked_at),
        (None, None),
        "NULLs are written too"
    );
}

pub async fn unrevoked_keys_of_user_skip_revoked_deleted_and_other_creators(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let (_, w2) = owner_and_workspace(&store).await;
    let live = key(w.id, u.id, "live");
    let mut expired = key(w.id, u.id, "expired but not revoked");
    expired.expires_at = Some(now() - ms(1_000));
    let mut revoked = key(w.id, u.id, "revoked");
    revoked.revoked_at = Some(now());
    let mut deleted = key(w.id, u.id, "deleted");
    deleted.deleted_at = Some(now());
    let someone_else = key(w.id, new_id(), "someone else's");
    let elsewhere = key(w2.id, u.id, "other workspace");
    insert_keys(
        &store,
        &[
            live.clone(),
            expired.clone(),
            revoked,
            deleted,
            someone_else,
            elsewhere,
        ],
    )
    .await;

    let mut tx = store.begin().await.unwrap();
    let mut got = ids(&tx.unrevoked_keys_of_user(w.id, u.id).await.unwrap());
    got.sort();
    let mut want = vec![live.id, expired.id];
    want.sort();
    assert_eq!(got, want);
}

pub async fn record_key_use_never_moves_last_used_at_backwards(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let a = key(w.id, u.id, "a");
    let b = key(w.id, u.id, "b");
    insert_keys(&store, &[a.clone(), b.clone()]).await;
    let t = now();

    store.record_key_use(&[]).await.unwrap();
    store
        .record_key_use(&[(a.id, t), (b.id, t + ms(5))])
        .await
        .unwrap();
    assert_eq!(
        store.key(w.id, a.id).await.unwrap().unwrap().last_used_at,
        Some(t)
    );
    assert_eq!(
        store.key(w.id, b.id).await.unwrap().unwrap().last_used_at,
        Some(t + ms(5))
    );

    // An older batch (e.g. from a slower node) must not rewind it.
    store
        .record_key_use(&[(a.id, t - ms(60_000)), (b.id, t)])
        .await
        .unwrap();
    assert_eq!(
        store.key(w.id, a.id).await.unwrap().unwrap().last_used_at,
        Some(t)
    );
    assert_eq!(
        store.key(w.id, b.id).await.unwrap().unwrap().last_used_at,
        Some(t + ms(5))
    );

    // Several uses of one key in one batch keep the latest; unknown ids are ignored.
    store
        .record_key_use(&[(a.id, t + ms(9)), (a.id, t + ms(7)), (new_id(), t)])
        .await
        .unwrap();
    let read = store.key(w.id, a.id).await.unwrap().unwrap();
    assert_eq!(read.last_used_at, Some(t + ms(9)));
    assert_eq!(read.updated_at, a.updated_at, "use is not an edit");
}

pub async fn key_writes_and_policy_changes_land_in_the_change_log_but_uses_do_not(store: Db) {
    let (u, mut w) = owner_and_workspace(&store).await;
    let start = store.latest_key_change().await.unwrap();
    let mut k = key(w.id, u.id, "logged");
    insert_keys(&store, std::slice::from_ref(&k)).await;
    k.revoked_at = Some(now());
    update_keys(&store, std::slice::from_ref(&k)).await;
    // A use moves last_used_at only: nothing a verification answers with changes.
    store.record_key_use(&[(k.id, now())]).await.unwrap();
    w.members_can_create_keys = true;
    let mut tx = store.begin().await.unwrap();
    tx.update_workspace(&w).await.unwrap();
    tx.commit().await.unwrap();

    let changes = store.key_changes_since(start, 100).await.unwrap();
    let hashes: Vec<_> = changes.iter().map(|c| c.hash).collect();
    assert_eq!(hashes, [Some(k.hash), Some(k.hash), None]);
    assert!(changes.windows(2).all(|p| p[0].id < p[1].id));
    assert_eq!(store.latest_key_change().await.unwrap(), changes[2].id);
    assert_eq!(
        store.key_changes_since(changes[0].id, 1).await.unwrap(),
        [changes[1]]
    );

    // Pruning drops old entries; ids keep increasing after it.
    assert_eq!(store.prune_key_changes(now() + ms(1_000)).await.unwrap(), 3);
    assert!(store
        .key_changes_since(start, 100)
        .await
        .unwrap()
        .is_empty());
    insert_keys(&store, &[key(w.id, u.id, "after")]).await;
    let after = store.key_changes_since(start, 100).await.unwrap();
    assert!(after[0].id > changes[2].id);
}

pub async fn service_token_writes_and_member_removals_land_in_the_change_log(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let start = store.latest_key_change().await.unwrap();
    let mut token = keyward_core::model::ServiceToken {
        id: new_id(),
        name: "billing".into(),
        token_prefix: "kwsvc_ab12".into(),
        hash: random_hash(),
        created_at: now(),
        revoked_at: None,
        last_used_at: None,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_service_token(&token).await.unwrap();
    tx.commit().await.unwrap();
    token.revoked_at = Some(now());
    let mut tx = store.begin().await.unwrap();
    tx.update_service_token(&token).await.unwrap();
    tx.commit().await.unwrap();
    // A use moves last_used_at only: the token's answer does not change.
    store
        .record_service_token_use(&[(token.id, now())])
        .await
        .unwrap();
    // A removal changes what every key its member made may do.
    let mut tx = store.begin().await.unwrap();
    tx.delete_membership(w.id, u.id).await.unwrap();
    tx.commit().await.unwrap();

    let hashes: Vec<_> = store
        .key_changes_since(start, 100)
        .await
        .unwrap()
        .iter()
        .map(|c| c.hash)
        .collect();
    assert_eq!(hashes, [Some(token.hash), Some(token.hash), None]);
}
