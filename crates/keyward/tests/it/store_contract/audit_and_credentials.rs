//! The audit trail, service tokens and sessions.

use keyward_core::model::{
    new_id, now, ActorType, AuditActor, AuditEvent, AuditTarget, ServiceToken, Session, Timestamp,
};
use keyward_core::store::{AuditQuery, Cursor};
use uuid::Uuid;

use super::fixtures::{
    assert_conflict, insert_keys, key, ms, owner_and_workspace, random_hash, user, Db,
};

fn event(workspace_id: Uuid, action: &str, target: Uuid, at: Timestamp) -> AuditEvent {
    AuditEvent {
        id: new_id(),
        workspace_id,
        at,
        actor: AuditActor {
            kind: ActorType::System,
            id: None,
        },
        action: action.to_owned(),
        target: AuditTarget {
            kind: "api_key".into(),
            id: target,
        },
        ip: None,
        user_agent: None,
        details: serde_json::json!({}),
    }
}

fn all(limit: u32) -> AuditQuery {
    AuditQuery {
        action: None,
        target_id: None,
        concerning_user: None,
        after: None,
        limit,
    }
}

async fn insert_events(store: &Db, events: &[AuditEvent]) {
    let mut tx = store.begin().await.unwrap();
    for e in events {
        tx.insert_audit(e).await.unwrap();
    }
    tx.commit().await.unwrap();
}

pub async fn audit_events_round_trip_every_field(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let mut e = event(w.id, "api_key.created", new_id(), now());
    e.actor = AuditActor {
        kind: ActorType::User,
        id: Some(u.id),
    };
    e.ip = Some("203.0.113.7".into());
    e.user_agent = Some("curl/8.5".into());
    e.details = serde_json::json!({"name": "ci", "key_prefix": "kw_abcdefgh", "scopes": ["*"]});
    let system = event(w.id, "workspace.updated", w.id, e.at + ms(1));
    insert_events(&store, &[e.clone(), system.clone()]).await;

    let listed = store.list_audit(w.id, &all(10)).await.unwrap();
    assert_eq!(listed.len(), 2);
    let read = &listed[1];
    assert_eq!(read.id, e.id);
    assert_eq!(read.workspace_id, w.id);
    assert_eq!(read.at, e.at);
    assert_eq!(read.actor, e.actor);
    assert_eq!(read.action, e.action);
    assert_eq!(read.target, e.target);
    assert_eq!(read.ip, e.ip);
    assert_eq!(read.user_agent, e.user_agent);
    assert_eq!(read.details, e.details);
    assert_eq!(
        listed[0].actor,
        AuditActor {
            kind: ActorType::System,
            id: None
        }
    );
    assert_eq!(
        (listed[0].ip.as_deref(), listed[0].user_agent.as_deref()),
        (None, None)
    );
}

pub async fn audit_listing_is_newest_first_with_filters_and_cursor(store: Db) {
    let (_, w) = owner_and_workspace(&store).await;
    let (_, other) = owner_and_workspace(&store).await;
    let t = now();
    let key_a = new_id();
    let events: Vec<_> = (0..6)
        .map(|i| {
            let action = if i % 2 == 0 {
                "api_key.created"
            } else {
                "api_key.revoked"
            };
            let target = if i < 3 { key_a } else { new_id() };
            event(w.id, action, target, t + ms(i))
        })
        .collect();
    insert_events(&store, &events).await;
    insert_events(&store, &[event(other.id, "api_key.created", key_a, t)]).await;
    let newest_first: Vec<_> = events.iter().rev().map(|e| e.id).collect();

    let mut q = all(4);
    let page = store.list_audit(w.id, &q).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.id).collect::<Vec<_>>(),
        newest_first[..4]
    );
    let last = &page[3];
    q.after = Some(Cursor {
        at: last.at,
        id: last.id,
    });
    let rest = store.list_audit(w.id, &q).await.unwrap();
    assert_eq!(
        rest.iter().map(|e| e.id).collect::<Vec<_>>(),
        newest_first[4..]
    );

    let mut q = all(50);
    q.action = Some("api_key.revoked".into());
    let got: Vec<_> = store
        .list_audit(w.id, &q)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(got, vec![events[5].id, events[3].id, events[1].id]);
    q.target_id = Some(key_a);
    let got: Vec<_> = store
        .list_audit(w.id, &q)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        got,
        vec![events[1].id],
        "filters combine, and stay in their workspace"
    );
}

pub async fn audit_concerning_a_user_shows_only_that_user_and_its_own_keys(store: Db) {
    let (owner, w) = owner_and_workspace(&store).await;
    let member = user("member@example.com");
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&member).await.unwrap();
    tx.commit().await.unwrap();
    let mine = key(w.id, member.id, "mine");
    let theirs = key(w.id, owner.id, "theirs");
    insert_keys(&store, &[mine.clone(), theirs.clone()]).await;
    let t = now();
    let about_mine = event(w.id, "api_key.created", mine.id, t);
    let about_theirs = event(w.id, "api_key.created", theirs.id, t + ms(1));
    let mut about_me = event(w.id, "member.added", member.id, t + ms(2));
    about_me.target.kind = "user".into();
    let mut by_my_key = event(w.id, "api_key.updated", w.id, t + ms(3));
    by_my_key.actor = AuditActor {
        kind: ActorType::ApiKey,
        id: Some(mine.id),
    };
    by_my_key.target.kind = "workspace".into();
    let mut by_their_key = by_my_key.clone();
    by_their_key.id = new_id();
    by_their_key.actor.id = Some(theirs.id);
    insert_events(
        &store,
        &[
            about_mine.clone(),
            about_theirs,
            about_me.clone(),
            by_my_key.clone(),
            by_their_key,
        ],
    )
    .await;

    let query = AuditQuery {
        concerning_user: Some(member.id),
        ..all(50)
    };
    let seen: Vec<Uuid> = store
        .list_audit(w.id, &query)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(seen, vec![by_my_key.id, about_me.id, about_mine.id]);
    assert_eq!(store.list_audit(w.id, &all(50)).await.unwrap().len(), 5);
}

pub async fn service_tokens_are_found_by_hash(store: Db) {
    let t = now();
    let token = ServiceToken {
        id: new_id(),
        name: "billing service".into(),
        token_prefix: "kwsvc_ab12".into(),
        hash: random_hash(),
        created_at: t,
        revoked_at: None,
        last_used_at: None,
    };
    let revoked = ServiceToken {
        id: new_id(),
        name: "old".into(),
        token_prefix: "kwsvc_cd34".into(),
        hash: random_hash(),
        created_at: t,
        revoked_at: Some(t + ms(1)),
        last_used_at: None,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_service_token(&token).await.unwrap();
    tx.insert_service_token(&revoked).await.unwrap();
    tx.commit().await.unwrap();

    let read = store
        .service_token_by_hash(&token.hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            read.id,
            read.name.as_str(),
            read.token_prefix.as_str(),
            read.created_at,
            read.revoked_at
        ),
        (token.id, "billing service", "kwsvc_ab12", t, None)
    );
    assert!(read.hash.ct_eq(&token.hash));
    let read = store
        .service_token_by_hash(&revoked.hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        read.revoked_at, revoked.revoked_at,
        "revoked tokens are returned; the caller refuses them"
    );
    assert!(store
        .service_token_by_hash(&random_hash())
        .await
        .unwrap()
        .is_none());

    let dup = ServiceToken {
        id: new_id(),
        ..token
    };
    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_service_token(&dup).await);
}

pub async fn sessions_are_found_by_hash_and_deleted_by_id(store: Db) {
    let u = user("session@example.com");
    let t = now();
    let session = Session {
        id: new_id(),
        token_hash: random_hash(),
        csrf_hash: random_hash(),
        user_id: u.id,
        created_at: t,
        last_seen_at: t + ms(3),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.insert_session(&session).await.unwrap();
    tx.commit().await.unwrap();

    let read = store
        .session_by_hash(&session.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((read.id, read.user_id), (session.id, u.id));
    assert!(read.token_hash.ct_eq(&session.token_hash));
    assert!(read.csrf_hash.ct_eq(&session.csrf_hash));
    assert_eq!(
        (read.created_at, read.last_seen_at),
        (session.created_at, session.last_seen_at)
    );
    assert!(
        store
            .session_by_hash(&session.csrf_hash)
            .await
            .unwrap()
            .is_none(),
        "the CSRF token is not a session token"
    );

    let mut tx = store.begin().await.unwrap();
    assert_conflict(
        tx.insert_session(&Session {
            id: new_id(),
            ..session.clone()
        })
        .await,
    );
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    tx.delete_session(session.id).await.unwrap();
    tx.delete_session(new_id()).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store
        .session_by_hash(&session.token_hash)
        .await
        .unwrap()
        .is_none());
}
