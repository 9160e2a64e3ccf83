//! Small presentation helpers. Rules about runs live in `domain`; these only shape text.

/// A run id short enough for a table cell; both ends stay visible so it can be matched
/// against the full id from either side.
pub fn short_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 12 {
        return id.to_string();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 6..].iter().collect();
    format!("{head}…{tail}")
}

/// `2026-11-24 01:02:03 UTC`.
pub fn datetime(ms: i64) -> String {
    let s = domain::time::rfc3339(ms);
    format!("{} {} UTC", &s[..10], &s[11..19])
}

/// `01:02:03` (UTC).
pub fn time_of_day(ms: i64) -> String {
    domain::time::rfc3339(ms)[11..19].to_string()
}

/// 1234567 → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub use domain::units::bytes;

/// 1500 millicores → `1.5 cores`; 250 → `250m`.
pub fn cores(millicores: u64) -> String {
    match millicores {
        m if m < 1000 => format!("{m}m"),
        1000 => "1 core".into(),
        m if m % 1000 == 0 => format!("{} cores", m / 1000),
        m => format!("{:.1} cores", m as f64 / 1000.0),
    }
}

/// A column name for people: `input_tokens` → `Input tokens`.
pub fn humanize(key: &str) -> String {
    let spaced = key.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Removes terminal escape sequences (colours, cursor moves) and resolves carriage
/// returns, so a log line reads as the terminal last showed it.
pub fn clean_log_line(line: &str) -> String {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let line = line.rsplit('\r').next().unwrap_or(line);
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            match chars.peek() {
                Some('[') => {
                    chars.next();
                    // CSI: parameters and intermediates, then one final byte @..~
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    // OSC: until BEL or ESC \
                    chars.next();
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' {
                            chars.next();
                            break;
                        }
                    }
                }
                Some(_) => {
                    chars.next();
                }
                None => {}
            }
        } else if c == '\t' || !c.is_control() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_cores_read_as_people_write_them() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(17_179_869_184), "16.0 GiB");
        assert_eq!(bytes(200 * 1024 * 1024), "200 MiB");
        assert_eq!(cores(250), "250m");
        assert_eq!(cores(1000), "1 core");
        assert_eq!(cores(4000), "4 cores");
        assert_eq!(cores(1500), "1.5 cores");
    }

    #[test]
    fn short_ids_keep_both_ends() {
        assert_eq!(short_id("01KAT5ZQ8Y3M4N5P6Q7R8S9T0V"), "01KA…8S9T0V");
        assert_eq!(short_id("abc"), "abc");
    }

    #[test]
    fn numbers_and_names() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(humanize("input_tokens"), "Input tokens");
        assert_eq!(datetime(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(time_of_day(3_723_000), "01:02:03");
    }

    #[test]
    fn log_lines_lose_escapes() {
        assert_eq!(clean_log_line("\u{1b}[32m✓ plan\u{1b}[0m"), "✓ plan");
        assert_eq!(clean_log_line("10%\r50%\r100%"), "100%");
        assert_eq!(clean_log_line("done\r"), "done");
        assert_eq!(clean_log_line("a\u{1b}]0;title\u{7}b"), "ab");
    }
}

/// A page of this app an error message points to ("… Create it first at /env/acme."),
/// for a link beside the message.
pub fn fix_link(message: &str) -> Option<String> {
    message
        .split_whitespace()
        .find(|w| w.starts_with("/env/"))
        .map(|w| w.trim_end_matches(['.', ',', ';', ')']).to_string())
}

#[cfg(test)]
mod fix_link_tests {
    use super::fix_link;

    #[test]
    fn the_page_named_in_a_message_is_found() {
        assert_eq!(
            fix_link("Missing required: LAOS_LOKI_URL. Add it at /env/acme/qa.").as_deref(),
            Some("/env/acme/qa")
        );
        assert_eq!(fix_link("Choose a template."), None);
    }
}
