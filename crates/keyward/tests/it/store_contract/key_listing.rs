//! The newest-first key listing: order, cursor and filters.

use keyward_core::model::{new_id, now, KeyStatus};
use keyward_core::store::Cursor;

use super::fixtures::{ids, insert_keys, key, key_at, ms, owner_and_workspace, query, Db};

pub async fn listing_is_newest_first_and_the_cursor_continues_after_the_last_row(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let t = now();
    let keys: Vec<_> = (0..7)
        .map(|i| key_at(w.id, u.id, &format!("k{i}"), t + ms(i)))
        .collect();
    insert_keys(&store, &keys).await;
    let expected: Vec<_> = keys.iter().rev().map(|k| k.id).collect();

    let mut q = query(t + ms(100));
    q.limit = 3;
    let mut seen = Vec::new();
    loop {
        let page = store.list_keys(w.id, &q).await.unwrap();
        assert!(page.len() <= 3);
        seen.extend(ids(&page));
        match page.last() {
            Some(last) if page.len() == 3 => {
                q.after = Some(Cursor {
                    at: last.created_at,
                    id: last.id,
                });
            }
            _ => break,
        }
    }
    assert_eq!(seen, expected);
}

pub async fn listing_breaks_ties_on_created_at_by_id(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let t = now();
    // Same instant: the order and the cursor fall back to the id, descending.
    let mut same: Vec<_> = (0..4)
        .map(|i| key_at(w.id, u.id, &format!("s{i}"), t))
        .collect();
    insert_keys(&store, &same).await;
    same.sort_by_key(|k| std::cmp::Reverse(k.id));
    let all = store.list_keys(w.id, &query(t)).await.unwrap();
    assert_eq!(ids(&all), ids(&same));
    let mut q = query(t);
    q.after = Some(Cursor {
        at: t,
        id: same[1].id,
    });
    let rest = store.list_keys(w.id, &q).await.unwrap();
    assert_eq!(ids(&rest), ids(&same[2..]), "strictly after the cursor");
}

pub async fn listing_filters_by_status_at_the_given_instant(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let t = now();
    let active = key(w.id, u.id, "active");
    let mut future = key(w.id, u.id, "expires later");
    future.expires_at = Some(t + ms(1));
    let mut expired = key(w.id, u.id, "expired");
    expired.expires_at = Some(t);
    let mut revoked = key(w.id, u.id, "revoked");
    revoked.revoked_at = Some(t);
    revoked.expires_at = Some(t - ms(1));
    insert_keys(
        &store,
        &[
            active.clone(),
            future.clone(),
            expired.clone(),
            revoked.clone(),
        ],
    )
    .await;

    let with = |status| {
        let mut q = query(t);
        q.status = Some(status);
        q
    };
    let mut got = ids(&store
        .list_keys(w.id, &with(KeyStatus::Active))
        .await
        .unwrap());
    got.sort();
    let mut want = vec![active.id, future.id];
    want.sort();
    assert_eq!(got, want);
    let got = ids(&store
        .list_keys(w.id, &with(KeyStatus::Expired))
        .await
        .unwrap());
    assert_eq!(
        got,
        vec![expired.id],
        "expires_at <= now is expired; revoked wins"
    );
    let got = ids(&store
        .list_keys(w.id, &with(KeyStatus::Revoked))
        .await
        .unwrap());
    assert_eq!(got, vec![revoked.id]);
    assert_eq!(store.list_keys(w.id, &query(t)).await.unwrap().len(), 4);
}

pub async fn listing_filters_by_creator_and_case_insensitive_name(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let other = new_id();
    let a = key(w.id, u.id, "Production Deploy");
    let b = key(w.id, other, "staging deploy");
    let c = key(w.id, other, "billing");
    insert_keys(&store, &[a.clone(), b.clone(), c.clone()]).await;

    let mut q = query(now());
    q.created_by = Some(other);
    let mut got = ids(&store.list_keys(w.id, &q).await.unwrap());
    got.sort();
    let mut want = vec![b.id, c.id];
    want.sort();
    assert_eq!(got, want);

    let mut q = query(now());
    q.name_contains = Some("DEPLOY".into());
    let mut got = ids(&store.list_keys(w.id, &q).await.unwrap());
    got.sort();
    let mut want = vec![a.id, b.id];
    want.sort();
    assert_eq!(got, want);

    q.created_by = Some(u.id);
    assert_eq!(ids(&store.list_keys(w.id, &q).await.unwrap()), vec![a.id]);
}

pub async fn name_filter_matches_like_wildcards_literally(store: Db) {
    let (u, w) = owner_and_workspace(&store).await;
    let pct = key(w.id, u.id, "50% off");
    let under = key(w.id, u.id, "a_b");
    let plain = key(w.id, u.id, "50 xoff aXb");
    insert_keys(&store, &[pct.clone(), under.clone(), plain]).await;
    let mut q = query(now());
    q.name_contains = Some("0%".into());
    assert_eq!(ids(&store.list_keys(w.id, &q).await.unwrap()), vec![pct.id]);
    q.name_contains = Some("a_b".into());
    assert_eq!(
        ids(&store.list_keys(w.id, &q).await.unwrap()),
        vec![under.id]
    );
    q.name_contains = Some("\\".into());
    assert!(store.list_keys(w.id, &q).await.unwrap().is_empty());
}
