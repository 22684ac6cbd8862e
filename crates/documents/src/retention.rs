//! Uploads never linked to an application do not stay for ever: every hour, those older than
//! the retention period are removed — their records, and their content unless a kept document
//! shares it.

use std::time::Duration;

use softland_store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::Storage;

/// How often the sweep runs.
const EVERY: Duration = Duration::from_secs(3600);

/// Runs the sweep every hour until `stop` turns true.
pub fn spawn_sweeper(
    store: Store,
    storage: Storage,
    retention: chrono::Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = sweep(&store, &storage, retention).await {
                tracing::warn!(error = %e, "cannot sweep unlinked uploads; trying again later");
            }
            tokio::select! {
                () = tokio::time::sleep(EVERY) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    })
}

/// Removes unlinked uploads older than `retention`; returns how many contents were deleted.
pub async fn sweep(
    store: &Store,
    storage: &Storage,
    retention: chrono::Duration,
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let orphans = store.sweep_unlinked(store.now() - retention).await?;
    for sha256 in &orphans {
        storage.delete(sha256).await?;
    }
    if !orphans.is_empty() {
        tracing::info!(
            contents = orphans.len(),
            "removed unlinked uploads past their retention"
        );
    }
    Ok(orphans.len())
}
