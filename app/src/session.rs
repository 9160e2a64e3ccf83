//! Who is signed in, for every component.
//!
//! The server renders each page knowing the request's `Principal` (the auth middleware
//! put it into the request). It is handed to the browser inside the page
//! ([`SharedValue`]), so the header and every role-dependent button render the same
//! on the server and during hydration, with no extra request and no flicker. Signing in
//! and out are full page loads, so the value never changes while a page lives.
use domain::auth::{Action, Principal, Role};
use leptos::prelude::*;
use leptos::server::SharedValue;

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub user: Option<Principal>,
}

impl Session {
    pub fn role(&self) -> Option<Role> {
        self.user.as_ref().map(|u| u.role)
    }

    pub fn username(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.username.as_str())
    }

    pub fn can(&self, action: Action) -> bool {
        self.role().is_some_and(|r| r.can(action))
    }

    /// Why the signed-in user may not do `action` ("Your role (viewer) can't cancel
    /// runs; ask an operator or admin."), or `None` if they may.
    pub fn refusal(&self, action: Action) -> Option<String> {
        match self.role() {
            Some(role) => role.require(action).err().map(|e| e.message),
            None => Some("Sign in first.".to_string()),
        }
    }
}

/// Called once in `App`, before anything that reads the session.
pub fn provide_session() {
    let user = SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            crate::server_fns::principal()
        }
        #[cfg(not(feature = "ssr"))]
        {
            None::<Principal>
        }
    })
    .into_inner();
    provide_context(Session { user });
}

pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or(Session { user: None })
}
