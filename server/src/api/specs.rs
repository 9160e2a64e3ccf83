//! `/api/v1/specs…`: specs in fabrik's JSON and their todos. A spec that doesn't fit
//! fabrik's schema or the interview rules is a 400 listing every problem with its field.
use super::{fail, ApiResult};
use crate::service::specs::invalid;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use domain::service::{Actor, SpecService};
use domain::spec::{check_spec, not_json, spec_from_value, todo_from_value, FieldProblem, Spec};
use domain::Error as DomainError;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/specs", get(list).post(create))
        .route("/specs/validate", post(validate))
        .route("/specs/{id}", get(show).put(replace).delete(remove))
        .route("/specs/{id}/todo", post(generate).put(save_todo))
        .route("/specs/{id}/todo/approve", post(approve))
}

/// 400 with the message and every problem as `{field, message}`.
fn problems_response(what: &str, problems: &[FieldProblem]) -> Response {
    let error = invalid(what, problems);
    let body = json!({
        "error": { "code": error.code, "message": error.message },
        "problems": problems,
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn json_value(body: &Bytes) -> Result<Value, Vec<FieldProblem>> {
    serde_json::from_slice(body).map_err(|e| vec![not_json(&e)])
}

/// A spec from the body that passes fabrik's schema and every interview rule.
fn checked_spec(body: &Bytes) -> Result<Spec, Vec<FieldProblem>> {
    json_value(body)
        .and_then(spec_from_value)
        .and_then(|spec| match check_spec(&spec) {
            problems if problems.is_empty() => Ok(spec),
            problems => Err(problems),
        })
}

fn refuse_spec(problems: Vec<FieldProblem>) -> Response {
    problems_response("spec", &problems)
}

async fn list(State(s): State<AppState>, Extension(who): Extension<Actor>) -> ApiResult {
    let specs = s.service.list_specs(&who).await.map_err(fail)?;
    Ok(Json(json!({ "specs": specs })).into_response())
}

async fn validate(Extension(_who): Extension<Actor>, body: Bytes) -> ApiResult {
    checked_spec(&body).map_err(refuse_spec)?;
    Ok(Json(json!({ "valid": true, "problems": [] })).into_response())
}

async fn create(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    body: Bytes,
) -> ApiResult {
    let spec = checked_spec(&body).map_err(refuse_spec)?;
    let view = s.service.create_spec(&who, spec).await.map_err(fail)?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn show(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult {
    Ok(Json(s.service.get_spec(&who, &id).await.map_err(fail)?).into_response())
}

/// `If-Match: "3"`: the revision the new spec is based on (from a GET).
fn revision(headers: &HeaderMap) -> Result<i64, DomainError> {
    let text = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_matches('"'))
        .ok_or_else(|| {
            DomainError::bad_request(
                "Send If-Match: \"<revision>\" with the revision you loaded (GET /api/v1/specs/{id} gives it), so a newer spec is never overwritten.",
            )
        })?;
    text.parse().map_err(|_| {
        DomainError::bad_request("If-Match must be the spec's revision number, e.g. \"3\".")
    })
}

async fn replace(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let revision = revision(&headers).map_err(fail)?;
    let spec = checked_spec(&body).map_err(refuse_spec)?;
    if spec.id != id {
        return Err(problems_response(
            "spec",
            &[FieldProblem::new(
                "id",
                format!(
                    "is '{}' but the address names '{id}'; ids don't change",
                    spec.id
                ),
            )],
        ));
    }
    Ok(Json(
        s.service
            .replace_spec(&who, spec, revision)
            .await
            .map_err(fail)?,
    )
    .into_response())
}

async fn remove(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult {
    s.service.delete_spec(&who, &id).await.map_err(fail)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn generate(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult {
    Ok(Json(s.service.generate_todo(&who, &id).await.map_err(fail)?).into_response())
}

async fn save_todo(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let todo = json_value(&body)
        .and_then(todo_from_value)
        .map_err(|p| problems_response("todo", &p))?;
    Ok(Json(s.service.save_todo(&who, &id, todo).await.map_err(fail)?).into_response())
}

async fn approve(
    State(s): State<AppState>,
    Extension(who): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult {
    Ok(Json(s.service.approve_todo(&who, &id).await.map_err(fail)?).into_response())
}
