//! Facts about the app's own URLs, shared by the frame and the live stream.

/// Pages with their own frame and no header: nothing there may link to pages that
/// need sign-in, and no live stream is opened there (it needs a session).
pub fn is_bare_page(path: &str) -> bool {
    path == "/login" || path.starts_with("/login/")
}
