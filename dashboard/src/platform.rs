//! The few browser facilities the app uses (clock, timers, localStorage, Intl time
//! formatting, file download, audio playback position), behind plain functions. On the host (unit tests,
//! `cargo clippy`) they are inert stand-ins so the rest of the crate compiles there.

#[cfg(target_arch = "wasm32")]
mod imp {
    use wasm_bindgen::{JsCast, JsValue};

    pub fn now_ms() -> f64 {
        js_sys::Date::now()
    }

    pub async fn sleep_ms(ms: i32) {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(w) = web_sys::window() {
                let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }

    pub fn storage_get(key: &str) -> Option<String> {
        storage()?.get_item(key).ok()?
    }

    pub fn storage_set(key: &str, value: &str) {
        if let Some(s) = storage() {
            let _ = s.set_item(key, value);
        }
    }

    pub fn storage_remove(key: &str) {
        if let Some(s) = storage() {
            let _ = s.remove_item(key);
        }
    }

    /// Calls `f` whenever the page may have come back with a stale session: shown
    /// again from the back/forward cache, focused, made visible, or localStorage
    /// changed by another tab. Registered once for the app's lifetime.
    pub fn on_page_return(f: impl FnMut() + 'static) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let callback = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(f);
        for event in ["pageshow", "focus", "storage", "visibilitychange"] {
            let _ =
                window.add_event_listener_with_callback(event, callback.as_ref().unchecked_ref());
        }
        // Lives as long as the page.
        callback.forget();
    }

    pub fn origin() -> String {
        web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default()
    }

    /// `Nov 20, 10:05 AM` in the dealership's IANA time zone, via Intl.
    pub fn format_in_zone(iso: &str, zone: &str, with_date: bool) -> String {
        let date = js_sys::Date::new(&JsValue::from_str(iso));
        if date.get_time().is_nan() {
            return iso.to_string();
        }
        let options = js_sys::Object::new();
        let set = |k: &str, v: &str| {
            let _ = js_sys::Reflect::set(&options, &JsValue::from_str(k), &JsValue::from_str(v));
        };
        set("timeZone", zone);
        if with_date {
            set("month", "short");
            set("day", "numeric");
        }
        set("hour", "numeric");
        set("minute", "2-digit");
        set("timeZoneName", "short");
        // An unknown zone makes Intl throw; fall back to UTC rather than show nothing.
        let formatted = js_sys::Intl::DateTimeFormat::new(
            &js_sys::Array::of1(&JsValue::from_str("en-US")),
            &options,
        )
        .format()
        .call1(&JsValue::NULL, &date);
        match formatted.ok().and_then(|v| v.as_string()) {
            Some(s) if !s.is_empty() => s,
            _ => crate::model::time::utc_label(iso),
        }
    }

    /// The zone's offset from UTC (local minus UTC, in ms) at the instant `utc_ms`:
    /// Intl gives the local wall-clock parts, read back as if they were UTC.
    pub fn zone_offset_ms(zone: &str, utc_ms: f64) -> f64 {
        let options = js_sys::Object::new();
        let set = |k: &str, v: &str| {
            let _ = js_sys::Reflect::set(&options, &JsValue::from_str(k), &JsValue::from_str(v));
        };
        set("timeZone", zone);
        set("hourCycle", "h23");
        for k in ["year", "month", "day", "hour", "minute", "second"] {
            set(k, "numeric");
        }
        let format = js_sys::Intl::DateTimeFormat::new(
            &js_sys::Array::of1(&JsValue::from_str("en-US")),
            &options,
        );
        // Zones are IANA names checked by the database (dealership_timezone_check).
        let date = js_sys::Date::new(&JsValue::from_f64(utc_ms));
        let parts = format.format_to_parts(&date);
        let mut v = [0f64; 6];
        for part in parts.iter() {
            let get = |k: &str| {
                js_sys::Reflect::get(&part, &JsValue::from_str(k))
                    .ok()
                    .and_then(|x| x.as_string())
                    .unwrap_or_default()
            };
            let slot = match get("type").as_str() {
                "year" => 0,
                "month" => 1,
                "day" => 2,
                "hour" => 3,
                "minute" => 4,
                "second" => 5,
                _ => continue,
            };
            v[slot] = get("value").parse().unwrap_or(f64::NAN);
        }
        let local_ms = utc_of(v);
        let whole_seconds = (utc_ms / 1000.0).floor() * 1000.0;
        let offset = local_ms - whole_seconds;
        if offset.is_finite() {
            offset
        } else {
            0.0
        }
    }

    /// Milliseconds since the epoch of a (year, month 1-12, day, h, m, s) read as UTC.
    fn utc_of(v: [f64; 6]) -> f64 {
        chrono::NaiveDate::from_ymd_opt(v[0] as i32, v[1] as u32, v[2] as u32)
            .and_then(|d| d.and_hms_opt(v[3] as u32, v[4] as u32, v[5] as u32))
            .map(|t| t.and_utc().timestamp_millis() as f64)
            .unwrap_or(f64::NAN)
    }

    /// What has the keyboard focus, for deciding whether a key is a shortcut.
    pub fn focus_target() -> crate::model::keys::FocusTarget {
        let active = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element());
        let Some(active) = active else {
            return crate::model::keys::FocusTarget::default();
        };
        let editable = active
            .dyn_ref::<web_sys::HtmlElement>()
            .is_some_and(|e| e.is_content_editable());
        let in_dialog = matches!(
            active.closest("dialog, [role=dialog], [role=alertdialog]"),
            Ok(Some(_))
        );
        crate::model::keys::FocusTarget {
            tag: active.tag_name().to_ascii_lowercase(),
            editable,
            in_dialog,
        }
    }

    fn element(id: &str) -> Option<web_sys::Element> {
        web_sys::window()?.document()?.get_element_by_id(id)
    }

    /// Moves the keyboard focus to the element with this id (if it exists).
    pub fn focus(id: &str) {
        if let Some(e) = element(id).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = e.focus();
        }
    }

    /// Scrolls the page as little as needed to show the element with this id.
    pub fn scroll_into_view(id: &str) {
        if let Some(e) = element(id) {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Nearest);
            e.scroll_into_view_with_scroll_into_view_options(&options);
        }
    }

    fn media(id: &str) -> Option<web_sys::HtmlMediaElement> {
        element(id)?.dyn_into::<web_sys::HtmlMediaElement>().ok()
    }

    /// The playback position (seconds) of the audio or video element with this id.
    pub fn media_time(id: &str) -> Option<f64> {
        media(id).map(|m| m.current_time())
    }

    /// Moves the audio or video element with this id to `seconds` and plays it.
    pub fn media_seek(id: &str, seconds: f64) {
        if let Some(m) = media(id) {
            m.set_current_time(seconds);
            // A refused play() (an expired link) shows as the element's error event.
            let _ = m.play();
        }
    }

    /// Scrolls the page so the element with this id is in the middle of the
    /// window, with what surrounds it in view.
    pub fn scroll_to_center(id: &str) {
        if let Some(e) = element(id) {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Center);
            e.scroll_into_view_with_scroll_into_view_options(&options);
        }
    }

    /// The page's vertical scroll position.
    pub fn scroll_y() -> f64 {
        web_sys::window()
            .and_then(|w| w.scroll_y().ok())
            .unwrap_or_default()
    }

    pub fn scroll_to_y(y: f64) {
        if let Some(w) = web_sys::window() {
            w.scroll_to_with_x_and_y(0.0, y);
        }
    }

    fn session_storage() -> Option<web_sys::Storage> {
        web_sys::window()?.session_storage().ok()?
    }

    /// This tab's sessionStorage (gone when the tab closes).
    pub fn session_get(key: &str) -> Option<String> {
        session_storage()?.get_item(key).ok()?
    }

    pub fn session_set(key: &str, value: &str) {
        if let Some(s) = session_storage() {
            let _ = s.set_item(key, value);
        }
    }

    pub fn session_remove(key: &str) {
        if let Some(s) = session_storage() {
            let _ = s.remove_item(key);
        }
    }

    /// The viewer's own IANA time zone, as the browser reports it.
    pub fn viewer_zone() -> String {
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        js_sys::Reflect::get(&options, &JsValue::from_str("timeZone"))
            .ok()
            .and_then(|v| v.as_string())
            .filter(|z| !z.is_empty())
            .unwrap_or_else(|| "UTC".into())
    }

    /// Saves `text` as a file through a temporary object URL.
    pub fn download(filename: &str, mime: &str, text: &str) -> Result<(), String> {
        let fail = |_| "the browser refused to save the file".to_string();
        let parts = js_sys::Array::of1(&JsValue::from_str(text));
        let bag = web_sys::BlobPropertyBag::new();
        bag.set_type(mime);
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &bag).map_err(fail)?;
        let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(fail)?;
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or("no document")?;
        let a: web_sys::HtmlAnchorElement =
            document.create_element("a").map_err(fail)?.unchecked_into();
        a.set_href(&url);
        a.set_download(filename);
        a.click();
        let _ = web_sys::Url::revoke_object_url(&url);
        Ok(())
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    pub fn now_ms() -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as f64)
            .unwrap_or_default()
    }

    pub async fn sleep_ms(_ms: i32) {}

    pub fn storage_get(_key: &str) -> Option<String> {
        None
    }

    pub fn storage_set(_key: &str, _value: &str) {}

    pub fn storage_remove(_key: &str) {}

    pub fn on_page_return(_f: impl FnMut() + 'static) {}

    pub fn origin() -> String {
        "http://localhost".into()
    }

    pub fn format_in_zone(iso: &str, _zone: &str, _with_date: bool) -> String {
        crate::model::time::utc_label(iso)
    }

    /// The host has no zone data: UTC.
    pub fn zone_offset_ms(_zone: &str, _utc_ms: f64) -> f64 {
        0.0
    }

    pub fn focus_target() -> crate::model::keys::FocusTarget {
        crate::model::keys::FocusTarget::default()
    }

    pub fn focus(_id: &str) {}

    pub fn scroll_into_view(_id: &str) {}

    pub fn scroll_to_center(_id: &str) {}

    pub fn media_time(_id: &str) -> Option<f64> {
        None
    }

    pub fn media_seek(_id: &str, _seconds: f64) {}

    pub fn scroll_y() -> f64 {
        0.0
    }

    pub fn scroll_to_y(_y: f64) {}

    pub fn session_get(_key: &str) -> Option<String> {
        None
    }

    pub fn session_set(_key: &str, _value: &str) {}

    pub fn session_remove(_key: &str) {}

    pub fn viewer_zone() -> String {
        "UTC".into()
    }

    pub fn download(_filename: &str, _mime: &str, _text: &str) -> Result<(), String> {
        Err("downloads need a browser".into())
    }
}

pub use imp::*;

pub fn now_secs() -> i64 {
    (now_ms() / 1000.0) as i64
}
