//! Graceful shutdown: one `CancellationToken` per service, cancelled on Ctrl-C or
//! SIGTERM (what `cargo xtask up`, systemd and container runtimes send).

use tokio_util::sync::CancellationToken;

/// Cancels `token` on SIGINT or SIGTERM. The watcher task ends by itself when the
/// token is cancelled some other way (tests, a fatal error).
pub fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops gracefully");
                    std::future::pending::<()>().await
                }
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            _ = terminate => {}
            _ = token.cancelled() => return,
        }
        tracing::info!("shutdown signal received; finishing in-flight work");
        token.cancel();
    });
}
