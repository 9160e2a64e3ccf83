//! What a variable may be called.

/// Longest key, in characters.
pub const MAX_KEY_CHARS: usize = 256;

/// Prefixes the server sets itself for every run; a set may not override them.
pub const RESERVED_PREFIXES: [&str; 2] = ["SMITHERS_", "FABRIK_"];

/// `[A-Za-z_][A-Za-z0-9_]*`, at most [`MAX_KEY_CHARS`], not reserved. The error says
/// what to change.
pub fn check_key(key: &str) -> Result<(), String> {
    let plain = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let well_formed = key.len() <= MAX_KEY_CHARS
        && key.bytes().all(|b| plain(&b))
        && key.bytes().next().is_some_and(|b| !b.is_ascii_digit());
    if well_formed && !RESERVED_PREFIXES.iter().any(|p| key.starts_with(p)) {
        return Ok(());
    }
    if key.is_empty() {
        return Err("A variable needs a name.".into());
    }
    if key.chars().count() > MAX_KEY_CHARS {
        return Err(format!(
            "'{}…' is longer than {MAX_KEY_CHARS} characters.",
            key.chars().take(24).collect::<String>()
        ));
    }
    if key.chars().any(char::is_whitespace) {
        return Err(format!(
            "'{key}' contains a space; names are letters, digits and _."
        ));
    }
    let mut chars = key.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "'{key}' is not a valid name: use letters, digits and _, not starting with a digit."
        ));
    }
    if let Some(prefix) = RESERVED_PREFIXES.iter().find(|p| key.starts_with(**p)) {
        return Err(format!(
            "'{key}' starts with {prefix}, which fabrik sets itself for every run; pick another name."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_shell_rules_and_stay_out_of_ours() {
        for ok in ["A", "_x", "ANTHROPIC_API_KEY", "a1_B2"] {
            assert!(check_key(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1A",
            "A-B",
            "A B",
            "É",
            "FABRIK_TOKEN",
            "SMITHERS_DB_PATH",
        ] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
        assert!(check_key(&"K".repeat(256)).is_ok());
        let long = check_key(&"K".repeat(257)).unwrap_err();
        assert!(long.contains("256"), "{long}");
    }
}
