//! The API client: a server URL and a token, JSON in and out, the API's errors turned
//! into [`CliError`]s that say what to do.
use crate::error::{CliError, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// How soon a broken event stream is opened again.
const RECONNECT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Client {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl Client {
    pub fn new(server: &str, token: Option<String>) -> Client {
        Client {
            base: server.trim_end_matches('/').to_string(),
            token,
            http: reqwest::Client::new(),
        }
    }

    pub fn server(&self) -> &str {
        &self.base
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let url = format!("{}/api/v1{path}", self.base);
        let builder = self.http.request(method, url);
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T> {
        self.send(self.request(reqwest::Method::POST, path).json(body))
            .await
    }

    pub async fn put<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T> {
        self.send(self.request(reqwest::Method::PUT, path).json(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Result<()> {
        let _: Value = self
            .send(self.request(reqwest::Method::DELETE, path))
            .await?;
        Ok(())
    }

    /// A text answer (a `.env` download, a log).
    pub async fn text(&self, path: &str) -> Result<String> {
        let response = self.stream(path).await?;
        response
            .text()
            .await
            .map_err(|e| CliError::Failed(format!("reading the answer: {e}")))
    }

    /// `/healthz`, outside the API and without a token.
    pub async fn health(&self) -> Result<Value> {
        let response = self
            .http
            .get(format!("{}/healthz", self.base))
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let response = checked(response).await?;
        response
            .json()
            .await
            .map_err(|e| CliError::Failed(format!("{}/healthz: {e}", self.base)))
    }

    /// The response as it comes (a log followed as it grows), once it is a success.
    pub async fn stream(&self, path: &str) -> Result<reqwest::Response> {
        let response = self.request(reqwest::Method::GET, path).send().await;
        checked(response.map_err(|e| self.unreachable(e))?).await
    }

    async fn send<T: DeserializeOwned>(&self, builder: reqwest::RequestBuilder) -> Result<T> {
        let response = checked(builder.send().await.map_err(|e| self.unreachable(e))?).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| CliError::Failed(format!("reading the answer: {e}")))?;
        let bytes = if bytes.is_empty() {
            &b"null"[..]
        } else {
            &bytes[..]
        };
        serde_json::from_slice(bytes).map_err(|e| {
            CliError::Failed(format!(
                "{} answered with something this fabrik doesn't read ({e}); are the CLI and server the same version?",
                self.base
            ))
        })
    }

    /// Follows the server's event stream (`/api/v1/events`): each event (a batch
    /// arriving together counts once) is a reason to read the server again.
    pub fn follow_events(self, changed: tokio::sync::mpsc::UnboundedSender<()>) {
        tokio::spawn(async move {
            loop {
                if let Ok(response) = self.stream("/events").await {
                    let mut body = response.bytes_stream();
                    while let Some(Ok(chunk)) = futures::StreamExt::next(&mut body).await {
                        let text = String::from_utf8_lossy(&chunk);
                        // Keep-alives are comments; an event has a data line.
                        if text.contains("data:") && changed.send(()).is_err() {
                            return;
                        }
                    }
                }
                if changed.is_closed() {
                    return;
                }
                tokio::time::sleep(RECONNECT).await;
            }
        });
    }

    fn unreachable(&self, e: reqwest::Error) -> CliError {
        CliError::Unreachable(format!(
            "Cannot reach fabrik-server at {} ({e}). Is it running? Check the address with fabrik login --server <url>.",
            self.base
        ))
    }
}

/// A success as it is; a failure as the API's own message.
async fn checked(response: reqwest::Response) -> Result<reqwest::Response> {
    let status = response.status().as_u16();
    if response.status().is_success() {
        return Ok(response);
    }
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let message = body["error"]["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("The server answered {status}."));
    Err(CliError::from_api(status, message))
}

/// `s` for a URL path segment.
pub fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// What the API sent, read as the domain's type for a table (the JSON printed is the
/// API's own, untouched).
pub fn typed<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T> {
    serde_json::from_value(value.clone()).map_err(|e| {
        CliError::Failed(format!(
            "The server's answer doesn't read as this fabrik expects ({e}): are the CLI and server the same version? -o json shows it as it is."
        ))
    })
}
