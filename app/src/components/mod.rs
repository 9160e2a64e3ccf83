//! Pieces shared by several pages.
pub mod badges;
pub mod banners;
pub mod charts;
pub mod fields;
pub mod icons;
pub mod layout;
pub mod log_panel;
pub mod progress;
pub mod tabs;
pub mod theme;
pub mod time;
pub mod toast;

pub use badges::{NeedsFeedbackBadge, NodeStateIcon, RoleBadge, StatusBadge};
pub use banners::{EmptyState, ErrorBanner, PageHeader, WarningBanner};
pub use icons::{Icon, I};
pub use progress::ProgressBar;
pub use tabs::{PageTab, TabBar, TabLink};
pub use time::{LiveDuration, RelativeTime};
