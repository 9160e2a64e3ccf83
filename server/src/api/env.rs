//! `/api/v1/env…`: env sets. Values are masked unless `?reveal=true` (operators and
//! admins, audited); a save against a stale version answers 409 with the current set.
use super::{fail, json_body, ApiResult};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use domain::env::{describe, parse, write_download, EnvVars, SaveEnvSet, SaveOutcome};
use domain::service::{Actor, EnvService};
use domain::Error as DomainError;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/env", get(list))
        .route("/env/parse", post(parse_text))
        .route("/env/{project}/{env}", get(show).put(save).delete(remove))
        .route("/env/{project}/{env}/dotenv", get(download))
        .route("/env/{project}/{env}/validate", post(validate))
        .route(
            "/env/{project}/{env}/keys/{key}",
            put(set_key).delete(delete_key),
        )
}

#[derive(Deserialize)]
struct Reveal {
    #[serde(default)]
    reveal: bool,
}

async fn list(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    let sets = s.service.list_env_sets(&who).await.map_err(fail)?;
    Ok(Json(serde_json::json!({ "env_sets": sets })).into_response())
}

/// Reads a pasted or uploaded `.env` (the body, as text) without storing anything.
async fn parse_text(Extension(_who): Extension<Actor>, body: Bytes) -> ApiResult {
    let text = std::str::from_utf8(&body).map_err(|_| {
        fail(DomainError::bad_request(
            "The file is not UTF-8 text; a .env holds KEY=VALUE lines (is it a binary file?).",
        ))
    })?;
    match parse(text) {
        Ok(parsed) => Ok(Json(parsed).into_response()),
        Err(problems) => Err(fail(DomainError::bad_request(describe(&problems)))),
    }
}

async fn show(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path((project, env)): Path<(String, String)>,
    Query(q): Query<Reveal>,
) -> ApiResult {
    let set = s
        .service
        .get_env_set(&who, &project, &env, q.reveal)
        .await
        .map_err(fail)?;
    Ok(Json(set).into_response())
}

async fn save(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path((project, env)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let mut request: SaveEnvSet = json_body(&body).map_err(fail)?;
    if request.version.is_none() {
        request.version = if_match(&headers).map_err(fail)?;
    }
    Ok(save_answer(
        s.service.save_env_set(&who, &project, &env, request).await,
    ))
}

fn save_answer(outcome: domain::Result<SaveOutcome>) -> Response {
    match outcome {
        Err(e) => fail(e),
        Ok(SaveOutcome::Saved { set }) => Json(set).into_response(),
        Ok(SaveOutcome::Stale { current }) => {
            let message = format!(
                "{}/{} changed since you loaded it (now version {}). Merge your changes into the current set and save again.",
                current.project, current.env, current.version
            );
            (
                StatusCode::CONFLICT,
                Json(serde_json::json!({
                    "error": { "code": "conflict", "message": message },
                    "current": current,
                })),
            )
                .into_response()
        }
    }
}

/// `If-Match: "3"` (or `3`): the version a save is based on.
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, DomainError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = v.to_str().unwrap_or("").trim().trim_matches('"');
    text.parse().map(Some).map_err(|_| {
        DomainError::bad_request("If-Match must be the set's version number, e.g. \"3\".")
    })
}

async fn remove(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path((project, env)): Path<(String, String)>,
) -> ApiResult {
    s.service
        .delete_env_set(&who, &project, &env)
        .await
        .map_err(fail)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn download(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path((project, env)): Path<(String, String)>,
) -> ApiResult {
    let set = s
        .service
        .get_env_set(&who, &project, &env, true)
        .await
        .map_err(fail)?;
    let vars = set.revealed_vars().unwrap_or_default();
    let text = write_download(&project, &env, crate::clock::now_ms(), &vars);
    let mut response =
        ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response();
    let disposition = format!("attachment; filename=\"fabrik-{project}-{env}.env\"");
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

async fn validate(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path((project, env)): Path<(String, String)>,
) -> ApiResult {
    let set = s
        .service
        .get_env_set(&who, &project, &env, false)
        .await
        .map_err(fail)?;
    Ok(Json(serde_json::json!({
        "ok": set.missing_required.is_empty(),
        "missing_required": set.missing_required,
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyValue {
    value: String,
    #[serde(default)]
    version: Option<i64>,
}

async fn set_key(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path((project, env, key)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let kv: KeyValue = json_body(&body).map_err(fail)?;
    let version = kv.version.or(if_match(&headers).map_err(fail)?);
    let vars = EnvVars::from([(key.clone(), kv.value)]);
    edit_key(&s, &who, &project, &env, version, &key, vars).await
}

async fn delete_key(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path((project, env, key)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    let version = if_match(&headers).map_err(fail)?;
    edit_key(&s, &who, &project, &env, version, &key, EnvVars::new()).await
}

/// `key` set to what `vars` says (or removed), every other key kept at its stored value
/// without reading it; as of `version` when given, else the current one.
async fn edit_key(
    s: &AppState,
    who: &Actor,
    project: &str,
    env: &str,
    version: Option<i64>,
    key: &str,
    vars: EnvVars,
) -> ApiResult {
    let current = s
        .service
        .get_env_set(who, project, env, false)
        .await
        .map_err(fail)?;
    let keep = current
        .vars
        .iter()
        .map(|v| v.key.clone())
        .filter(|k| k != key)
        .collect();
    let save = SaveEnvSet {
        version: Some(version.unwrap_or(current.version)),
        vars,
        keep,
    };
    Ok(save_answer(
        s.service.save_env_set(who, project, env, save).await,
    ))
}
