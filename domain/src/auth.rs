//! Who may do what: users, roles, and the rules about names, passwords and redirects.
use crate::error::{Error, ErrorCode, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Operator,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Operator, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Result<Role> {
        match s.trim() {
            "admin" => Ok(Role::Admin),
            "operator" => Ok(Role::Operator),
            "viewer" => Ok(Role::Viewer),
            other => Err(Error::bad_request(format!(
                "Unknown role '{other}'. Use admin, operator or viewer."
            ))),
        }
    }

    pub fn can(self, action: Action) -> bool {
        match action {
            Action::View => true,
            Action::Dispatch
            | Action::Cancel
            | Action::Resume
            | Action::DecideGate
            | Action::SeeSecrets
            | Action::EditEnv
            | Action::EditSpecs => matches!(self, Role::Admin | Role::Operator),
            Action::ManageUsers
            | Action::ReadAudit
            | Action::SeeFleet
            | Action::SeeMetrics
            | Action::ChangeSettings
            | Action::Backup => self == Role::Admin,
        }
    }

    /// Refuses `action` with a message that says who can do it.
    pub fn require(self, action: Action) -> Result<()> {
        if self.can(action) {
            return Ok(());
        }
        let admin_only = [
            Action::ManageUsers,
            Action::ReadAudit,
            Action::SeeFleet,
            Action::SeeMetrics,
            Action::ChangeSettings,
            Action::Backup,
        ];
        let who = if admin_only.contains(&action) {
            "an admin"
        } else {
            "an operator or admin"
        };
        Err(Error::new(
            ErrorCode::Forbidden,
            format!(
                "Your role ({}) can't {}; ask {who}.",
                self.as_str(),
                action.describe()
            ),
        ))
    }
}

/// Everything a role decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    View,
    Dispatch,
    Cancel,
    Resume,
    DecideGate,
    SeeSecrets,
    EditEnv,
    EditSpecs,
    ManageUsers,
    ReadAudit,
    /// The machines runs go to and the credentials they get (admin pages).
    SeeFleet,
    /// Token usage and cost over all runs (admin pages).
    SeeMetrics,
    /// Site settings: the price table, observability links.
    ChangeSettings,
    /// Back up the server's state.
    Backup,
}

impl Action {
    fn describe(self) -> &'static str {
        match self {
            Action::View => "view runs",
            Action::Dispatch => "dispatch runs",
            Action::Cancel => "cancel runs",
            Action::Resume => "resume runs",
            Action::DecideGate => "approve or reject gates",
            Action::SeeSecrets => "see secret values",
            Action::EditEnv => "change environment variables",
            Action::EditSpecs => "write specs and approve todos",
            Action::ManageUsers => "manage users",
            Action::ReadAudit => "read the audit log",
            Action::SeeFleet => "see the cluster and its credentials",
            Action::SeeMetrics => "see usage and cost metrics",
            Action::ChangeSettings => "change site settings",
            Action::Backup => "back up the server",
        }
    }
}

/// The signed-in user, as pages and handlers see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub username: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at_ms: i64,
    pub last_login_ms: Option<i64>,
}

/// `POST /api/v1/users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
}

/// `PATCH /api/v1/users/{name}`: each field present is changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub disabled: Option<bool>,
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub created_at_ms: i64,
    pub last_used_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditView {
    pub id: i64,
    pub at_ms: i64,
    pub actor: String,
    pub source: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

pub const MIN_PASSWORD_CHARS: usize = 10;

pub fn validate_username(name: &str) -> Result<()> {
    let ok = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(Error::bad_request(
            "Usernames are 2–64 characters: letters, digits, '.', '_', '-' or '@'.",
        ))
    }
}

pub fn validate_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::bad_request(format!(
            "Passwords need at least {MIN_PASSWORD_CHARS} characters."
        )));
    }
    if password.len() > 1024 {
        return Err(Error::bad_request("Passwords are limited to 1024 bytes."));
    }
    Ok(())
}

/// Longest token name, in characters.
pub const MAX_TOKEN_NAME_CHARS: usize = 64;

/// A token needs a name that says where it is used ("laptop CLI"), on one line.
pub fn validate_token_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::bad_request(
            "Give the token a name that says where it is used, e.g. \"laptop CLI\".",
        ));
    }
    if name.chars().count() > MAX_TOKEN_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(Error::bad_request(format!(
            "Token names are at most {MAX_TOKEN_NAME_CHARS} characters on one line."
        )));
    }
    Ok(())
}

/// Where to go after login: only a path on this site, never another origin.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(|c| c.is_control() || c == '\\')
                && !n.starts_with("/login") =>
        {
            n.to_string()
        }
        _ => "/runs".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_only_look() {
        for action in [
            Action::Dispatch,
            Action::Cancel,
            Action::Resume,
            Action::DecideGate,
            Action::SeeSecrets,
            Action::ManageUsers,
        ] {
            assert!(!Role::Viewer.can(action), "{action:?}");
            assert!(Role::Admin.can(action), "{action:?}");
        }
        assert!(Role::Viewer.can(Action::View));
        assert!(Role::Operator.can(Action::DecideGate));
        assert!(!Role::Operator.can(Action::ManageUsers));
        let e = Role::Viewer.require(Action::Dispatch).unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden);
        assert!(e.message.contains("viewer"), "{}", e.message);
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/runs/01X?tab=log")), "/runs/01X?tab=log");
        for evil in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "evil",
            "/login?next=/x",
            "/ok\r\nSet-Cookie: x",
        ] {
            assert_eq!(safe_next(Some(evil)), "/runs", "{evil}");
        }
        assert_eq!(safe_next(None), "/runs");
    }

    #[test]
    fn names_and_passwords() {
        assert!(validate_username("alice.b-2@x").is_ok());
        assert!(validate_username("a").is_err());
        assert!(validate_username("bad name").is_err());
        assert!(validate_password("short").is_err());
        assert!(validate_password("long enough pw").is_ok());
        assert!(Role::parse("root").is_err());
    }
}
