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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::aws::tests::{base, fake_dynamodb, Fault};
    use crate::outbound::aws::AwsEnv;
    use crate::store::Tables;
    use std::sync::atomic::Ordering;

    /// DynamoDB throttles the counter's write (one corporate NAT): the request
    /// is over the limit, never an error, and this instance writes no more for
    /// the address this hour.
    #[tokio::test]
    async fn a_throttled_counter_write_is_over_the_limit_and_not_tried_again() {
        let (url, attempts) =
            fake_dynamodb(|_| Fault::Answer(400, "ProvisionedThroughputExceededException")).await;
        let env = AwsEnv::from_lookup(move |k| match k {
            "AWS_ENDPOINT_URL_DYNAMODB" => Some(url.clone()),
            _ => base(k),
        })
        .unwrap();
        let tables = Tables::from_lookup(|k| Some(k.to_lowercase())).unwrap();
        let store = Store::new(env.dynamodb(env.http_client()), tables);
        let tenant = TenantDomain::parse("nat.example").unwrap();
        let ip: IpAddr = "198.51.100.9".parse().unwrap();
        let now = UnixTime(1_800_000_000);
        assert!(store.count_ip_request(&tenant, ip, now, 30).await.unwrap());
        let tried = attempts.load(Ordering::SeqCst);
        assert!(tried >= 1, "the write was tried");
        assert!(store.count_ip_request(&tenant, ip, now, 30).await.unwrap());
        assert_eq!(
            attempts.load(Ordering::SeqCst),
            tried,
            "known over: no write"
        );
        // Another address is counted as usual (and throttled too, here).
        let other: IpAddr = "198.51.100.10".parse().unwrap();
        assert!(store
            .count_ip_request(&tenant, other, now, 30)
            .await
            .unwrap());
        assert!(attempts.load(Ordering::SeqCst) > tried);
        // No limit: nothing written at all.
        let before = attempts.load(Ordering::SeqCst);
        assert!(!store
            .count_ip_request(&tenant, other, now, 0)
            .await
            .unwrap());
        assert_eq!(attempts.load(Ordering::SeqCst), before);
    }
}
