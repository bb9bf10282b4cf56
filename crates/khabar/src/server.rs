//! Starting and stopping the HTTP server and its jobs.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::{router, AppState};

pub struct RunningServer {
    pub address: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    jobs: JoinHandle<()>,
    webhooks: JoinHandle<()>,
    peers: JoinHandle<()>,
    search_stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    search_writer: Option<std::thread::JoinHandle<()>>,
    state: AppState,
}

impl RunningServer {
    /// Serves on an already bound listener until `stop` is called.
    pub fn start(state: AppState, listener: TcpListener) -> std::io::Result<Self> {
        let address = listener.local_addr()?;
        let (shutdown, receiver) = watch::channel(false);
        let jobs = tokio::spawn(crate::jobs::run(state.clone(), receiver.clone()));
        let webhooks = tokio::spawn(crate::webhooks::run(state.clone(), receiver.clone()));
        let peers = tokio::spawn(crate::cache::peers::run(state.clone(), receiver.clone()));
        // The search index's one writer: a thread of its own (tantivy's writes block).
        let search_stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let search_writer = {
            let index = std::sync::Arc::clone(&state.search.index);
            let store = state.store.clone();
            let runtime = tokio::runtime::Handle::current();
            let stop = std::sync::Arc::clone(&search_stop);
            std::thread::Builder::new()
                .name("search-writer".to_owned())
                .spawn(move || index.run_writer(store, runtime, stop))?
        };
        // Kept pages are answered in front of the router (see `KeptPagesFirst`).
        let app = crate::cache::render::ServeKeptPagesFirst { state: state.clone(), router: router(state.clone()) };
        let mut server_receiver = receiver;
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = server_receiver.changed().await;
                })
                .await
        });
        Ok(RunningServer {
            address,
            shutdown,
            server,
            jobs,
            webhooks,
            peers,
            search_stop,
            search_writer: Some(search_writer),
            state,
        })
    }

    /// Stops accepting, lets requests in flight finish, runs the jobs' last flush.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        let served = self.server.await.unwrap_or_else(|error| Err(std::io::Error::other(error)));
        let _ = self.jobs.await;
        let _ = self.webhooks.await;
        let _ = self.peers.await;
        self.search_stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.state.search.index.wake();
        if let Some(writer) = self.search_writer {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
        served
    }
}

/// SIGTERM or Ctrl-C. Installed before the server says it is ready, so a
/// signal that arrives right after that still means "stop cleanly".
pub struct TerminationSignal {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl TerminationSignal {
    pub fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            TerminationSignal {
                terminate: signal(SignalKind::terminate()).ok(),
                interrupt: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        TerminationSignal {}
    }

    pub async fn received(self) {
        #[cfg(unix)]
        {
            async fn next(signal: Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                _ = next(self.terminate) => {}
                _ = next(self.interrupt) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
