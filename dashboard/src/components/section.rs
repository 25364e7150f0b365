//! The one way a part of a page shows that it is loading or has failed.
//!
//! `Section` is an error boundary around a suspense boundary. The component
//! inside loads with its own `use_resource` and takes the value with
//! [`loaded`]`(&r)?` (never a parent's resource: see [`loaded`]):
//! - before the first answer, the section shows "Loading {what}…";
//! - a failure shows the error in words with a Retry button; Retry mounts the
//!   content again, so the resources it owns load afresh (`on_retry` restarts
//!   one owned further up, such as the shell's dealership list);
//! - a reload after the first answer (a new filter, a saved change) keeps the
//!   last value on screen until the new one arrives, so the list does not flash
//!   and focus and scroll stay where they were.

use dioxus::core::CapturedError;
use dioxus::prelude::*;

use crate::api::ApiError;
use crate::components::{ErrorNote, Loading};

#[component]
pub fn Section(
    /// What is loading, for "Loading {what}…".
    what: String,
    /// Called before the content mounts again on Retry.
    on_retry: Option<EventHandler<()>>,
    children: Element,
) -> Element {
    rsx! {
        ErrorBoundary {
            handle_error: move |errors: ErrorContext| {
                let error = errors.error().map(|e| api_error(&e)).unwrap_or(ApiError::Server);
                rsx! {
                    ErrorNote { error, on_retry: move |_| {
                        if let Some(retry) = on_retry {
                            retry.call(());
                        }
                        errors.clear_errors();
                    } }
                }
            },
            SuspenseBoundary {
                fallback: move |_| rsx! { Loading { what: what.clone() } },
                {children}
            }
        }
    }
}

/// The error a section caught, as the words the user sees: ours as they are,
/// anything else (a bug, not the server) as a server problem.
fn api_error(error: &CapturedError) -> ApiError {
    error
        .0
        .downcast_ref::<ApiError>()
        .cloned()
        .unwrap_or(ApiError::Server)
}

/// A resource's value for rendering inside a [`Section`]: suspends until the first
/// answer (and while a failed load is being retried), keeps the last good value
/// while a reload is under way, and throws a failure to the section.
///
/// Only for a resource the calling component owns (`use_resource` in the same
/// component). Dioxus renders a waiting part once more after the user has left
/// the page; if the resource belonged to a component further up, it is gone by
/// then, and reading it panics and stops the whole app (seen: Back pressed while a
/// call was loading). A part that needs a parent's load gets its value as a prop,
/// taken by the parent with [`settled`].
pub fn loaded<T: Clone + 'static>(
    resource: &Resource<Result<T, ApiError>>,
) -> Result<T, RenderError> {
    Ok(settled(resource)??)
}

/// Like [`loaded`], but a failure is returned as a value, for a component that
/// waits for several loads and lets each panel show its own failure (the child
/// panel throws it to its own section with `?`).
pub fn settled<T: Clone + 'static>(
    resource: &Resource<Result<T, ApiError>>,
) -> Result<Result<T, ApiError>, RenderError> {
    let pending = *resource.state().read() == UseResourceState::Pending;
    match &*resource.read() {
        Some(Ok(value)) => Ok(Ok(value.clone())),
        Some(Err(error)) if !pending => Ok(Err(error.clone())),
        _ => Err(resource.suspend().err().unwrap_or_default()),
    }
}
