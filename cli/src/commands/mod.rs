//! One module per command group; each takes the connection (`Session`) and returns what
//! the process exits with.
pub mod admin;
pub mod env;
pub mod interview;
pub mod login;
pub mod run;
pub mod runs;
pub mod schedules;
pub mod specs;

use crate::client::Client;
use crate::config::{self, Config};
use crate::error::Result;
use crate::output::Format;

/// A server to talk to, and how to print.
pub struct Session {
    pub client: Client,
    pub format: Format,
    /// The context it came from (not when `--server`/`--token` named the server):
    /// the daemon, when it runs, answers for it.
    pub context: Option<String>,
}

impl Session {
    /// The context asked for (or the current one), unless `--server`/`--token` say
    /// otherwise (as `FABRIK_SERVER` / `FABRIK_TOKEN` do for scripts).
    pub fn open(
        context: Option<&str>,
        server: Option<&str>,
        token: Option<&str>,
        format: Format,
    ) -> Result<Session> {
        let (client, context) = match (server, token) {
            (Some(server), Some(token)) => (Client::new(server, Some(token.to_string())), None),
            _ => {
                let config = Config::load(&config::path())?;
                let (name, ctx) = config.context(context)?;
                let overridden = server.is_some() || token.is_some();
                let client = Client::new(
                    server.unwrap_or(&ctx.server),
                    Some(token.unwrap_or(&ctx.token).to_string()),
                );
                (client, (!overridden).then(|| name.to_string()))
            }
        };
        Ok(Session {
            client,
            format,
            context,
        })
    }
}

/// The servers the dashboard shows: the one `--server`/`--token` or `--context` name,
/// else every context (the current one first).
pub fn sources(
    context: Option<&str>,
    server: Option<&str>,
    token: Option<&str>,
) -> Result<Vec<(String, Client)>> {
    if let (Some(server), Some(token)) = (server, token) {
        let name = config::context_name(server);
        return Ok(vec![(name, Client::new(server, Some(token.to_string())))]);
    }
    let config = Config::load(&config::path())?;
    let (current, _) = config.context(context)?;
    let current = current.to_string();
    let mut names: Vec<&String> = config.contexts.keys().collect();
    if context.is_some() {
        names.retain(|n| **n == current);
    }
    names.sort_by_key(|n| **n != current);
    Ok(names
        .into_iter()
        .map(|n| {
            let c = &config.contexts[n];
            (n.clone(), Client::new(&c.server, Some(c.token.clone())))
        })
        .collect())
}
