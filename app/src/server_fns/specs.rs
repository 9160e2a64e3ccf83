//! Server functions for specs and todos.
use super::JsonText;
#[cfg(feature = "ssr")]
use super::{actor, answer, ctx};
use crate::error::AppError;
use domain::spec::{Spec, SpecSummary, SpecView, Todo};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server(endpoint = "list_specs", input = Json, output = JsonText)]
pub async fn list_specs() -> Result<Vec<SpecSummary>, AppError> {
    let result = async move { Ok(ctx::specs()?.list_specs(&actor()?).await?) }.await;
    answer(result)
}

#[server(endpoint = "load_spec", input = Json, output = JsonText)]
pub async fn load_spec(id: String) -> Result<SpecView, AppError> {
    let result = async move { Ok(ctx::specs()?.get_spec(&actor()?, &id).await?) }.await;
    answer(result)
}

#[server(endpoint = "create_spec", input = Json, output = JsonText)]
pub async fn create_spec(spec: Spec) -> Result<SpecView, AppError> {
    let result = async move { Ok(ctx::specs()?.create_spec(&actor()?, spec).await?) }.await;
    answer(result)
}

#[server(endpoint = "make_todo", input = Json, output = JsonText)]
pub async fn make_todo(id: String) -> Result<SpecView, AppError> {
    let result = async move { Ok(ctx::specs()?.generate_todo(&actor()?, &id).await?) }.await;
    answer(result)
}

#[server(endpoint = "save_todo_edits", input = Json, output = JsonText)]
pub async fn save_todo_edits(id: String, todo: Todo) -> Result<SpecView, AppError> {
    let result = async move { Ok(ctx::specs()?.save_todo(&actor()?, &id, todo).await?) }.await;
    answer(result)
}

#[server(endpoint = "approve_spec_todo", input = Json, output = JsonText)]
pub async fn approve_spec_todo(id: String) -> Result<SpecView, AppError> {
    let result = async move { Ok(ctx::specs()?.approve_todo(&actor()?, &id).await?) }.await;
    answer(result)
}
