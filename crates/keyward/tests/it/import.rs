//! `keyward admin import-keys` and `admin apikey lookup` (PRODUCT.md §2 "Imported keys", §9),
//! through the real binary, a real server and a real SQLite file: imported keys verify, count
//! toward limits, can be renamed, rotated and revoked; bad rows fail alone, by line, without
//! echoing the key; and a re-run imports nothing twice.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::binary::{admin, admin_env, bootstrap, http, serve};

/// Simplesat's "legacy account key" (seeds/simplesat-api-keys.txt): full access, from the
/// system before keyward, and not shaped like a keyward key.
const LEGACY: &str = "ssat_2f9c1e7b4a6d8053c1e9f7a2b4d6e8f0";
/// The catalog of every server and command in these tests.
const SCOPES: (&str, &str) = ("KEYWARD_SCOPES", "apps:read,apps:deploy");

fn kw(
    dir: &Path,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let mut all = vec![SCOPES];
    all.extend_from_slice(env);
    admin_env(dir, args, stdin, &all)
}

fn import(dir: &Path, file: &str, extra: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let path = dir.join(file);
    let mut args = vec!["admin", "import-keys", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    kw(dir, &args, None, env)
}

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).unwrap();
}

fn service_token(dir: &Path) -> String {
    let (code, out, err) = admin(
        dir,
        &["admin", "service-token", "create", "--name", "billing"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    out.trim().to_owned()
}

fn verify(base: &str, token: &str, key: &str, scopes: &[&str]) -> Value {
    let r = http()
        .post(format!("{base}/api/v1/keys/verify"))
        .bearer_auth(token)
        .json(&json!({"key": key, "scopes": scopes}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().unwrap()
}

/// A management API call with a Bearer key: (status, body).
fn call(base: &str, key: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = http()
        .request(method, format!("{base}/api/v1{path}"))
        .bearer_auth(key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn summary(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn a_legacy_full_access_key_verifies_is_found_by_lookup_renamed_rotated_and_revoked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (ws, owner_key) = bootstrap(dir);
    // By the workspace's name; no scopes: full access, made by its oldest owner.
    write(
        dir,
        "legacy.csv",
        &format!("workspace,name,key\nOps,Legacy account key,{LEGACY}\n"),
    );
    let (code, out, err) = import(dir, "legacy.csv", &[], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("Imported 1, skipped 0 (already present), failed 0"),
        "{out}"
    );
    assert!(
        !out.contains(LEGACY) && !err.contains(LEGACY),
        "the secret was printed"
    );

    let token = service_token(dir);
    let server = serve(dir, &[SCOPES]);
    let base = &server.base;

    let verdict = verify(base, &token, LEGACY, &["apps:deploy", "api_keys:write"]);
    assert_eq!(verdict["code"], "VALID", "{verdict}");
    assert_eq!(verdict["key"]["name"], "Legacy account key");
    assert_eq!(
        verdict["key"]["key_prefix"], "ssat_2f9",
        "8 characters, under a quarter"
    );
    let (status, me) = call(base, LEGACY, "GET", "/users/current", None);
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["auth"]["type"], "api_key");
    let id = me["auth"]["key_id"].as_str().unwrap().to_owned();
    let path = format!("/workspaces/{ws}/api-keys/{id}");

    let (_, key) = call(base, &owner_key, "GET", &path, None);
    assert_eq!(
        (&key["source"], &key["access"], &key["status"]),
        (&json!("imported"), &json!("full"), &json!("active")),
        "{key}"
    );
    let (_, listed) = call(
        base,
        &owner_key,
        "GET",
        &format!("/workspaces/{ws}/api-keys"),
        None,
    );
    let sources: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["source"])
        .collect();
    assert_eq!(sources, [&json!("imported"), &json!("native")], "{listed}");

    // Support: whose key is this? Never printed back.
    let (code, out, err) = kw(
        dir,
        &["admin", "apikey", "lookup", "--secret-stdin", "--json"],
        Some(LEGACY),
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let found = summary(&out);
    assert_eq!(found["key"]["id"], json!(id));
    assert_eq!(found["key"]["source"], "imported");
    assert_eq!(found["key"]["status"], "active");
    assert_eq!(found["workspace"]["id"], json!(ws));
    assert_eq!(found["workspace"]["name"], "Ops");
    let (code, out, err) = kw(
        dir,
        &["admin", "apikey", "lookup", "--secret-stdin"],
        Some(&format!("{LEGACY}\n")),
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&id) && out.contains("imported") && out.contains("Ops"),
        "{out}"
    );
    assert!(
        !out.contains(LEGACY) && !err.contains(LEGACY),
        "lookup printed the secret"
    );
    let (code, out, _) = kw(
        dir,
        &["admin", "apikey", "lookup", "--secret-stdin", "--json"],
        Some(&owner_key),
        &[],
    );
    assert_eq!(code, 0);
    assert_eq!(
        summary(&out)["key"]["source"],
        "native",
        "native keys are found too"
    );

    let (status, renamed) = call(
        base,
        &owner_key,
        "PATCH",
        &path,
        Some(json!({"name": "Simplesat legacy"})),
    );
    assert_eq!(
        (status, &renamed["name"]),
        (200, &json!("Simplesat legacy")),
        "{renamed}"
    );
    assert_eq!(renamed["source"], "imported");

    // Rotation retires the old system's secret: the successor is a native keyward key.
    let (status, rotated) = call(
        base,
        &owner_key,
        "POST",
        &format!("{path}/rotate"),
        Some(json!({"grace_period_seconds": 3600})),
    );
    assert_eq!(status, 201, "{rotated}");
    let new_key = rotated["key"].as_str().unwrap();
    assert!(new_key.starts_with("kw_"), "{rotated}");
    assert_eq!(rotated["source"], "native");
    assert_eq!(rotated["name"], "Simplesat legacy");
    assert_eq!(rotated["scopes"], json!(["*"]));
    assert_eq!(rotated["rotated_from"], json!(id));
    assert_eq!(verify(base, &token, new_key, &[])["code"], "VALID");
    assert_eq!(
        verify(base, &token, LEGACY, &[])["code"],
        "VALID",
        "in its grace period"
    );

    // The legacy secret leaks: support revokes it by the secret alone.
    let (code, out, err) = kw(
        dir,
        &["admin", "apikey", "lookup", "--secret-stdin", "--revoke"],
        Some(LEGACY),
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Revoked"), "{out}");
    // The CLI is another process: the server learns of its write from the key-change log,
    // which it reads every 250 ms, well inside the 1 s PRODUCT.md §6 allows.
    let started = std::time::Instant::now();
    while verify(base, &token, LEGACY, &[])["code"] != "REVOKED" {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "the CLI's revocation was not honoured within 1 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(call(base, LEGACY, "GET", "/users/current", None).0, 401);
    assert_eq!(
        verify(base, &token, new_key, &[])["code"],
        "VALID",
        "the successor lives on"
    );

    let (_, events) = call(
        base,
        &owner_key,
        "GET",
        &format!("/workspaces/{ws}/audit-events?target_id={id}"),
        None,
    );
    let actions: Vec<(&str, &str)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"]["type"].as_str().unwrap(),
            )
        })
        .collect();
    for expected in [
        ("api_key.created", "system"),
        ("api_key.leaked", "system"),
        ("api_key.revoked", "system"),
    ] {
        assert!(
            actions.contains(&expected),
            "{expected:?} not in {actions:?}"
        );
    }
    let created = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "api_key.created")
        .unwrap();
    assert_eq!(created["details"]["source"], "imported");
    assert!(
        !events.to_string().contains(LEGACY),
        "the audit log holds the secret"
    );

    let (code, _, err) = kw(
        dir,
        &["admin", "apikey", "lookup", "--secret-stdin"],
        Some("ssat_0000000000000000000000000000dead"),
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("not_found") && err.contains("no key matches"),
        "{err}"
    );
}

#[test]
fn a_server_started_before_the_import_verifies_its_keys_within_the_refresh() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (ws, _) = bootstrap(dir);
    let token = service_token(dir);
    let server = serve(dir, &[SCOPES]);
    assert_eq!(
        verify(&server.base, &token, LEGACY, &[])["code"],
        "MALFORMED",
        "no imports yet"
    );

    write(
        dir,
        "legacy.jsonl",
        &format!(
            "{}\n",
            json!({"workspace": ws, "name": "Legacy account key", "key": LEGACY})
        ),
    );
    let (code, out, err) = import(dir, "legacy.jsonl", &[], &[]);
    assert_eq!(code, 0, "{out}{err}");

    // The server learns that imports exist by polling, every 10 s.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let code = verify(&server.base, &token, LEGACY, &[])["code"].clone();
        if code == "VALID" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {code} 20 s after the import"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(
        call(&server.base, LEGACY, "GET", "/users/current", None).0,
        200
    );
}

#[test]
fn json_lines_by_plaintext_and_sha256_import_once_and_a_rerun_skips_every_row() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (ws, owner_key) = bootstrap(dir);
    let warehouse = "whx-7f3a9c2e5b8d1046a2c4e6f8";
    let zapier = "zap_prod_Q2w3E4r5T6y7U8i9O0pA1s2D3f";
    let lines = [
        json!({"workspace": ws, "name": "Data warehouse export", "sha256": sha256_hex(warehouse),
               "key_prefix": "whx-", "scopes": ["apps:read"], "created_by": "OPS@example.com",
               "created_at": "2024-03-01T12:00:00Z", "expires_at": "2030-01-01T00:00:00Z"}),
        json!({"workspace": "Ops", "name": "Zapier (production)", "key": zapier,
               "scopes": "apps:read, apps:deploy", "expires_at": null}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n\n")).collect();
    write(dir, "keys.ndjson", &text);
    let (code, out, err) = import(dir, "keys.ndjson", &["--json"], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        summary(&out),
        json!({"imported": 2, "skipped": 0, "failed": 0, "failures": []})
    );

    // The same rows again, in a file whose extension says nothing: --format tells.
    write(dir, "keys.txt", &text);
    let (code, _, err) = import(dir, "keys.txt", &[], &[]);
    assert_eq!(code, 1);
    assert!(err.contains("--format"), "{err}");
    let (code, out, err) = import(dir, "keys.txt", &["--format", "jsonl", "--json"], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        summary(&out),
        json!({"imported": 0, "skipped": 2, "failed": 0, "failures": []})
    );

    let token = service_token(dir);
    let server = serve(dir, &[SCOPES]);
    let base = &server.base;
    assert_eq!(
        verify(base, &token, warehouse, &["apps:read"])["code"],
        "VALID"
    );
    let short = verify(base, &token, warehouse, &["apps:deploy"]);
    assert_eq!(
        (&short["code"], &short["missing_scopes"]),
        (&json!("INSUFFICIENT_SCOPE"), &json!(["apps:deploy"]))
    );
    assert_eq!(
        verify(base, &token, zapier, &["apps:deploy"])["code"],
        "VALID"
    );
    assert_eq!(
        verify(base, &token, "whx-not-the-real-one", &[])["code"],
        "MALFORMED"
    );

    let (_, listed) = call(
        base,
        &owner_key,
        "GET",
        &format!("/workspaces/{ws}/api-keys?q=warehouse"),
        None,
    );
    let key = &listed[0];
    assert_eq!(key["source"], "imported");
    assert_eq!(key["key_prefix"], "whx-");
    assert_eq!(
        key["created_at"], "2024-03-01T12:00:00Z",
        "created_at is kept"
    );
    assert_eq!(key["expires_at"], "2030-01-01T00:00:00Z");
    let (_, listed) = call(
        base,
        &owner_key,
        "GET",
        &format!("/workspaces/{ws}/api-keys?q=zapier"),
        None,
    );
    assert_eq!(
        listed[0]["key_prefix"], "zap_prod",
        "plaintext rows show 8 characters"
    );
    let (_, all) = call(
        base,
        &owner_key,
        "GET",
        &format!("/workspaces/{ws}/api-keys"),
        None,
    );
    assert_eq!(
        all.as_array().unwrap().len(),
        3,
        "nothing imported twice: {all}"
    );

    // The console labels imported keys, and only them, under their names.
    let browser = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = browser
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "ops@example.com", "password": "correct horse battery staple"}))
        .send()
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = browser
        .get(format!("{base}/platform/api-keys"))
        .header("cookie", cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(
        html.matches(r#"<span class="sub">imported</span>"#).count(),
        2,
        "{html}"
    );

    let (_, spec) = call(base, &owner_key, "GET", "/openapi.json", None);
    let source = &spec["components"]["schemas"]["KeyOut"]["properties"]["source"];
    assert!(!source.is_null(), "KeyOut documents source");
    let schema = source.to_string() + &spec["components"]["schemas"]["KeySource"].to_string();
    assert!(
        schema.contains("imported") && schema.contains("native"),
        "{schema}"
    );

    // An imported key is deleted like any other: gone from listings, and it stops verifying.
    let zapier_id = listed[0]["id"].as_str().unwrap().to_owned();
    let (status, _) = call(
        base,
        &owner_key,
        "DELETE",
        &format!("/workspaces/{ws}/api-keys/{zapier_id}"),
        None,
    );
    assert_eq!(status, 204);
    assert_eq!(verify(base, &token, zapier, &[])["code"], "MALFORMED");
    let (_, left) = call(
        base,
        &owner_key,
        "GET",
        &format!("/workspaces/{ws}/api-keys"),
        None,
    );
    assert_eq!(left.as_array().unwrap().len(), 2);
}

#[test]
fn bad_rows_fail_alone_with_their_line_numbers_and_never_echo_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (ws, native) = bootstrap(dir);
    let new_user = |email: &str, extra: &[&str]| {
        let mut args = vec![
            "admin",
            "user",
            "create",
            "--email",
            email,
            "--password-stdin",
            "--verified",
        ];
        args.extend_from_slice(extra);
        let (code, _, err) = admin(dir, &args, Some("correct horse battery staple\n"));
        assert_eq!(code, 0, "{err}");
    };
    new_user(
        "member@example.com",
        &["--workspace", &ws, "--role", "member"],
    );
    new_user("outsider@example.com", &[]);
    new_user("twin1@example.com", &["--workspace", "Twin"]);
    new_user("twin2@example.com", &["--workspace", "Twin"]);

    let secret = |n: u32| format!("legacy-secret-{n:010}");
    let rows = [
        format!("Ops,good one,{},,,,", secret(2)),
        format!("Nowhere,x,{},,,,", secret(3)),
        format!("Twin,x,{},,,,", secret(4)),
        format!("Ops,,{},,,,", secret(5)),
        "Ops,y,short,,,,".to_owned(),
        format!("Ops,z,{},,nope:read,,", secret(7)),
        format!("Ops,w,{},,,2020-01-01T00:00:00Z,", secret(8)),
        format!("Ops,v,{},,,,outsider@example.com", secret(9)),
        format!("Ops,u,{},,*,,member@example.com", secret(10)),
        format!("Ops,t,{}", secret(11)),
        format!("Ops,both,{},{},,,", secret(12), sha256_hex(&secret(12))),
        format!("Ops,hash,,{}xyz,,,", &sha256_hex(&secret(13))[..20]),
        format!("Ops,native,{native},,,,"),
        format!(
            "Ops,member key,{},,apps:read,,member@example.com",
            secret(15)
        ),
        format!("Ops,nobody,{},,,,ghost@example.com", secret(16)),
    ];
    let text = format!(
        "workspace,name,key,sha256,scopes,expires_at,created_by\n{}\n",
        rows.join("\n")
    );
    write(dir, "keys.csv", &text);
    let (code, out, err) = import(dir, "keys.csv", &[], &[]);
    assert_eq!(code, 1, "some rows failed: {out}{err}");
    assert!(
        out.contains("Imported 2, skipped 0 (already present), failed 13, of 15 row(s)"),
        "{out}"
    );
    for expected in [
        "line 3: workspace: unknown workspace",
        "line 4: workspace: 2 workspaces have this name",
        "line 5: name: must not be empty",
        "line 6: key: must be 8 to 1024 characters long",
        "line 7: scopes: item 0 is not in the scope catalog",
        "line 8: expires_at: is in the past",
        "line 9: created_by: is not a member of this workspace",
        "line 10: scopes: created_by does not hold them",
        "line 11: has 3 field(s) where the header line has 7",
        "line 12: key: give key or sha256, not both",
        "line 13: sha256: must be 64 hexadecimal digits",
        "line 14: key: has the shape and checksum of a keyward key",
        "line 16: created_by: no user has this id or email",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert!(
        !err.contains("line 2:") && !err.contains("line 15:"),
        "{err}"
    );
    for n in 2..=16 {
        assert!(
            !out.contains(&secret(n)) && !err.contains(&secret(n)),
            "line {n}'s key was echoed:\n{err}"
        );
    }
    assert!(
        !err.contains(&native) && !err.contains(&sha256_hex(&secret(12))),
        "{err}"
    );

    // The same failures, machine-readable.
    let (code, out, _) = import(dir, "keys.csv", &["--json"], &[]);
    assert_eq!(code, 1);
    let s = summary(&out);
    assert_eq!(
        (
            s["imported"].clone(),
            s["skipped"].clone(),
            s["failed"].clone()
        ),
        (json!(0), json!(2), json!(13))
    );
    let lines: Vec<u64> = s["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16]);
}

#[test]
fn rows_over_the_key_limit_or_the_plan_fail_while_the_others_are_imported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (_, _) = bootstrap(dir); // Ops: one key already
    let (code, out, err) = admin(
        dir,
        &[
            "admin",
            "user",
            "create",
            "--email",
            "free@example.com",
            "--password-stdin",
            "--verified",
            "--workspace",
            "Free",
            "--json",
        ],
        Some("correct horse battery staple\n"),
    );
    assert_eq!(code, 0, "{err}");
    let free = summary(&out)["workspace"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, _, err) = admin(
        dir,
        &["admin", "workspace", "set-plan", &free, "free"],
        None,
    );
    assert_eq!(code, 0, "{err}");

    let limit = [("KEYWARD_MAX_KEYS_PER_WORKSPACE", "4")];
    let rows = [
        "Ops,a,legacy-limit-000000002",
        "Ops,b,legacy-limit-000000003",
        "Free,c,legacy-limit-000000004",
        "Ops,d,legacy-limit-000000005",
        "Ops,e,legacy-limit-000000006",
        "Free,f,legacy-limit-000000007",
    ];
    write(
        dir,
        "keys.csv",
        &format!("workspace,name,key\n{}\n", rows.join("\n")),
    );
    let (code, out, err) = import(dir, "keys.csv", &[], &limit);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("Imported 4, skipped 0 (already present), failed 2"),
        "{out}"
    );
    assert!(err.contains("line 6: key_limit_reached:"), "{err}");
    assert!(err.contains("line 7: plan_limit_reached:"), "{err}");

    // Across batches too (four of 700 rows): each re-reads the counts the ones before left.
    let many: String = (0..2600)
        .map(|i| format!("Ops,bulk {i},legacy-bulk-{i:012}\n"))
        .collect();
    write(dir, "many.csv", &format!("workspace,name,key\n{many}"));
    let (code, out, _) = import(
        dir,
        "many.csv",
        &["--json", "--batch-rows", "700"],
        &[("KEYWARD_MAX_KEYS_PER_WORKSPACE", "2500")],
    );
    assert_eq!(code, 1);
    let s = summary(&out);
    assert_eq!(
        (s["imported"].as_u64(), s["failed"].as_u64()),
        (Some(2496), Some(104)),
        "Ops held 4 keys"
    );
    assert!(
        s["failures"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("key_limit_reached"),
        "{s}"
    );
}
