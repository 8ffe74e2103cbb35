//! One event stream per browser for the Customers page, however many tabs show it: every
//! tab asks for the same Web Lock; the tab holding it opens the `EventSource` and relays each
//! version over a `BroadcastChannel` to the others. When that tab closes (or leaves the
//! page), the lock passes to another tab, which opens the stream. A tab that joins says hello
//! on the channel and the holder answers with the newest version it knows. Without Web Locks
//! (an old browser) each tab opens its own stream; the server's connection cap still holds.

use super::{EVENTS_PATH, SIGNED_OUT_EVENT, VERSION_EVENT};
use leptos::wasm_bindgen::closure::Closure;
use leptos::wasm_bindgen::{JsCast, JsValue};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use web_sys::{js_sys, BroadcastChannel, EventSource, MessageEvent};

/// The lock's and the channel's name, the same in every tab of the site.
const SHARED_NAME: &str = "playbook-customers-events";
const HELLO: &str = "hello";

type Listener = Closure<dyn FnMut(MessageEvent)>;

struct Shared {
    /// The newest version this tab knows: its rows' at first, then what it heard.
    known: Cell<i64>,
    on_version: Box<dyn Fn(i64)>,
    channel: Option<BroadcastChannel>,
    /// Open in the tab that holds the lock.
    source: RefCell<Option<EventSource>>,
    /// Resolving it releases the lock, for another tab to take.
    release: RefCell<Option<js_sys::Function>>,
    listeners: RefCell<Vec<Listener>>,
    closed: Cell<bool>,
}

/// This tab's part in the browser's stream; dropping it closes the stream (if this tab held
/// it) and passes the lock on.
pub struct SharedStream(Rc<Shared>);

impl Drop for SharedStream {
    fn drop(&mut self) {
        let shared = &self.0;
        shared.closed.set(true);
        if let Some(source) = shared.source.borrow_mut().take() {
            source.close();
        }
        if let Some(channel) = &shared.channel {
            channel.set_onmessage(None);
            channel.close();
        }
        if let Some(release) = shared.release.borrow_mut().take() {
            let _ = release.call0(&JsValue::NULL);
        }
        shared.listeners.borrow_mut().clear();
    }
}

/// Follows the organisation's data version from `since` (the version of the rows on screen);
/// `on_version` hears every newer version, from this tab's stream or another's.
pub fn follow(since: i64, on_version: impl Fn(i64) + 'static) -> SharedStream {
    let shared = Rc::new(Shared {
        known: Cell::new(since),
        on_version: Box::new(on_version),
        channel: BroadcastChannel::new(SHARED_NAME).ok(),
        source: RefCell::new(None),
        release: RefCell::new(None),
        listeners: RefCell::new(Vec::new()),
        closed: Cell::new(false),
    });
    if let Some(channel) = &shared.channel {
        let weak = Rc::downgrade(&shared);
        let listener: Listener = Closure::new(move |event: MessageEvent| {
            let Some(shared) = weak.upgrade() else {
                return;
            };
            let data = event.data();
            if let Some(version) = data.as_f64() {
                shared.hear(version as i64, false);
            } else if data.as_string().as_deref() == Some(HELLO) && shared.source.borrow().is_some()
            {
                shared.relay(shared.known.get());
            }
        });
        channel.set_onmessage(Some(listener.as_ref().unchecked_ref()));
        shared.listeners.borrow_mut().push(listener);
        let _ = channel.post_message(&JsValue::from_str(HELLO));
    }
    if !request_lock(&shared) {
        open_stream(&shared);
    }
    SharedStream(shared)
}

impl Shared {
    fn hear(&self, version: i64, relay: bool) {
        if version > self.known.get() {
            self.known.set(version);
        }
        (self.on_version)(version);
        if relay {
            self.relay(version);
        }
    }

    fn relay(&self, version: i64) {
        if let Some(channel) = &self.channel {
            let _ = channel.post_message(&JsValue::from_f64(version as f64));
        }
    }
}

/// Asks for the browser's lock; the stream opens when it is granted. `false` when the
/// browser has no Web Locks.
fn request_lock(shared: &Rc<Shared>) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator: JsValue = window.navigator().into();
    let Ok(locks) = js_sys::Reflect::get(&navigator, &JsValue::from_str("locks")) else {
        return false;
    };
    let Some(request) = js_sys::Reflect::get(&locks, &JsValue::from_str("request"))
        .ok()
        .and_then(|request| request.dyn_into::<js_sys::Function>().ok())
    else {
        return false;
    };
    let weak = Rc::downgrade(shared);
    // Held until the promise it returns resolves: when this tab leaves the page.
    let granted = Closure::once_into_js(move |_lock: JsValue| -> js_sys::Promise {
        js_sys::Promise::new(&mut |resolve, _reject| match weak.upgrade() {
            Some(shared) if !shared.closed.get() => {
                *shared.release.borrow_mut() = Some(resolve);
                open_stream(&shared);
            }
            _ => {
                let _ = resolve.call0(&JsValue::NULL);
            }
        })
    });
    request
        .call2(&locks, &JsValue::from_str(SHARED_NAME), &granted)
        .is_ok()
}

fn open_stream(shared: &Rc<Shared>) {
    let address = format!("{EVENTS_PATH}?since={}", shared.known.get());
    let Ok(source) = EventSource::new(&address) else {
        return;
    };
    let weak = Rc::downgrade(shared);
    let on_version: Listener = Closure::new(move |event: MessageEvent| {
        let version = event
            .data()
            .as_string()
            .and_then(|data| data.trim().parse::<i64>().ok());
        if let (Some(shared), Some(version)) = (weak.upgrade(), version) {
            shared.hear(version, true);
        }
    });
    let weak = Rc::downgrade(shared);
    // Signed out (here or elsewhere): the stream is over; the browser must not reconnect.
    let on_signed_out: Listener = Closure::new(move |_event: MessageEvent| {
        if let Some(source) = weak
            .upgrade()
            .and_then(|shared| shared.source.borrow_mut().take())
        {
            source.close();
        }
    });
    let _ =
        source.add_event_listener_with_callback(VERSION_EVENT, on_version.as_ref().unchecked_ref());
    let _ = source
        .add_event_listener_with_callback(SIGNED_OUT_EVENT, on_signed_out.as_ref().unchecked_ref());
    shared
        .listeners
        .borrow_mut()
        .extend([on_version, on_signed_out]);
    *shared.source.borrow_mut() = Some(source);
}
