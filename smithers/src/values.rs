//! Reading the JSON values Smithers stores.
use serde_json::Value;

/// An error as a person reads it: the message of an error object, the text of a string.
pub(crate) fn readable_error_value(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => match o.get("message") {
            Some(Value::String(m)) if !m.trim().is_empty() => Some(m.clone()),
            _ => Some(value.to_string()),
        },
        other => Some(other.to_string()),
    }
}
