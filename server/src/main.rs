use clap::Parser;
use fabrik_server::config::{Command, Config, LogFormat};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    init_logging(config.log_format);
    match &config.command {
        Some(Command::Backup) => return fabrik_server::backup::shell_backup(&config).await,
        Some(Command::Restore { from }) => {
            return fabrik_server::backup::shell_restore(&config, from)
        }
        None => {}
    }
    let (router, _service) = fabrik_server::build(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "Cannot listen on {}: {e}. Is another server running? Pick another with --listen.",
                config.listen
            )
        })?;
    tracing::info!(
        "fabrik-server listening on http://{} (data dir {})",
        config.listen,
        config.data_dir().display()
    );
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// Logs to stdout as text or JSON lines; each request's lines carry its id and route.
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,fabrik_server=info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}
