//! The per-source-IP recovery counter: one atomic `ADD` per request while the
//! address is under its limit, spread over shards for high limits; none once
//! this instance knows the address is over the limit for the hour.

use std::net::IpAddr;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::ReturnValue;

use super::base::Store;
use super::items::{self, n, s};
use crate::model::domain::TenantDomain;
use crate::model::recovery::{ip_counter_shards, ip_over_limit, RecoveryWindow};
use crate::model::time::UnixTime;
use crate::outbound::aws::{is_throttling, sdk_err};

impl Store {
    /// Counts one recovery request from `ip` in the hour of `now` and says
    /// whether it is over `limit` (0: no limit, nothing written). A throttled
    /// write means the address is busy beyond any limit: over, never an error.
    pub async fn count_ip_request(
        &self,
        tenant: &TenantDomain,
        ip: IpAddr,
        now: UnixTime,
        limit: u32,
    ) -> anyhow::Result<bool> {
        if limit == 0 {
            return Ok(false);
        }
        let hour = RecoveryWindow::hour_of(now);
        let id = format!("{tenant}#{ip}");
        if self.over_limit.known(&id, hour) {
            return Ok(true);
        }
        let shards = ip_counter_shards(limit);
        let pk = if shards > 1 {
            let shard = uuid::Uuid::new_v4().as_u128() % u128::from(shards);
            format!("ip#{id}#{hour}#{shard}")
        } else {
            format!("ip#{id}#{hour}")
        };
        let res = self
            .client()
            .update_item()
            .table_name(&self.tables().rate_limits)
            .key("pk", s(pk))
            .update_expression("ADD n :one SET #ttl = :ttl")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            // Kept an hour past its window, then removed by TTL.
            .expression_attribute_values(":ttl", n((hour + 2) * 3600))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        let out = match res {
            Ok(out) => out,
            Err(e) if is_throttling(e.as_service_error().and_then(|e| e.code())) => {
                tracing::warn!(
                    outcome = "ip_counter_throttled",
                    "per-IP counter throttled: over the limit"
                );
                self.over_limit.remember(id, hour);
                return Ok(true);
            }
            Err(e) => return Err(sdk_err(e, "UpdateItem rate limit")),
        };
        let count = items::count(&out.attributes.unwrap_or_default(), "n")?;
        let over = ip_over_limit(count, shards, limit);
        if over {
            self.over_limit.remember(id, hour);
        }
        Ok(over)
    }
}
