//! Starting and stopping `plumb server`: open the store (replaying its WAL), bind, serve until
//! SIGINT or SIGTERM; meanwhile a background task stores the server's own metrics in the store
//! every [`ServerOptions::self_metrics_interval`] (see [`crate::selfmetrics`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use plumb_tsdb::db::{Db, DbOptions};

use crate::http::{AppState, ServerStats, app};
use crate::ingest::{CardinalityLimiter, CardinalityLimits, Limits};
use crate::selfmetrics;

/// Default listen address: loopback, Atlas's port.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7101";

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Where to listen. Default is [`DEFAULT_LISTEN`].
    pub listen: SocketAddr,
    /// The data directory; the WAL is in `DATA/wal`. Default is `/var/lib/plumb/server` as root,
    /// else `./plumb-data`.
    pub data: PathBuf,
    /// Ingest limits. Default is [`Limits::default`].
    pub limits: Limits,
    /// New-series limits. Default is [`CardinalityLimits::default`].
    pub cardinality: CardinalityLimits,
    /// How often the server stores its own metrics. Default is [`selfmetrics::DEFAULT_INTERVAL`],
    /// 10 s.
    pub self_metrics_interval: Duration,
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The store could not be opened.
    #[error("cannot open the store in {dir}: {source}")]
    Store { dir: PathBuf, source: plumb_tsdb::db::DbError },
    /// A socket, runtime or signal failure.
    #[error("{what}: {source}")]
    Io { what: &'static str, source: std::io::Error },
}

fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> ServerError {
    move |source| ServerError::Io { what, source }
}

/// Opens the store and serves until a signal; logs to stderr.
pub fn run(opts: ServerOptions) -> Result<(), ServerError> {
    let (db, report) = Db::open(&opts.data, DbOptions::default())
        .map_err(|source| ServerError::Store { dir: opts.data.clone(), source })?;
    eprintln!(
        "plumb server: opened {} blocks and replayed {} WAL records ({} series in memory) from {} in {:.2?}",
        report.blocks.len(),
        report.replay.records,
        db.series_count(),
        opts.data.display(),
        report.elapsed
    );
    for (path, reason) in &report.skipped {
        eprintln!("plumb server: skipped block {}: {reason}", path.display());
    }
    if let Some(c) = &report.replay.corrupt {
        eprintln!("plumb server: {c}");
    }
    let state = AppState {
        store: Arc::new(Mutex::new(db)),
        limits: Arc::new(opts.limits),
        stats: Arc::default(),
        cardinality: Arc::new(Mutex::new(CardinalityLimiter::new(opts.cardinality))),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(io("cannot start the async runtime"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(opts.listen).await.map_err(io("cannot listen"))?;
        let addr = listener.local_addr().map_err(io("cannot read the bound address"))?;
        eprintln!("plumb server: listening on http://{addr}");
        let host = selfmetrics::hostname();
        tokio::spawn(record_self_metrics(state.store.clone(), state.stats.clone(), opts.self_metrics_interval, host));
        tokio::spawn(maintain(state.store.clone()));
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(io("cannot install a signal handler"))?;
        let stop = async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            eprintln!("plumb server: stopping");
        };
        axum::serve(listener, app(state)).with_graceful_shutdown(stop).await.map_err(io("serving failed"))
    })
}

/// Stores the server's own metrics every `interval`, from one interval after start until the
/// runtime stops; a failed append is logged and the next tick tries again.
async fn record_self_metrics(head: Arc<Mutex<Db>>, stats: Arc<ServerStats>, interval: Duration, host: Option<String>) {
    // The first record is one interval after start, as a publisher's first step would be.
    let interval = interval.max(Duration::from_millis(1));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let host: Option<Arc<str>> = host.map(Arc::from);
    loop {
        ticks.tick().await;
        let (head, stats, host) = (head.clone(), stats.clone(), host.clone());
        let done = tokio::task::spawn_blocking(move || {
            let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
            let mut guard = head.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            selfmetrics::record(&mut guard, &stats, now_ms, interval, host.as_deref())
        })
        .await;
        match done {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("plumb server: cannot store the server's own metrics: {e}"),
            Err(e) => eprintln!("plumb server: the self-metrics task failed: {e}"),
        }
    }
}

/// How often the store is compacted (closed time ranges of the head into blocks) and old
/// blocks are deleted past the retention.
pub const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(60);

/// One round of maintenance: every closed range compacted, its block written without the
/// store's lock (appends and reads go on meanwhile), then the WAL checkpoint and retention under
/// it. Returns the blocks written and removed.
fn maintain_once(store: &Mutex<Db>) -> Result<(usize, usize), plumb_tsdb::db::DbError> {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let lock = || store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut written = 0;
    loop {
        let Some(pending) = lock().begin_compaction(now_ms)? else { break };
        let block = pending.write()?;
        written += lock().finish_compaction(block)?.blocks.len();
    }
    let mut db = lock();
    if written > 0 {
        db.checkpoint()?;
    }
    let removed = db.apply_retention(now_ms)?;
    drop(db);
    // A compaction holds a block's samples while writing them, and requests free their
    // decompressed bodies: give the free pages back (milliseconds, once a minute).
    crate::memory::release_free_memory();
    Ok((written, removed.len()))
}

/// Compacts and applies retention every [`MAINTENANCE_INTERVAL`], logging what it did.
async fn maintain(store: Arc<Mutex<Db>>) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + MAINTENANCE_INTERVAL, MAINTENANCE_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        let store = store.clone();
        let done = tokio::task::spawn_blocking(move || maintain_once(&store)).await;
        match done {
            Ok(Ok((0, 0))) => {}
            Ok(Ok((written, removed))) => {
                eprintln!("plumb server: compaction wrote {written} blocks; retention removed {removed}")
            }
            Ok(Err(e)) => eprintln!("plumb server: maintenance failed: {e}"),
            Err(e) => eprintln!("plumb server: the maintenance task failed: {e}"),
        }
    }
}
