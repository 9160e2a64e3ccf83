//! How server functions' answers travel: JSON, read in the browser from text.
//!
//! Leptos' own `Json` reads answers with `serde_json::from_slice`, while a resource's
//! value carried in the server-rendered page is read with `serde_json::from_str`. Each
//! reader is a separate copy of every answer type's deserializer in the WASM, so the
//! runs list's rows were decoded by two copies in the main module. Reading answers from
//! text leaves one.
use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};

/// JSON, decoded from UTF-8 text.
pub struct JsonTextEncoding;

/// A server function's answer as JSON, read as text: `#[server(output = JsonText)]`.
pub type JsonText = Post<JsonTextEncoding>;

impl ContentType for JsonTextEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonTextEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Answer {
        run_id: String,
        rows: Vec<u32>,
    }

    #[test]
    fn an_answer_reads_back_as_it_was_sent() {
        let answer = Answer {
            run_id: "01JRUN \u{e9}".into(),
            rows: vec![1, 2],
        };
        let bytes = <JsonTextEncoding as Encodes<Answer>>::encode(&answer).unwrap();
        let back: Answer = JsonTextEncoding::decode(bytes).unwrap();
        assert_eq!(back, answer);
    }

    #[test]
    fn bytes_that_are_not_text_are_an_error_not_a_panic() {
        let bad = Bytes::from_static(b"{\"run_id\":\"\xff\",\"rows\":[]}");
        let read: Result<Answer, _> = JsonTextEncoding::decode(bad);
        assert!(read.unwrap_err().to_string().contains("utf-8"));
    }
}
