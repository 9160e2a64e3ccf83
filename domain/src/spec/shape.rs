//! Reading a spec or todo from JSON against fabrik's schema, reporting every problem
//! with the path of its field (serde would stop at the first).
use super::{FieldProblem, Spec, Todo};
use serde_json::Value;

/// Largest spec or todo JSON accepted.
pub const MAX_SPEC_BYTES: usize = 256 * 1024;

enum Kind {
    One,
    Text,
    Flag,
    Texts,
    Object(&'static [Field]),
    Objects(&'static [Field]),
}

struct Field {
    name: &'static str,
    kind: Kind,
    required: bool,
}

const fn req(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        required: true,
    }
}

const fn opt(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        required: false,
    }
}

const SPEC: &[Field] = &[
    req("v", Kind::One),
    req("id", Kind::Text),
    req("title", Kind::Text),
    req("status", Kind::Text),
    req("version", Kind::Text),
    req("lastUpdated", Kind::Text),
    opt("supersedes", Kind::Texts),
    opt("dependsOn", Kind::Texts),
    req("goals", Kind::Texts),
    req("nonGoals", Kind::Texts),
    req(
        "req",
        Kind::Object(&[
            req("api", Kind::Texts),
            req("behavior", Kind::Texts),
            req("obs", Kind::Texts),
        ]),
    ),
    opt("cfg", Kind::Object(&[opt("env", Kind::Texts)])),
    req("accept", Kind::Texts),
    req("assume", Kind::Texts),
];

const TODO: &[Field] = &[
    req("v", Kind::One),
    req("id", Kind::Text),
    req("tdd", Kind::Flag),
    req("dod", Kind::Texts),
    req(
        "tasks",
        Kind::Objects(&[
            req("id", Kind::Text),
            req("do", Kind::Text),
            req("verify", Kind::Text),
        ]),
    ),
];

/// A spec from JSON text, or every way it differs from fabrik's spec schema.
pub fn parse_spec(text: &str) -> Result<Spec, Vec<FieldProblem>> {
    parse_as(text, SPEC)
}

/// A todo from JSON text, or every way it differs from fabrik's todo schema.
pub fn parse_todo(text: &str) -> Result<Todo, Vec<FieldProblem>> {
    parse_as(text, TODO)
}

/// A spec from an already parsed JSON value (a request body).
pub fn spec_from_value(value: Value) -> Result<Spec, Vec<FieldProblem>> {
    from_value(value, SPEC)
}

/// A todo from an already parsed JSON value (a request body).
pub fn todo_from_value(value: Value) -> Result<Todo, Vec<FieldProblem>> {
    from_value(value, TODO)
}

fn parse_as<T: serde::de::DeserializeOwned>(
    text: &str,
    fields: &[Field],
) -> Result<T, Vec<FieldProblem>> {
    if text.len() > MAX_SPEC_BYTES {
        return Err(vec![FieldProblem::new(
            "",
            format!(
                "the file is {} KiB; at most {} KiB is accepted",
                text.len() / 1024,
                MAX_SPEC_BYTES / 1024
            ),
        )]);
    }
    let value: Value = serde_json::from_str(text).map_err(|e| vec![not_json(&e)])?;
    from_value(value, fields)
}

/// What a JSON syntax error becomes: where it is, and what.
pub fn not_json(e: &serde_json::Error) -> FieldProblem {
    FieldProblem::new(
        "",
        format!(
            "not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ),
    )
}

fn from_value<T: serde::de::DeserializeOwned>(
    value: Value,
    fields: &[Field],
) -> Result<T, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    check_object(&value, fields, "", &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    serde_json::from_value(value).map_err(|e| vec![FieldProblem::new("", e.to_string())])
}

fn check_object(value: &Value, fields: &[Field], path: &str, out: &mut Vec<FieldProblem>) {
    let Some(object) = value.as_object() else {
        out.push(FieldProblem::new(
            path,
            format!("must be an object, found {}", kind_of(value)),
        ));
        return;
    };
    for field in fields {
        let at = join(path, field.name);
        match object.get(field.name) {
            None if field.required => out.push(FieldProblem::new(&at, "is required")),
            None => {}
            Some(v) => check_value(v, &field.kind, &at, out),
        }
    }
    for name in object.keys() {
        if !fields.iter().any(|f| f.name == name) {
            let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
            out.push(FieldProblem::new(
                &join(path, name),
                format!(
                    "is not a field of this schema (known: {})",
                    known.join(", ")
                ),
            ));
        }
    }
}

fn check_value(value: &Value, kind: &Kind, at: &str, out: &mut Vec<FieldProblem>) {
    match kind {
        Kind::One if value.as_u64() == Some(1) => {}
        Kind::One => out.push(FieldProblem::new(at, format!("must be 1, found {value}"))),
        Kind::Text if value.is_string() => {}
        Kind::Flag if value.is_boolean() => {}
        Kind::Text => out.push(FieldProblem::new(
            at,
            format!("must be a string, found {}", kind_of(value)),
        )),
        Kind::Flag => out.push(FieldProblem::new(
            at,
            format!("must be true or false, found {}", kind_of(value)),
        )),
        Kind::Texts => each_item(value, at, out, |item, at, out| {
            if !item.is_string() {
                out.push(FieldProblem::new(
                    at,
                    format!("must be a string, found {}", kind_of(item)),
                ));
            }
        }),
        Kind::Object(fields) => check_object(value, fields, at, out),
        Kind::Objects(fields) => each_item(value, at, out, |item, at, out| {
            check_object(item, fields, at, out)
        }),
    }
}

fn each_item(
    value: &Value,
    at: &str,
    out: &mut Vec<FieldProblem>,
    check: impl Fn(&Value, &str, &mut Vec<FieldProblem>),
) {
    match value.as_array() {
        Some(items) => {
            for (i, item) in items.iter().enumerate() {
                check(item, &format!("{at}[{i}]"), out);
            }
        }
        None => out.push(FieldProblem::new(
            at,
            format!("must be a list, found {}", kind_of(value)),
        )),
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
