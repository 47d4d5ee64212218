//! One-line builders for the rows the contract tests need.

use std::sync::Arc;

use chrono::Duration;
use keyward_core::key_format::{KeyFormat, KeyPrefix};
use keyward_core::model::{new_id, now, ApiKey, Membership, Role, Timestamp, User, Workspace};
use keyward_core::secret::{CredentialHash, PasswordHash};
use keyward_core::store::{KeyQuery, Store, StoreError};
use uuid::Uuid;

pub type Db = Arc<dyn Store>;

/// A fresh random hash; collisions are as unlikely as in production.
pub fn random_hash() -> CredentialHash {
    CredentialHash::from_bytes(rand::random())
}

pub fn ms(n: i64) -> Duration {
    Duration::milliseconds(n)
}

pub fn user(email: &str) -> User {
    User {
        id: new_id(),
        email: email.to_owned(),
        name: format!("User {email}"),
        password_hash: Some(PasswordHash::from_phc(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        )),
        email_verified_at: None,
        created_at: now(),
    }
}

pub fn workspace(name: &str) -> Workspace {
    let t = now();
    Workspace {
        id: new_id(),
        name: name.to_owned(),
        plan: "pro".into(),
        key_prefix: KeyPrefix::parse("kw_").expect("valid prefix"),
        key_format: KeyFormat::Base62,
        members_can_create_keys: false,
        created_at: t,
        updated_at: t,
    }
}

pub fn membership(workspace_id: Uuid, user_id: Uuid, role: Role) -> Membership {
    Membership {
        workspace_id,
        user_id,
        role,
        scopes: None,
        created_at: now(),
    }
}

/// A full-access, never-expiring key created at `created_at`.
pub fn key_at(workspace_id: Uuid, created_by: Uuid, name: &str, created_at: Timestamp) -> ApiKey {
    ApiKey {
        name: name.to_owned(),
        created_at,
        updated_at: created_at,
        ..keyward_core::fixtures::api_key(workspace_id, created_by, random_hash())
    }
}

pub fn key(workspace_id: Uuid, created_by: Uuid, name: &str) -> ApiKey {
    key_at(workspace_id, created_by, name, now())
}

/// A user who owns a new workspace, committed.
pub async fn owner_and_workspace(store: &Db) -> (User, Workspace) {
    let u = user(&format!("owner-{}@example.com", new_id()));
    let w = workspace("Acme");
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.insert_workspace(&w).await.unwrap();
    tx.insert_membership(&membership(w.id, u.id, Role::Owner))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (u, w)
}

pub async fn insert_keys(store: &Db, keys: &[ApiKey]) {
    let mut tx = store.begin().await.unwrap();
    for k in keys {
        tx.insert_key(k).await.unwrap();
    }
    tx.commit().await.unwrap();
}

pub async fn update_keys(store: &Db, keys: &[ApiKey]) {
    let mut tx = store.begin().await.unwrap();
    for k in keys {
        tx.update_key(k).await.unwrap();
    }
    tx.commit().await.unwrap();
}

pub fn query(now: Timestamp) -> KeyQuery {
    KeyQuery {
        status: None,
        created_by: None,
        name_contains: None,
        after: None,
        limit: 50,
        now,
    }
}

pub fn ids(keys: &[ApiKey]) -> Vec<Uuid> {
    keys.iter().map(|k| k.id).collect()
}

pub fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    match result {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
}
