//! Transactions: commit, rollback on drop, isolation and serialized writers.

use std::sync::Arc;

use keyward_core::model::{now, Role};

use super::fixtures::{insert_keys, key, membership, owner_and_workspace, user, workspace, Db};

pub async fn migrate_is_idempotent_and_ping_answers(store: Db) {
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
}

pub async fn dropping_a_transaction_rolls_it_back(store: Db) {
    let u = user("dropped@example.com");
    let w = workspace("Dropped");
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.insert_workspace(&w).await.unwrap();
    tx.insert_membership(&membership(w.id, u.id, Role::Owner))
        .await
        .unwrap();
    drop(tx);

    assert!(store.user_by_id(u.id).await.unwrap().is_none());
    assert!(store.workspace(w.id).await.unwrap().is_none());
    // The writer is free again and sees nothing of the dropped work.
    let mut tx = store.begin().await.unwrap();
    assert!(tx
        .user_by_email("dropped@example.com")
        .await
        .unwrap()
        .is_none());
    tx.insert_user(&u).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.user_by_id(u.id).await.unwrap().is_some());
}

pub async fn a_conflict_does_not_poison_the_writer(store: Db) {
    let (owner, w) = owner_and_workspace(&store).await;
    let newcomer = user("new@example.com");
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&newcomer).await.unwrap();
    assert!(tx
        .insert_membership(&membership(w.id, owner.id, Role::Member))
        .await
        .is_err());
    drop(tx);
    assert!(store.user_by_id(newcomer.id).await.unwrap().is_none());

    let k = key(w.id, owner.id, "after the conflict");
    insert_keys(&store, std::slice::from_ref(&k)).await;
    assert!(store.key(w.id, k.id).await.unwrap().is_some());
}

pub async fn committed_writes_are_visible_to_plain_reads(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let k = key(w.id, u.id, "visible");
    let mut tx = store.begin().await.unwrap();
    tx.insert_key(&k).await.unwrap();
    assert!(
        store.key(w.id, k.id).await.unwrap().is_none(),
        "uncommitted writes are invisible outside the transaction"
    );
    tx.commit().await.unwrap();
    assert!(store.key(w.id, k.id).await.unwrap().is_some());
    assert!(store.key_by_hash(&k.hash).await.unwrap().is_some());
}

pub async fn a_transaction_sees_its_own_uncommitted_writes(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let mut tx = store.begin().await.unwrap();
    let before = tx.key_counts(w.id, now()).await.unwrap();
    tx.insert_key(&key(w.id, u.id, "one")).await.unwrap();
    let after = tx.key_counts(w.id, now()).await.unwrap();
    assert_eq!(after.total, before.total + 1);
    assert_eq!(after.active, before.active + 1);
}

/// The limit check of PRODUCT.md §5 in miniature: each task counts, then inserts only while
/// under the cap. If two transactions could interleave, both would see 24 and insert.
pub async fn concurrent_transactions_are_serialized(store: Db) {
    const CAP: u64 = 25;
    let (u, w) = owner_and_workspace(&store).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            tx.lock_workspace(w.id).await.unwrap().unwrap();
            let counts = tx.key_counts(w.id, now()).await.unwrap();
            if counts.total < CAP {
                // Yield mid-transaction so that an unserialized backend would interleave.
                tokio::task::yield_now().await;
                tx.insert_key(&key(w.id, u.id, &format!("k{i}")))
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                true
            } else {
                false
            }
        }));
    }
    let mut created = 0;
    for t in tasks {
        if t.await.unwrap() {
            created += 1;
        }
    }
    assert_eq!(created, CAP);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.key_counts(w.id, now()).await.unwrap().total, CAP);
}
