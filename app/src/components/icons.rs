//! Inline stroke icons (24×24 grid), so the UI needs no icon font or extra requests.
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum I {
    ArrowLeft,
    ArrowRight,
    Ban,
    Check,
    CheckCircle,
    ChevronDown,
    Circle,
    Clock,
    Copy,
    Cpu,
    Download,
    FileText,
    Filter,
    Hash,
    Heart,
    Info,
    Key,
    List,
    Lock,
    LogOut,
    Message,
    Minus,
    Moon,
    PauseCircle,
    Plus,
    Rotate,
    Search,
    Send,
    Settings,
    Shield,
    Square,
    Sun,
    Terminal,
    Triangle,
    User,
    Users,
    X,
    XCircle,
}

impl I {
    fn path(self) -> &'static str {
        match self {
            I::ArrowLeft => "M19 12H5M12 19l-7-7 7-7",
            I::ArrowRight => "M5 12h14M12 5l7 7-7 7",
            I::Ban => "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM5.64 5.64l12.72 12.72",
            I::Check => "M20 6 9 17l-5-5",
            I::CheckCircle => "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM8 12.5l2.5 2.5L16 9.5",
            I::ChevronDown => "m6 9 6 6 6-6",
            I::Circle => "M12 4a8 8 0 1 0 0 16 8 8 0 0 0 0-16z",
            I::Clock => "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM12 7v5l3 2",
            I::Copy => "M11 9h9a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-9a2 2 0 0 1-2-2v-9a2 2 0 0 1 2-2zM5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1",
            I::Cpu => "M4 4h16v6H4zM4 14h16v6H4zM8 7h.01M8 17h.01",
            I::Download => "M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4M7 10l5 5 5-5M12 15V3",
            I::FileText => "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zM14 2v6h6M16 13H8M16 17H8M10 9H8",
            I::Filter => "M22 3H2l8 9.46V19l4 2v-8.54z",
            I::Hash => "M4 9h16M4 15h16M10 3 8 21M16 3l-2 18",
            I::Heart => "M22 12h-4l-3 9L9 3l-3 9H2",
            I::Info => "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM12 16v-4M12 8h.01",
            I::Key => "M21 2l-2 2m-7.61 7.61a5.5 5.5 0 1 1-7.778 7.778 5.5 5.5 0 0 1 7.777-7.777zm0 0L15.5 7.5m0 0l3 3L22 7l-3-3m-3.5 3.5L19 4",
            I::List => "M8 6h13M8 12h13M8 18h13M3 6h.01M3 12h.01M3 18h.01",
            I::Lock => "M5 11h14a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2zM7 11V7a5 5 0 0 1 10 0v4",
            I::LogOut => "M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4M16 17l5-5-5-5M21 12H9",
            I::Message => "M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z",
            I::Minus => "M5 12h14",
            I::Moon => "M12 3a6 6 0 0 0 9 9 9 9 0 1 1-9-9z",
            I::PauseCircle => "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM10 15V9M14 15V9",
            I::Plus => "M12 5v14M5 12h14",
            I::Rotate => "M3 12a9 9 0 1 0 3-6.7L3 8M3 3v5h5",
            I::Search => "M11 4a7 7 0 1 0 0 14 7 7 0 0 0 0-14zM21 21l-4.35-4.35",
            I::Send => "M22 2 11 13M22 2l-7 20-4-9-9-4z",
            I::Settings => "M4 21v-7M4 10V3M12 21v-9M12 8V3M20 21v-5M20 12V3M1 14h6M9 8h6M17 16h6",
            I::Shield => "M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z",
            I::Square => "M6 6h12v12H6z",
            I::Sun => "M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8zM12 2v2M12 20v2M4.93 4.93l1.41 1.41M17.66 17.66l1.41 1.41M2 12h2M20 12h2M6.34 17.66l-1.41 1.41M19.07 4.93l-1.41 1.41",
            I::Terminal => "M4 17l6-6-6-6M12 19h8",
            I::Triangle => "M10.29 3.86 1.82 18a2 2 0 0 0 1.71 3h16.94a2 2 0 0 0 1.71-3L13.71 3.86a2 2 0 0 0-3.42 0zM12 9v4M12 17h.01",
            I::User => "M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2M12 3a4 4 0 1 0 0 8 4 4 0 0 0 0-8z",
            I::Users => "M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2M9 3a4 4 0 1 0 0 8 4 4 0 0 0 0-8zM23 21v-2a4 4 0 0 0-3-3.87M16 3.13a4 4 0 0 1 0 7.75",
            I::X => "M18 6 6 18M6 6l12 12",
            I::XCircle => "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM15 9l-6 6M9 9l6 6",
        }
    }
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
            <path d=icon.path()></path>
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
