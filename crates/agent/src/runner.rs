//! Starting and stopping the agent: three threads and a clean shutdown.
//!
//! - the main thread runs a single-threaded tokio runtime serving HTTP (cheap: one scrape is
//!   one clone of a reference-counted body) and waits for SIGINT or SIGTERM;
//! - the collector thread ([`CycleLoop`]) ticks on interval boundaries;
//! - the publisher thread ([`Publisher`]), only when a server is configured, sends or spools.
//!
//! On a signal the HTTP server stops (open connections get a short grace period), the collector
//! finishes its cycle and hangs up, and the publisher drains what it was handed (sending it, or
//! spooling it if the server is away) before the process exits.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::config::Options;
use crate::cycle::CycleLoop;
use crate::exposition::HelpIndex;
use crate::latest::Latest;
use crate::log::log;
use crate::profile_api::{ProfileService, Profiler};
use crate::publish::{HttpTransport, Publisher, Spool};
use crate::stats::AgentStats;
use crate::{AgentError, http};

/// Snapshots the collector may get ahead of the publisher before it drops cycles. A publish
/// request is bounded by the publish timeout (60 s at most), so 64 one-second cycles cover it.
pub const PUBLISH_QUEUE: usize = 64;

/// Time open HTTP connections get to finish after a stop signal.
pub const HTTP_GRACE: Duration = Duration::from_secs(2);

/// A started agent: bound, spool opened, signal handlers in place, threads not yet running.
pub struct Agent {
    options: Options,
    profiler: Profiler,
    listener: TcpListener,
    local_addr: SocketAddr,
    spool: Option<Spool>,
    runtime: tokio::runtime::Runtime,
    signals: [Signal; 2],
}

/// What the agent did, for the closing log line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Collection cycles run.
    pub cycles: u64,
    /// Datapoints handed to the publisher; each was sent, refused or spooled.
    pub datapoints_queued: u64,
    /// Batches left in the spool for the next run.
    pub spooled_batches: usize,
}

impl Agent {
    /// Binds the listener, opens the spool (when publishing) and installs the SIGINT and SIGTERM
    /// handlers, so that a signal arriving any time after this returns stops the agent cleanly.
    pub fn start(options: Options) -> Result<Agent, AgentError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|source| AgentError::Runtime { what: "cannot start the async runtime", source })?;
        let signals = {
            let _guard = runtime.enter();
            let sig = |kind| {
                signal(kind).map_err(|source| AgentError::Runtime { what: "cannot install a signal handler", source })
            };
            [sig(SignalKind::interrupt())?, sig(SignalKind::terminate())?]
        };
        let bind_err = |source| AgentError::Bind { addr: options.listen, source };
        let listener = TcpListener::bind(options.listen).map_err(bind_err)?;
        listener.set_nonblocking(true).map_err(bind_err)?;
        let local_addr = listener.local_addr().map_err(bind_err)?;
        let spool = match options.server {
            Some(_) => Some(Spool::open(&options.spool_dir, options.spool_max_bytes)?),
            None => None,
        };
        if let Some(s) = spool.as_ref().filter(|s| !s.is_empty()) {
            log(format_args!(
                "{} batches ({} bytes) from an earlier run wait in {}; sending them first",
                s.len(),
                s.bytes(),
                s.dir().display()
            ));
        }
        let host = options.tags.get("nf.node").map(str::to_string);
        let profiler: Profiler = crate::profile_api::recorder(host);
        Ok(Agent { options, profiler, listener, local_addr, spool, runtime, signals })
    }

    /// The agent with `profiler` answering `POST /api/v1/profile` (when a token is configured).
    pub fn with_profiler(self, profiler: Profiler) -> Agent {
        Agent { profiler, ..self }
    }

    /// The address actually bound (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Runs until SIGINT or SIGTERM, then stops cleanly.
    pub fn run(self) -> Result<Summary, AgentError> {
        let Agent { options, profiler, listener, spool, runtime, signals: [mut int, mut term], .. } = self;
        let profiles = Arc::new(ProfileService::new(options.profile_token.clone(), profiler));
        let stats = Arc::new(AgentStats::default());
        let latest = Arc::new(Latest::default());

        let mut publisher = None;
        let mut publish_tx = None;
        if let (Some(server), Some(spool)) = (&options.server, spool) {
            let (tx, rx) = mpsc::sync_channel(PUBLISH_QUEUE);
            let transport = HttpTransport::new(server.publish_url(), options.publish_timeout);
            let p = Publisher::new(
                Box::new(transport),
                spool,
                options.tags.clone(),
                options.batch_size,
                stats.clone(),
                server.to_string(),
            );
            publisher = Some(spawn("plumb-publish", move || p.run(rx))?);
            publish_tx = Some(tx);
        }

        let cycles = CycleLoop {
            collector: plumb_collect::Collector::new(plumb_collect::Options {
                top_processes: options.top_processes,
                ..plumb_collect::Options::default()
            }),
            root: plumb_collect::FsRoot::default(),
            interval: options.interval,
            common: options.tags.clone(),
            help: HelpIndex::new(&plumb_collect::source::catalogue()),
            stats,
            latest: latest.clone(),
            publish: publish_tx,
        };
        cycles.render_initial();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let collector = spawn("plumb-collect", move || cycles.run(stop_rx))?;

        let served = runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|source| AgentError::Runtime { what: "cannot register the listener", source })?;
            let (fired_tx, fired_rx) = tokio::sync::oneshot::channel::<()>();
            let stop = async move {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                let _ = fired_tx.send(());
            };
            let server = axum::serve(listener, http::app(latest, profiles)).with_graceful_shutdown(stop);
            let grace = async move {
                match fired_rx.await {
                    Ok(()) => tokio::time::sleep(HTTP_GRACE).await,
                    Err(_) => std::future::pending().await,
                }
            };
            tokio::select! {
                r = async move { server.await } => r.map_err(|source| AgentError::Runtime { what: "the HTTP server failed", source }),
                () = grace => Ok(()),
            }
        });

        drop(stop_tx);
        let c = collector.join().map_err(|_| AgentError::Thread("collector"))?;
        let left = match publisher {
            Some(h) => h.join().map_err(|_| AgentError::Thread("publisher"))?.len(),
            None => 0,
        };
        served?;
        Ok(Summary { cycles: c.cycles, datapoints_queued: c.datapoints_queued, spooled_batches: left })
    }
}

fn spawn<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<std::thread::JoinHandle<T>, AgentError> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(f)
        .map_err(|source| AgentError::Runtime { what: "cannot start a thread", source })
}
