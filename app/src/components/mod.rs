//! UI pieces that more than one page uses. They know the app's data types (errors, score
//! bands, conversation channels) but no feature's views or server functions: the shell imports
//! the features, the features import these, never the other way round.

mod band_mark;
mod channel_icon;
mod debounced_text;
mod figures;
mod load_error;
mod not_found;
mod pager;
mod route_id;

pub use band_mark::BandMark;
pub use channel_icon::ChannelIcon;
pub use debounced_text::DebouncedText;
pub use figures::{group_thousands, range_label};
pub use load_error::LoadError;
pub use not_found::NotFoundMessage;
pub use pager::{pager_items, Pager, Part, Step, Toward, Turn};
pub use route_id::RouteId;
