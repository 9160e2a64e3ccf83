//! `fabrik login`: a password for a token, kept in a context of the config.
use crate::client::Client;
use crate::config::{self, Config, Context};
use crate::error::{CliError, Result};
use serde_json::{json, Value};
use std::io::{BufRead, IsTerminal};

pub struct Login {
    pub server: String,
    pub username: String,
    pub password_stdin: bool,
    pub context: Option<String>,
}

pub async fn login(args: Login) -> Result<i32> {
    let password = read_password(args.password_stdin, &args.username)?;
    let client = Client::new(&args.server, None);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "this machine".into());
    let body = json!({"username": args.username, "password": password, "name": format!("fabrik CLI on {host}")});
    let issued: Value = client.post("/auth/token", &body).await?;
    let token = issued["token"]
        .as_str()
        .ok_or_else(|| CliError::Failed("The server issued no token.".into()))?
        .to_string();
    let me: Value = Client::new(&args.server, Some(token.clone()))
        .get("/auth/me")
        .await?;
    let path = config::path();
    let mut config = Config::load(&path)?;
    let name = args
        .context
        .unwrap_or_else(|| config::context_name(&args.server));
    config.contexts.insert(
        name.clone(),
        Context {
            server: client.server().to_string(),
            username: args.username.clone(),
            token,
        },
    );
    config.current = Some(name.clone());
    config.save(&path)?;
    println!(
        "Signed in to {} as {} ({}); context '{name}' in {}.",
        client.server(),
        args.username,
        me["role"].as_str().unwrap_or("?"),
        path.display()
    );
    Ok(0)
}

fn read_password(from_stdin: bool, username: &str) -> Result<String> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\n', '\r']).to_string()
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("Password for {username}: "))?
    } else {
        return Err(CliError::Usage(
            "No terminal to ask for the password: pipe it in with --password-stdin.".into(),
        ));
    };
    if password.is_empty() {
        return Err(CliError::Usage("The password is empty.".into()));
    }
    Ok(password)
}
