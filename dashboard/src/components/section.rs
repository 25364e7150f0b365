//! The one way a part of a page shows that it is loading or has failed.
//!
//! `Section` is an error boundary around a suspense boundary. The component
//! inside loads with `use_resource` and takes the value with [`loaded`]`(&r)?`:
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
pub fn loaded<T: Clone + 'static>(
    resource: &Resource<Result<T, ApiError>>,
) -> Result<T, RenderError> {
    let pending = *resource.state().read() == UseResourceState::Pending;
    match &*resource.read() {
        Some(Ok(value)) => Ok(value.clone()),
        Some(Err(error)) if !pending => Err(error.clone().into()),
        _ => Err(resource.suspend().err().unwrap_or_default()),
    }
}
