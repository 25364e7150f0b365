//! The customer's number: the browser only ever gets its last 4 digits
//! (`calls.customer_phone_last4`); the full number comes from
//! `reveal_customer_phone`, which the database allows to a csm or manager who
//! may follow up on the call and records in `phone_reveals`.

use serde_json::json;

use super::{Api, ApiError};

impl Api {
    pub async fn reveal_customer_phone(
        &self,
        dealership_id: &str,
        call_id: &str,
    ) -> Result<String, ApiError> {
        self.rpc(
            "reveal_customer_phone",
            &json!({ "p_dealership_id": dealership_id, "p_call_id": call_id }),
        )
        .await
    }
}
