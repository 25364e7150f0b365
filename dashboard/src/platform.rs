//! The few browser facilities the app uses (clock, timers, localStorage, Intl time
//! formatting, file download), behind plain functions. On the host (unit tests,
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
            _ => crate::time::utc_label(iso),
        }
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
        crate::time::utc_label(iso)
    }

    pub fn download(_filename: &str, _mime: &str, _text: &str) -> Result<(), String> {
        Err("downloads need a browser".into())
    }
}

pub use imp::*;

pub fn now_secs() -> i64 {
    (now_ms() / 1000.0) as i64
}
