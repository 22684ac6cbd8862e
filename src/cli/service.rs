//! What `serve` and `demo` start, from the same settings: the HTTP gateway, the scheduler, the
//! outbox relay, notification fan-out and delivery, the reports' keeper, and (on PostgreSQL)
//! the key-revocation listener. Tests start the binary, so they run exactly this too.

use std::net::SocketAddr;
use std::time::Duration;

use softland_gateway::{Application, Settings};
use softland_notifications::fan_out::FanOutSettings;
use softland_store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::notify::Notify;

/// How often committed events are fanned out and due notifications sent.
const NOTIFY_PERIOD: Duration = Duration::from_millis(250);

/// How often the reports' facts of changed applications are kept.
/// How often a server promotes from waitlists what a release did not (see `Store::promote`).
const PLACE_KEEPER_PERIOD: Duration = Duration::from_secs(5);

const REPORT_KEEPER_PERIOD: Duration = Duration::from_secs(10);

/// A running softland: the gateway bound and serving, its workers started.
pub(crate) struct Service {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    workers: Vec<JoinHandle<()>>,
}

impl Service {
    /// Binds `settings.listen` and starts everything; the scheduler looks for due timers every
    /// `scheduler_period` and names itself `worker` in the timers it claims.
    pub(crate) async fn start(
        store: &Store,
        mut settings: Settings,
        scheduler_period: Duration,
        worker: String,
        notify: &Notify,
        public_url: Option<String>,
    ) -> std::io::Result<Self> {
        let (stop, stop_rx) = watch::channel(false);
        let mut workers = vec![
            store.spawn_scheduler(worker.clone(), scheduler_period, stop_rx.clone()),
            store.spawn_outbox_relay(Duration::from_millis(100), stop.subscribe()),
            store.spawn_report_keeper(REPORT_KEEPER_PERIOD, stop.subscribe()),
            store.spawn_place_keeper(PLACE_KEEPER_PERIOD, stop.subscribe()),
        ];
        settings.webhooks = softland_gateway::graphql::Webhooks {
            policy: notify.policy.clone(),
        };
        workers.extend(store.spawn_key_watch(stop.subscribe()));
        let storage = softland_documents::Storage::open(&settings.documents)
            .map_err(|e| std::io::Error::other(format!("the document store: {e}")))?;
        workers.push(softland_documents::retention::spawn_sweeper(
            store.clone(),
            storage,
            settings.unlinked_retention,
            stop.subscribe(),
        ));
        // The console at `/`, on the same origin as the API.
        settings.pages = Some(softland_console::pages);
        let app = Application::build(settings, store.clone()).await?;
        let addr = app.local_addr()?;
        let scheme = if app.is_https() { "https" } else { "http" };
        // Links in e-mail and webhooks: the public address, else where this server listens.
        let public_url = public_url.unwrap_or_else(|| format!("{scheme}://{addr}"));
        workers.push(softland_notifications::fan_out::spawn_fan_out(
            store.clone(),
            FanOutSettings {
                public_url: public_url.clone(),
                email: notify.mailer.is_some(),
            },
            NOTIFY_PERIOD,
            stop.subscribe(),
        ));
        workers.push(
            notify
                .deliverer(store, worker, &public_url)
                .spawn(NOTIFY_PERIOD, stop.subscribe()),
        );
        let mut stopped = stop_rx;
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.wait_for(|s| *s).await;
        }));
        Ok(Self {
            addr,
            stop,
            server,
            workers,
        })
    }

    /// Where it listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `signal` resolves (or the server fails), then stops.
    pub(crate) async fn run_until(
        mut self,
        signal: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        tokio::select! {
            () = signal => {}
            done = &mut self.server => {
                // The server ended by itself: report why, then stop the workers.
                let _ = self.stop.send(true);
                for w in self.workers {
                    let _ = w.await;
                }
                return Ok(done??);
            }
        }
        self.stop().await
    }

    /// Stops accepting, lets in-flight requests finish, stops the workers.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.server.await??;
        for w in self.workers {
            let _ = w.await;
        }
        Ok(())
    }
}
