//! The API client: a server URL and a token, JSON in and out, the API's errors turned
//! into [`CliError`]s that say what to do.
use crate::error::{CliError, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

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
