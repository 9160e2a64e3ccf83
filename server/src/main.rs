use clap::Parser;
use fabrik_server::config::{Command, Config};

fn main() -> anyhow::Result<()> {
    fabrik_server::memory::configure();
    raise_open_files_limit();
    let config = Config::parse();
    let _tracing = fabrik_server::traces::init(config.log_format)?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(config))
}

async fn run(config: Config) -> anyhow::Result<()> {
    match &config.command {
        Some(Command::Backup) => return fabrik_server::backup::shell_backup(&config).await,
        Some(Command::Restore { from }) => {
            return fabrik_server::backup::shell_restore(&config, from)
        }
        None => {}
    }
    let (router, _service) = fabrik_server::build(&config).await?;
    fabrik_server::memory::spawn_trimmer();
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

/// Each open live stream holds a socket, and `--max-streams` (4096 by default) is above
/// the usual soft limit of 1024 open files: lift the soft limit to the hard one.
fn raise_open_files_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard {
            let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
        }
    }
}
