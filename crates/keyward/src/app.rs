//! Starting keyward: open the store, run migrations, load the pepper, build the service, then
//! serve HTTP until shutdown, flushing pending `last_used_at` writes on the way out.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use keyward_core::key_format::KeyPrefix;
use keyward_core::scope::Catalog;
use keyward_core::service::{PepperCheck, Plan, SessionPolicy, Settings};
use keyward_core::store::{ChangeEvent, ChangeFeed, ChangeStream, Store};
use keyward_core::Service;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::http::metrics::Metrics;
use crate::http::{self, AppState};
use crate::private_files;
use crate::store::postgres::PostgresStore;
use crate::store::sqlite::SqliteStore;

/// Whether opening the database may create it. Only `serve` and `migrate` create one
/// (PRODUCT.md §9); every other command needs an existing database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    CreateIfMissing,
    ExistingOnly,
}

/// Opens the configured database and runs migrations.
pub async fn open_store(config: &Config, mode: OpenMode) -> Result<Arc<dyn Store>, String> {
    let url = config.database_url();
    let store: Arc<dyn Store> = if is_postgres_url(&url) {
        // The data directory still holds the pepper and the mail outbox.
        if mode == OpenMode::CreateIfMissing {
            private_files::create_dir(&config.data_dir).map_err(|e| {
                format!(
                    "cannot create data directory {}: {e}",
                    config.data_dir.display()
                )
            })?;
        }
        Arc::new(
            PostgresStore::open_url(&url)
                .await
                .map_err(|e| format!("cannot open database: {e}"))?,
        )
    } else if url.starts_with("sqlite:") {
        Arc::new(open_sqlite(config, &url, mode).await?)
    } else {
        return Err(format!(
            "unsupported database_url scheme in {:?}; use sqlite://PATH or postgres://…",
            crate::config::DatabaseUrl(url)
        ));
    };
    store
        .migrate()
        .await
        .map_err(|e| format!("migrations failed: {e}"))?;
    Ok(store)
}

/// Whether a `database_url` names PostgreSQL.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

async fn open_sqlite(config: &Config, url: &str, mode: OpenMode) -> Result<SqliteStore, String> {
    match mode {
        OpenMode::CreateIfMissing => {
            private_files::create_dir(&config.data_dir).map_err(|e| {
                format!(
                    "cannot create data directory {}: {e}",
                    config.data_dir.display()
                )
            })?;
            SqliteStore::open_url(url).await
        }
        OpenMode::ExistingOnly => {
            let path = SqliteStore::database_path(url)
                .map_err(|e| format!("cannot open database: {e}"))?;
            if !path.exists() {
                return Err(no_database(&path));
            }
            private_files::tighten(&config.data_dir, private_files::DIR_MODE);
            SqliteStore::open_existing_url(url).await
        }
    }
    .map_err(|e| format!("cannot open database: {e}"))
}

/// What to do when a command that needs data finds no database: most often a mistyped
/// `--data-dir`, or a first run that skipped `migrate`.
fn no_database(path: &std::path::Path) -> String {
    format!(
        "no keyward database at {}: create one with `keyward migrate` (or by starting \
         `keyward serve`), or check --data-dir / --database-url if it lives elsewhere",
        path.display()
    )
}

/// The domain's settings from the config. `Config::load` has already refused invalid values
/// (exit code 2, naming the key); these errors only guard configs built in code.
pub fn settings(config: &Config) -> Result<Settings, String> {
    Ok(Settings {
        catalog: Catalog::new(config.scopes.clone())?,
        plans: config
            .plans
            .iter()
            .map(|(name, p)| {
                (
                    name.clone(),
                    Plan {
                        max_active_keys: p.max_active_keys,
                    },
                )
            })
            .collect(),
        default_plan: config.default_plan.clone(),
        max_keys_per_workspace: config.max_keys_per_workspace,
        default_key_prefix: KeyPrefix::parse_for_workspace(&config.default_key_prefix).ok_or_else(
            || {
                format!(
                "default_key_prefix {:?} must match ^[a-z][a-z0-9]{{0,15}}_([a-z0-9]{{1,8}}_)?$",
                config.default_key_prefix
            )
            },
        )?,
        default_key_format: config.default_key_format,
        cache: keyward_core::cache::CachePolicy {
            max_entries: config.cache_max_entries,
            ttl: std::time::Duration::from_secs(config.cache_ttl_seconds),
            stale_grace: std::time::Duration::from_secs(config.stale_grace_seconds),
        },
        allow_signup: config.allow_signup,
        public_url: config.public_base_url(),
        sessions: SessionPolicy {
            idle: chrono::TimeDelta::minutes(i64::from(config.session_idle_minutes)),
            max: chrono::TimeDelta::hours(i64::from(config.session_max_hours)),
        },
        login_failures_per_minute: config.login_failures_per_minute,
    })
}

/// The service over the configured store: what `serve` and the admin CLI both use. It
/// refuses to start when the pepper is not the one the database's hashes were made with.
pub async fn open_service(config: &Config, mode: OpenMode) -> Result<Service, String> {
    let settings = settings(config)?;
    let store = open_store(config, mode).await?;
    let unreadable = |e: keyward_core::store::StoreError| format!("cannot read the database: {e}");
    // Anything hashed with a pepper: users (sessions, keys) or service tokens, or the
    // fingerprint itself. A database from before fingerprints may hold only tokens.
    let has_data = store
        .pepper_fingerprint()
        .await
        .map_err(unreadable)?
        .is_some()
        || store.count_users().await.map_err(unreadable)? > 0
        || !store.service_tokens().await.map_err(unreadable)?.is_empty();
    let pepper = crate::pepper::load(config, has_data)?;
    let mailer = crate::mail::mailer(config)?;
    let service = Service::new(store, pepper.pepper, settings, mailer);
    match service
        .check_pepper()
        .await
        .map_err(|e| format!("cannot check the pepper against the database: {e}"))?
    {
        PepperCheck::Matches => {}
        PepperCheck::Recorded => tracing::info!(
            "recorded the pepper's fingerprint in the database; a node with another pepper \
             will refuse to start"
        ),
        PepperCheck::Mismatch => return Err(crate::pepper::mismatch(&pepper.source, config)),
    }
    Ok(service)
}

/// A running server: its address, and a handle to stop it gracefully.
pub struct Server {
    pub addr: SocketAddr,
    pub service: Service,
    /// What `/metrics` shows, for callers in the same process (the tests' leak scan).
    pub metrics: Arc<Metrics>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Binds `config.listen` (port 0 picks a free port) and serves in the background.
    pub async fn start(config: &Config) -> Result<Server, String> {
        let profiles = http::compat::Profiles::from_names(&config.compat)
            .map_err(|problem| format!("invalid configuration: compat {problem}"))?;
        let service = open_service(config, OpenMode::CreateIfMissing).await?;
        // Before listening, so imported keys verify from the first request.
        service
            .verifier()
            .refresh_imports()
            .await
            .map_err(|e| format!("cannot read the database: {e}"))?;
        // Followed from before listening, so every write committed from then on reaches
        // the cache: from the log's newest entry, or from the moment LISTEN holds.
        let feed = service
            .store()
            .change_feed()
            .await
            .map_err(|e| format!("cannot follow the database's changes: {e}"))?;
        if let ChangeFeed::Poll = feed {
            service
                .verifier()
                .follow_changes()
                .await
                .map_err(|e| format!("cannot read the database: {e}"))?;
        }
        let listener = TcpListener::bind(&config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let metrics = Arc::new(Metrics::new());
        let state = AppState::from_config(service.clone(), metrics.clone(), config)?;
        let (shutdown, mut stop) = watch::channel(false);
        let flusher = spawn_usage_flusher(
            service.clone(),
            metrics.clone(),
            config.last_used_flush_seconds,
            stop.clone(),
        );
        let imports_watch = spawn_imports_watch(service.clone(), stop.clone());
        let changes_watch = match feed {
            ChangeFeed::Poll => spawn_changes_watch(service.clone(), stop.clone()),
            ChangeFeed::Push(stream) => {
                spawn_change_listener(service.clone(), stream, metrics.clone(), stop.clone())
            }
        };
        let app =
            http::router(state, &profiles).into_make_service_with_connect_info::<SocketAddr>();
        let flush_service = service.clone();
        let task = tokio::spawn(async move {
            let graceful = async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(graceful)
                .await
            {
                tracing::error!(error = %e, "server error");
            }
            let _ = flusher.await;
            let _ = imports_watch.await;
            let _ = changes_watch.await;
            // Pending uses are written before the process exits, so none is lost.
            match flush_service
                .usage()
                .flush(flush_service.store().as_ref())
                .await
            {
                Ok(n) => tracing::info!(
                    written = n,
                    "flushed last_used_at of keys and service tokens on shutdown"
                ),
                Err(e) => tracing::error!(error = %e, "could not flush last_used_at on shutdown"),
            }
        });
        Ok(Server {
            addr,
            service,
            metrics,
            shutdown,
            task,
        })
    }

    /// Stops accepting, finishes in-flight requests, flushes usage, and returns.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }

    /// Waits until the server stops by itself or `signal` fires, then stops gracefully.
    pub async fn run_until(self, signal: impl std::future::Future<Output = ()>) {
        signal.await;
        tracing::info!("shutting down");
        self.stop().await;
    }
}

fn spawn_usage_flusher(
    service: Service,
    metrics: Arc<Metrics>,
    every_seconds: u64,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(every_seconds.max(1)));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
            match service.usage().flush(service.store().as_ref()).await {
                Ok(n) => {
                    metrics.last_used_writes.inc_by(n as u64);
                }
                Err(e) => tracing::warn!(error = %e, "last_used_at flush failed; will retry"),
            }
        }
    })
}

/// How long key-change log entries are kept. A server that falls further behind than this
/// (a stalled process) finds a gap and flushes its whole cache.
const CHANGES_KEPT: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// Applies writes made by other processes (the admin CLI, an import) to this server's
/// verification cache, from the store's key-change log, and prunes the log once a minute.
fn spawn_changes_watch(
    service: Service,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(keyward_core::verify::CHANGES_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_prune = std::time::Instant::now();
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
            service.verifier().catch_up_or_flush().await;
            if last_prune.elapsed() >= std::time::Duration::from_secs(60) {
                last_prune = std::time::Instant::now();
                let before = keyward_core::model::now() - CHANGES_KEPT;
                if let Err(e) = service.store().prune_key_changes(before).await {
                    tracing::warn!(error = %e, "could not prune the key-change log; will retry");
                }
            }
        }
    })
}

/// Applies the changes a database pushes (PostgreSQL's NOTIFY) to this server's cache as
/// they arrive. A lost connection marks the whole cache stale, at the loss and again once
/// listening resumes, and is counted and logged; the stream reconnects by itself.
fn spawn_change_listener(
    service: Service,
    mut stream: Box<dyn ChangeStream>,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                event = stream.next() => event,
                _ = stop.wait_for(|stopped| *stopped) => return,
            };
            service.verifier().apply_change(&event);
            match &event {
                ChangeEvent::Lost(reason) => {
                    metrics.change_feed_losses.inc();
                    metrics.change_feed_up.set(0);
                    tracing::warn!(
                        reason = %reason,
                        "lost the database's change notifications; the verification cache is \
                         marked stale and is asked of the database again until they resume"
                    );
                }
                ChangeEvent::Listening => {
                    metrics.change_feed_up.set(1);
                    tracing::info!("receiving the database's change notifications again");
                }
                ChangeEvent::Changed(_) => {}
            }
        }
    })
}

/// Keeps the verifier's "imports exist" flag current: an import runs in another process
/// (`keyward admin import-keys`), so the server asks the store every
/// [`IMPORTS_REFRESH`](keyward_core::verify::IMPORTS_REFRESH), as that constant explains.
fn spawn_imports_watch(
    service: Service,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(keyward_core::verify::IMPORTS_REFRESH);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
            // On failure the last answer stands until the next tick: a database that cannot
            // be read fails every lookup anyway.
            if let Err(e) = service.verifier().refresh_imports().await {
                tracing::warn!(error = %e, "could not check for imported keys; will retry");
            }
        }
    })
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when
/// the future is first polled: `serve` calls it before it says it is listening, so a SIGTERM
/// sent as soon as the server is up is a graceful shutdown, never the default kill.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (term, int) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term) => {}
                _ = wait(int) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
