//! Users, workspaces and memberships.

use keyward_core::key_format::{KeyFormat, KeyPrefix};
use keyward_core::model::{now, Role};
use keyward_core::scope::ScopeSet;

use super::fixtures::{assert_conflict, membership, ms, owner_and_workspace, user, workspace, Db};

pub async fn users_round_trip_and_are_found_by_id_and_email(store: Db) {
    assert_eq!(store.count_users().await.unwrap(), 0);
    let mut u = user("ada@example.com");
    u.email_verified_at = Some(now());
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&u).await.unwrap();
    let seen = tx.user_by_email("ada@example.com").await.unwrap().unwrap();
    assert_eq!(seen.id, u.id, "a transaction reads its own insert");
    tx.commit().await.unwrap();

    let by_id = store.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(by_id.email, u.email);
    assert_eq!(by_id.name, u.name);
    assert_eq!(
        by_id
            .password_hash
            .as_ref()
            .map(|h| h.expose_secret().to_owned()),
        u.password_hash
            .as_ref()
            .map(|h| h.expose_secret().to_owned())
    );
    assert_eq!(by_id.email_verified_at, u.email_verified_at);
    assert_eq!(by_id.created_at, u.created_at);
    let by_email = store
        .user_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_email.id, u.id);
    assert!(store
        .user_by_email("bob@example.com")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .user_by_id(keyward_core::model::new_id())
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.count_users().await.unwrap(), 1);

    let mut no_password = user("nopw@example.com");
    no_password.password_hash = None;
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&no_password).await.unwrap();
    tx.commit().await.unwrap();
    let read = store.user_by_id(no_password.id).await.unwrap().unwrap();
    assert!(read.password_hash.is_none() && read.email_verified_at.is_none());
    assert_eq!(store.count_users().await.unwrap(), 2);
}

pub async fn duplicate_email_is_a_conflict(store: Db) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&user("ada@example.com")).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_user(&user("ada@example.com")).await);
}

pub async fn workspace_updates_write_every_mutable_field(store: Db) {
    let (_, mut w) = owner_and_workspace(&store).await;
    let read = store.workspace(w.id).await.unwrap().unwrap();
    assert_eq!(read.name, "Acme");
    assert_eq!(read.plan, "pro");
    assert_eq!(read.key_prefix.as_str(), "kw_");
    assert_eq!(read.key_format, KeyFormat::Base62);
    assert!(!read.members_can_create_keys);
    assert_eq!(
        (read.created_at, read.updated_at),
        (w.created_at, w.updated_at)
    );

    w.name = "Acme Corp".into();
    w.plan = "free".into();
    w.key_prefix = KeyPrefix::parse("sk_live_").unwrap();
    w.key_format = KeyFormat::Hex64;
    w.members_can_create_keys = true;
    w.updated_at += ms(1_000);
    let mut tx = store.begin().await.unwrap();
    tx.update_workspace(&w).await.unwrap();
    tx.commit().await.unwrap();

    let read = store.workspace(w.id).await.unwrap().unwrap();
    assert_eq!(read.name, "Acme Corp");
    assert_eq!(read.plan, "free");
    assert_eq!(read.key_prefix.as_str(), "sk_live_");
    assert_eq!(read.key_format, KeyFormat::Hex64);
    assert!(read.members_can_create_keys);
    assert_eq!(read.updated_at, w.updated_at);
    assert_eq!(read.created_at, w.created_at);
    assert!(store
        .workspace(keyward_core::model::new_id())
        .await
        .unwrap()
        .is_none());
}

pub async fn lock_workspace_reads_the_workspace_inside_the_transaction(store: Db) {
    let w = workspace("Fresh");
    let mut tx = store.begin().await.unwrap();
    assert!(tx.lock_workspace(w.id).await.unwrap().is_none());
    tx.insert_workspace(&w).await.unwrap();
    let locked = tx.lock_workspace(w.id).await.unwrap().unwrap();
    assert_eq!(locked.name, "Fresh");
    tx.commit().await.unwrap();
}

pub async fn workspaces_of_user_come_with_the_role_oldest_first(store: Db) {
    let (u, first) = owner_and_workspace(&store).await;
    let mut second = workspace("Second");
    second.created_at = first.created_at + ms(10);
    second.updated_at = second.created_at;
    let mut tx = store.begin().await.unwrap();
    tx.insert_workspace(&second).await.unwrap();
    tx.insert_membership(&membership(second.id, u.id, Role::Member))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let list = store.workspaces_of_user(u.id).await.unwrap();
    let got: Vec<_> = list.iter().map(|(w, r)| (w.id, *r)).collect();
    assert_eq!(
        got,
        vec![(first.id, Role::Owner), (second.id, Role::Member)]
    );
    let stranger = keyward_core::model::new_id();
    assert!(store.workspaces_of_user(stranger).await.unwrap().is_empty());
}

pub async fn memberships_keep_null_scopes_apart_from_narrowed_scopes(store: Db) {
    let (owner, w) = owner_and_workspace(&store).await;
    let narrowed_user = user("narrow@example.com");
    let mut narrowed = membership(w.id, narrowed_user.id, Role::Member);
    narrowed.scopes = Some(ScopeSet::from_trusted(["apps:read", "billing:read"]));
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&narrowed_user).await.unwrap();
    tx.insert_membership(&narrowed).await.unwrap();
    let in_tx = tx
        .membership(w.id, narrowed_user.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(in_tx.scopes, narrowed.scopes);
    tx.commit().await.unwrap();

    let owner_m = store.membership(w.id, owner.id).await.unwrap().unwrap();
    assert_eq!(owner_m.role, Role::Owner);
    assert_eq!(owner_m.scopes, None, "NULL means every product scope");
    let m = store
        .membership(w.id, narrowed_user.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.role, Role::Member);
    assert_eq!(m.scopes, narrowed.scopes);
    assert_eq!(m.created_at, narrowed.created_at);
    let empty = ScopeSet::from_trusted(Vec::<String>::new());
    let mut tx = store.begin().await.unwrap();
    tx.update_membership(&keyward_core::model::Membership {
        scopes: Some(empty.clone()),
        ..m
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let m = store
        .membership(w.id, narrowed_user.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        m.scopes,
        Some(empty),
        "an empty list is not the same as NULL"
    );
    let other = workspace("Other");
    assert!(store
        .membership(other.id, owner.id)
        .await
        .unwrap()
        .is_none());
}

pub async fn duplicate_membership_is_a_conflict(store: Db) {
    let (owner, w) = owner_and_workspace(&store).await;
    let mut tx = store.begin().await.unwrap();
    assert_conflict(
        tx.insert_membership(&membership(w.id, owner.id, Role::Admin))
            .await,
    );
}

pub async fn members_are_listed_with_their_users_oldest_first(store: Db) {
    let (owner, w) = owner_and_workspace(&store).await;
    let later = user("later@example.com");
    let mut m = membership(w.id, later.id, Role::Admin);
    m.created_at += ms(50);
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&later).await.unwrap();
    tx.insert_membership(&m).await.unwrap();
    tx.commit().await.unwrap();

    let members = store.members(w.id).await.unwrap();
    let got: Vec<_> = members
        .iter()
        .map(|m| (m.user.id, m.user.email.clone(), m.membership.role))
        .collect();
    assert_eq!(
        got,
        vec![
            (owner.id, owner.email.clone(), Role::Owner),
            (later.id, later.email.clone(), Role::Admin),
        ]
    );
    assert!(members.iter().all(|m| m.membership.workspace_id == w.id));
    assert!(store.members(workspace("x").id).await.unwrap().is_empty());
}

pub async fn membership_updates_and_deletes_change_the_owner_count(store: Db) {
    let (owner, w) = owner_and_workspace(&store).await;
    let second = user("second@example.com");
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.count_owners(w.id).await.unwrap(), 1);
    tx.insert_user(&second).await.unwrap();
    let mut m = membership(w.id, second.id, Role::Member);
    tx.insert_membership(&m).await.unwrap();
    assert_eq!(
        tx.count_owners(w.id).await.unwrap(),
        1,
        "members are not owners"
    );
    m.role = Role::Owner;
    tx.update_membership(&m).await.unwrap();
    assert_eq!(tx.count_owners(w.id).await.unwrap(), 2);
    tx.delete_membership(w.id, owner.id).await.unwrap();
    assert_eq!(tx.count_owners(w.id).await.unwrap(), 1);
    tx.commit().await.unwrap();

    assert!(store.membership(w.id, owner.id).await.unwrap().is_none());
    let promoted = store.membership(w.id, second.id).await.unwrap().unwrap();
    assert_eq!(promoted.role, Role::Owner);
    assert!(
        store.user_by_id(owner.id).await.unwrap().is_some(),
        "removing a membership keeps the user"
    );
}
