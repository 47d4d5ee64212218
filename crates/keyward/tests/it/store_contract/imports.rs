//! What imports need from a store: the key's source, batch inserts of keys and audit events,
//! which hashes are stored already, and whether any imported key exists.

use keyward_core::model::{new_id, now, ActorType, AuditActor, AuditEvent, AuditTarget, KeySource};
use keyward_core::store::AuditQuery;

use super::fixtures::{
    assert_conflict, insert_keys, key, ms, owner_and_workspace, random_hash, update_keys, Db,
};

pub async fn imported_keys_exist_once_one_does_and_deleted_ones_still_count(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    assert!(
        !store.imported_keys_exist().await.unwrap(),
        "an empty store"
    );
    insert_keys(&store, &[key(w.id, u.id, "native")]).await;
    assert!(
        !store.imported_keys_exist().await.unwrap(),
        "native keys are not imports"
    );

    let mut imported = key(w.id, u.id, "legacy");
    imported.source = KeySource::Imported;
    insert_keys(&store, std::slice::from_ref(&imported)).await;
    assert!(store.imported_keys_exist().await.unwrap());

    imported.revoked_at = Some(now());
    imported.deleted_at = imported.revoked_at;
    update_keys(&store, &[imported]).await;
    assert!(
        store.imported_keys_exist().await.unwrap(),
        "a deleted import keeps its row, and the flag never goes back"
    );
}

pub async fn insert_keys_writes_every_row_with_its_source_across_statements(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let t = now();
    // More than one multi-row statement's worth (500), and both sources.
    let keys: Vec<_> = (0..1203)
        .map(|i| {
            let mut k = key(w.id, u.id, &format!("k{i}"));
            k.created_at = t - ms(i);
            k.source = if i % 2 == 0 {
                KeySource::Imported
            } else {
                KeySource::Native
            };
            k.key_prefix = if i % 3 == 0 {
                String::new()
            } else {
                "sat_".into()
            };
            k
        })
        .collect();
    let mut tx = store.begin().await.unwrap();
    tx.insert_keys(&keys).await.unwrap();
    tx.insert_keys(&[]).await.unwrap();
    tx.commit().await.unwrap();

    for k in [&keys[0], &keys[1], &keys[600], &keys[1202]] {
        let read = store.key_by_hash(&k.hash).await.unwrap().unwrap().key;
        assert_eq!(read.id, k.id);
        assert_eq!(read.source, k.source);
        assert_eq!(read.key_prefix, k.key_prefix);
        assert_eq!(read.created_at, k.created_at);
        assert_eq!(read.name, k.name);
    }
    let mut tx = store.begin().await.unwrap();
    let counts = tx.key_counts(w.id, now()).await.unwrap();
    assert_eq!((counts.total, counts.active), (1203, 1203));
}

pub async fn insert_keys_with_a_taken_hash_is_a_conflict_and_writes_nothing(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let first = key(w.id, u.id, "first");
    insert_keys(&store, std::slice::from_ref(&first)).await;

    let fresh = key(w.id, u.id, "fresh");
    let mut clash = key(w.id, u.id, "clash");
    clash.hash = first.hash;
    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_keys(&[fresh.clone(), clash]).await);
    drop(tx);
    assert!(store.key(w.id, fresh.id).await.unwrap().is_none());
}

pub async fn existing_key_hashes_names_the_stored_ones_deleted_included(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let kept = key(w.id, u.id, "kept");
    let mut deleted = key(w.id, u.id, "deleted");
    deleted.deleted_at = Some(now());
    deleted.revoked_at = deleted.deleted_at;
    insert_keys(&store, &[kept.clone(), deleted.clone()]).await;

    // The stored two hidden among more unknown hashes than one statement takes.
    let mut asked: Vec<_> = (0..1100).map(|_| random_hash()).collect();
    asked.insert(3, kept.hash);
    asked.insert(777, deleted.hash);
    let mut tx = store.begin().await.unwrap();
    let found = tx.existing_key_hashes(&asked).await.unwrap();
    assert_eq!(found.len(), 2, "only the stored hashes");
    assert!(found.contains(&kept.hash) && found.contains(&deleted.hash));
    assert!(tx.existing_key_hashes(&[]).await.unwrap().is_empty());

    // A key inserted in the same transaction is seen by it.
    let same_tx = key(w.id, u.id, "same tx");
    tx.insert_key(&same_tx).await.unwrap();
    assert_eq!(
        tx.existing_key_hashes(&[same_tx.hash]).await.unwrap(),
        vec![same_tx.hash]
    );
}

pub async fn insert_audits_writes_every_event(store: Db) {
    let (_, w) = owner_and_workspace(&store).await;
    let t = now();
    let events: Vec<AuditEvent> = (0..1001)
        .map(|i| AuditEvent {
            id: new_id(),
            workspace_id: w.id,
            at: t + ms(i),
            actor: AuditActor {
                kind: ActorType::System,
                id: None,
            },
            action: "api_key.created".into(),
            target: AuditTarget {
                kind: "api_key".into(),
                id: new_id(),
            },
            ip: None,
            user_agent: Some("import".into()),
            details: serde_json::json!({"n": i, "source": "imported"}),
        })
        .collect();
    let mut tx = store.begin().await.unwrap();
    tx.insert_audits(&events).await.unwrap();
    tx.commit().await.unwrap();

    let query = AuditQuery {
        action: None,
        target_id: None,
        concerning_user: None,
        after: None,
        limit: 2000,
    };
    let listed = store.list_audit(w.id, &query).await.unwrap();
    assert_eq!(listed.len(), 1001);
    let newest = &listed[0];
    assert_eq!(newest.id, events[1000].id);
    assert_eq!(newest.target, events[1000].target);
    assert_eq!(newest.details, events[1000].details);
    assert_eq!(newest.user_agent.as_deref(), Some("import"));
}
