use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The numeric `:id` of the current route, `None` when it is not a number.
pub struct RouteId;

impl RouteId {
    pub fn read() -> Memo<Option<i64>> {
        let params = use_params_map();
        Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())))
    }
}
