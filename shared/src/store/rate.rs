//! The per-source-IP recovery counter: one atomic `ADD` per request.

use std::net::IpAddr;

use aws_sdk_dynamodb::types::ReturnValue;

use super::base::Store;
use super::items::{self, n, s};
use crate::model::domain::TenantDomain;
use crate::model::recovery::RecoveryWindow;
use crate::model::time::UnixTime;
use crate::outbound::aws::sdk_err;

impl Store {
    /// Counts one recovery request from `ip` in the hour of `now` and returns the
    /// count so far. One atomic `ADD`, whatever the outcome of the request.
    pub async fn count_ip_request(
        &self,
        tenant: &TenantDomain,
        ip: IpAddr,
        now: UnixTime,
    ) -> anyhow::Result<u32> {
        let hour = RecoveryWindow::hour_of(now);
        let out = self
            .client()
            .update_item()
            .table_name(&self.tables().rate_limits)
            .key("pk", s(format!("ip#{tenant}#{ip}#{hour}")))
            .update_expression("ADD n :one SET #ttl = :ttl")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            // Kept an hour past its window, then removed by TTL.
            .expression_attribute_values(":ttl", n((hour + 2) * 3600))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| sdk_err(e, "UpdateItem rate limit"))?;
        items::count(&out.attributes.unwrap_or_default(), "n")
    }
}
