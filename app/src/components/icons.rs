//! Inline stroke icons (24×24 grid), so the UI needs no icon font or extra requests.
use leptos::prelude::*;

/// An icon: its path on the 24×24 grid. Each is a constant of its own, not a variant
/// looked up in one `match`, so a WASM chunk carries the icons its page draws and the
/// main module only the ones the runs list and the shell use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct I(&'static str);

#[allow(non_upper_case_globals)]
impl I {
    pub const ArrowLeft: I = I("M19 12H5M12 19l-7-7 7-7");
    pub const ArrowRight: I = I("M5 12h14M12 5l7 7-7 7");
    pub const Ban: I = I("M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM5.64 5.64l12.72 12.72");
    pub const Check: I = I("M20 6 9 17l-5-5");
    pub const CheckCircle: I = I("M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM8 12.5l2.5 2.5L16 9.5");
    pub const ChevronDown: I = I("m6 9 6 6 6-6");
    pub const Circle: I = I("M12 4a8 8 0 1 0 0 16 8 8 0 0 0 0-16z");
    pub const Clock: I = I("M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM12 7v5l3 2");
    pub const Copy: I = I("M11 9h9a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-9a2 2 0 0 1-2-2v-9a2 2 0 0 1 2-2zM5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1");
    pub const Cpu: I = I("M4 4h16v6H4zM4 14h16v6H4zM8 7h.01M8 17h.01");
    pub const Download: I = I("M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4M7 10l5 5 5-5M12 15V3");
    pub const FileText: I = I("M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zM14 2v6h6M16 13H8M16 17H8M10 9H8");
    pub const Filter: I = I("M22 3H2l8 9.46V19l4 2v-8.54z");
    pub const Hash: I = I("M4 9h16M4 15h16M10 3 8 21M16 3l-2 18");
    pub const Heart: I = I("M22 12h-4l-3 9L9 3l-3 9H2");
    pub const Info: I = I("M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM12 16v-4M12 8h.01");
    pub const Key: I = I("M21 2l-2 2m-7.61 7.61a5.5 5.5 0 1 1-7.778 7.778 5.5 5.5 0 0 1 7.777-7.777zm0 0L15.5 7.5m0 0l3 3L22 7l-3-3m-3.5 3.5L19 4");
    pub const List: I = I("M8 6h13M8 12h13M8 18h13M3 6h.01M3 12h.01M3 18h.01");
    pub const Lock: I = I("M5 11h14a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2zM7 11V7a5 5 0 0 1 10 0v4");
    pub const LogOut: I = I("M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4M16 17l5-5-5-5M21 12H9");
    pub const Message: I = I("M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z");
    pub const Minus: I = I("M5 12h14");
    pub const Moon: I = I("M12 3a6 6 0 0 0 9 9 9 9 0 1 1-9-9z");
    pub const PauseCircle: I = I("M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM10 15V9M14 15V9");
    pub const Plus: I = I("M12 5v14M5 12h14");
    pub const Rotate: I = I("M3 12a9 9 0 1 0 3-6.7L3 8M3 3v5h5");
    pub const Search: I = I("M11 4a7 7 0 1 0 0 14 7 7 0 0 0 0-14zM21 21l-4.35-4.35");
    pub const Send: I = I("M22 2 11 13M22 2l-7 20-4-9-9-4z");
    pub const Settings: I =
        I("M4 21v-7M4 10V3M12 21v-9M12 8V3M20 21v-5M20 12V3M1 14h6M9 8h6M17 16h6");
    pub const Shield: I = I("M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z");
    pub const Square: I = I("M6 6h12v12H6z");
    pub const Sun: I = I("M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8zM12 2v2M12 20v2M4.93 4.93l1.41 1.41M17.66 17.66l1.41 1.41M2 12h2M20 12h2M6.34 17.66l-1.41 1.41M19.07 4.93l-1.41 1.41");
    pub const Terminal: I = I("M4 17l6-6-6-6M12 19h8");
    pub const Triangle: I = I("M10.29 3.86 1.82 18a2 2 0 0 0 1.71 3h16.94a2 2 0 0 0 1.71-3L13.71 3.86a2 2 0 0 0-3.42 0zM12 9v4M12 17h.01");
    pub const User: I =
        I("M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2M12 3a4 4 0 1 0 0 8 4 4 0 0 0 0-8z");
    pub const Users: I = I("M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2M9 3a4 4 0 1 0 0 8 4 4 0 0 0 0-8zM23 21v-2a4 4 0 0 0-3-3.87M16 3.13a4 4 0 0 1 0 7.75");
    pub const X: I = I("M18 6 6 18M6 6l12 12");
    pub const XCircle: I = I("M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM15 9l-6 6M9 9l6 6");
}

#[component]
pub fn Icon(icon: I, #[prop(optional)] class: Option<&'static str>) -> impl IntoView {
    view! {
        <svg
            class=class.unwrap_or("h-4 w-4 shrink-0")
            viewBox="0 0 24 24"
            fill="none"
            stroke="currentColor"
            stroke-width="2"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
        >
            <path d=icon.0></path>
        </svg>
    }
}

/// The product mark: a small factory-ish glyph in a rounded square.
#[component]
pub fn Logo(#[prop(optional)] class: Option<&'static str>) -> impl IntoView {
    view! {
        <svg class=class.unwrap_or("h-8 w-8") viewBox="0 0 32 32" aria-hidden="true">
            <rect width="32" height="32" rx="8" fill="#4f46e5"></rect>
            <path d="M7 24V14l5 3v-3l5 3v-3l5 3V8h3v16z" fill="#fff"></path>
            <circle cx="23.5" cy="11" r="1.5" fill="#fbbf24"></circle>
        </svg>
    }
}
