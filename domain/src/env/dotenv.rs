//! The `.env` format as real files use it: comments, blank lines, `export KEY=`, single
//! and double quotes, escapes, multi-line quoted values, `=` in values, CRLF, a BOM,
//! duplicate keys (last wins, with a warning). `${VAR}` is never expanded: a value is
//! exactly what the file says.
use super::keys::check_key;
use super::EnvVars;

/// Largest `.env` text accepted (a paste or an upload).
pub const MAX_DOTENV_BYTES: usize = 1024 * 1024;

/// A line that could not be read, or a warning about one (1-based line numbers).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineProblem {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LineProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            0 => f.write_str(&self.message),
            n => write!(f, "line {n}: {}", self.message),
        }
    }
}

/// Every problem of a text, one per line, for people.
pub fn describe(problems: &[LineProblem]) -> String {
    problems
        .iter()
        .map(LineProblem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a `.env` text holds.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Parsed {
    pub vars: EnvVars,
    /// Not errors: e.g. a key set twice.
    pub warnings: Vec<LineProblem>,
}

/// Reads a `.env` text. Every malformed line is reported (with its number); nothing
/// partial is returned when any line is wrong.
pub fn parse(text: &str) -> Result<Parsed, Vec<LineProblem>> {
    if text.len() > MAX_DOTENV_BYTES {
        return Err(vec![LineProblem {
            line: 0,
            message: format!(
                "The text is {} KiB; a .env may be at most {} KiB.",
                text.len() / 1024,
                MAX_DOTENV_BYTES / 1024
            ),
        }]);
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text: std::borrow::Cow<str> = if text.contains('\r') {
        text.replace("\r\n", "\n").into()
    } else {
        text.into()
    };
    let mut reader = Reader {
        lines: text.split('\n'),
        at: 0,
    };
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    while let Some((number, line)) = reader.next() {
        match entry(line, number, &mut reader) {
            Ok(None) => {}
            Ok(Some((key, value))) => entries.push((key, value, number)),
            Err(message) => errors.push(LineProblem {
                line: number,
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok(last_wins(entries))
    } else {
        Err(errors)
    }
}

/// The entries (key, value, line) as a set: a key given again replaces its value, with a
/// warning naming both lines. Sorting once and building the map in bulk is what keeps a
/// large paste parsed within a frame.
fn last_wins(mut entries: Vec<(&str, String, usize)>) -> Parsed {
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let mut warnings = Vec::new();
    let mut vars = Vec::with_capacity(entries.len());
    let mut entries = entries.into_iter().peekable();
    while let Some((key, mut value, first)) = entries.next() {
        while let Some((_, again, line)) = entries.next_if(|next| next.0 == key) {
            warnings.push(LineProblem {
                line,
                message: format!(
                    "{key} is set again (first on line {first}); the last value wins."
                ),
            });
            value = again;
        }
        vars.push((key.to_string(), value));
    }
    warnings.sort_by_key(|w| w.line);
    Parsed {
        vars: vars.into_iter().collect(),
        warnings,
    }
}

struct Reader<'a> {
    lines: std::str::Split<'a, char>,
    at: usize,
}

impl<'a> Reader<'a> {
    fn next(&mut self) -> Option<(usize, &'a str)> {
        let line = self.lines.next()?;
        self.at += 1;
        Some((self.at, line))
    }
}

/// One `KEY=value` entry starting on `line` (a quoted value may take more lines).
fn entry<'a>(
    line: &'a str,
    number: usize,
    more: &mut Reader,
) -> Result<Option<(&'a str, String)>, String> {
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(None);
    }
    let body = trimmed
        .strip_prefix("export")
        .filter(|rest| rest.starts_with([' ', '\t']))
        .map(str::trim_start)
        .unwrap_or(trimmed);
    let Some((key, rest)) = body.split_once('=') else {
        return Err(format!(
            "expected KEY=VALUE, found '{}'",
            body.chars().take(40).collect::<String>()
        ));
    };
    let key = key.trim_end();
    check_key(key)?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let value = match rest.chars().next() {
        Some('"') => quoted(&rest[1..], '"', number, more)?,
        Some('\'') => quoted(&rest[1..], '\'', number, more)?,
        _ => unquoted(rest)?,
    };
    Ok(Some((key, value)))
}

fn unquoted(rest: &str) -> Result<String, String> {
    // An inline comment starts at a `#` after whitespace.
    let end = rest
        .char_indices()
        .find(|(i, c)| *c == '#' && rest[..*i].ends_with([' ', '\t']))
        .map(|(i, _)| i)
        .unwrap_or(rest.len());
    let value = rest[..end].trim_end();
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err("the value contains a control character; quote it or remove it".into());
    }
    Ok(value.to_string())
}

/// A value in `quote`s, possibly over several lines; in double quotes `\n \r \t \" \\
/// \$` are escapes.
fn quoted(start: &str, quote: char, number: usize, more: &mut Reader) -> Result<String, String> {
    let mut value = String::with_capacity(start.len());
    let mut text = start;
    let special = |c: char| c == quote || c == '\0' || (c == '\\' && quote == '"');
    loop {
        while let Some(i) = text.find(special) {
            value.push_str(&text[..i]);
            let mut rest = text[i..].chars();
            match rest.next() {
                Some('\0') => return Err("the value contains a NUL byte".into()),
                Some('\\') => match rest.next() {
                    Some('n') => value.push('\n'),
                    Some('r') => value.push('\r'),
                    Some('t') => value.push('\t'),
                    Some(e @ ('"' | '\\' | '$')) => value.push(e),
                    Some(other) => {
                        value.push('\\');
                        value.push(other);
                    }
                    None => value.push('\\'),
                },
                _ => return after_quote(rest.as_str()).map(|_| value),
            }
            text = rest.as_str();
        }
        value.push_str(text);
        match more.next() {
            Some((_, line)) => {
                value.push('\n');
                text = line;
            }
            None => {
                return Err(format!(
                    "the {quote}-quoted value opened on line {number} is never closed"
                ))
            }
        }
    }
}

fn after_quote(rest: &str) -> Result<(), String> {
    let rest = rest.trim_start();
    if rest.is_empty() || rest.starts_with('#') {
        Ok(())
    } else {
        Err(format!(
            "unexpected text after the closing quote: '{}'",
            rest.chars().take(40).collect::<String>()
        ))
    }
}

/// Writes a `.env` that [`parse`] reads back to the same variables (sorted by key).
pub fn write(vars: &EnvVars) -> String {
    let mut out = String::new();
    for (key, value) in vars {
        out.push_str(key);
        out.push('=');
        out.push_str(&render(value));
        out.push('\n');
    }
    out
}

/// The `.env` a person downloads: a header saying where and when it came from.
pub fn write_download(project: &str, env: &str, now_ms: i64, vars: &EnvVars) -> String {
    format!(
        "# Generated by fabrik from project={project} env={env}\n# Downloaded: {}\n{}",
        crate::time::rfc3339(now_ms),
        write(vars)
    )
}

fn render(value: &str) -> String {
    let plain = value.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(c, '_' | '-' | '.' | '/' | ':' | '@' | '%' | '+' | ',' | '=')
    });
    if plain {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = "\u{feff}# Secrets for dev\r\n\
        export ANTHROPIC_API_KEY=sk-ant-123\r\n\
        \r\n\
        LAOS_LOKI_URL = http://loki:3100/api?x=1&y=2   # the log sink\r\n\
        GREETING=\"Hello \\\"world\\\"\\nsecond line\"\r\n\
        LITERAL='${HOME} stays \\n as written'\r\n\
        PEM=\"-----BEGIN KEY-----\r\nabc\r\n-----END KEY-----\"\r\n\
        EMPTY=\r\n\
        HASH=a#b\r\n\
        DEBUG=false\r\n\
        DEBUG=true\r\n";

    #[test]
    fn a_real_file_reads_as_written() {
        let p = parse(REAL).unwrap();
        let v = &p.vars;
        assert_eq!(v["ANTHROPIC_API_KEY"], "sk-ant-123");
        assert_eq!(v["LAOS_LOKI_URL"], "http://loki:3100/api?x=1&y=2");
        assert_eq!(v["GREETING"], "Hello \"world\"\nsecond line");
        assert_eq!(
            v["LITERAL"], "${HOME} stays \\n as written",
            "never expanded"
        );
        assert_eq!(v["PEM"], "-----BEGIN KEY-----\nabc\n-----END KEY-----");
        assert_eq!(v["EMPTY"], "");
        assert_eq!(v["HASH"], "a#b");
        assert_eq!(v["DEBUG"], "true", "last wins");
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].line, 13);
        assert!(p.warnings[0].message.contains("first on line 12"));
        assert_eq!(
            parse(&write(v)).unwrap().vars,
            *v,
            "write → parse is identity"
        );
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let e =
            parse("A=1\nthis is not an entry\nBAD KEY=x\n1X=y\nQ=\"open\nstill open").unwrap_err();
        let lines: Vec<usize> = e.iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 3, 4, 5], "{e:?}");
        assert!(e[3].message.contains("never closed"));
        let e = parse("FABRIK_ADMIN_PASSWORD=x").unwrap_err();
        assert!(e[0].message.contains("FABRIK_"), "{e:?}");
        let e = parse("A=\"x\" trailing").unwrap_err();
        assert!(e[0].message.contains("after the closing quote"));
        let big = format!("A={}", "x".repeat(MAX_DOTENV_BYTES));
        assert_eq!(parse(&big).unwrap_err()[0].line, 0);
        assert!(
            parse("A=a\u{1}b").is_err(),
            "control characters need quotes"
        );
    }

    #[test]
    fn downloads_say_where_they_came_from() {
        let vars = EnvVars::from([("A".to_string(), "has space".to_string())]);
        let text = write_download("acme", "dev", 0, &vars);
        assert!(text.starts_with(
            "# Generated by fabrik from project=acme env=dev\n# Downloaded: 1970-01-01T00:00:00"
        ));
        assert!(text.ends_with("A=\"has space\"\n"));
        assert_eq!(parse(&text).unwrap().vars, vars);
    }
}
