//! Table creation for `accountctl init` (idempotent). Production tables come
//! from template.yaml; these definitions match it.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TimeToLiveSpecification, TimeToLiveStatus,
};

use super::base::Store;
use crate::outbound::aws::sdk_err;

impl Store {
    /// Creates the tables if missing (the outbox with its stream) and turns on TTL.
    /// Returns one line per table saying what was done.
    pub async fn create_tables(&self) -> anyhow::Result<Vec<String>> {
        let t = self.tables();
        let mut report = Vec::new();
        for name in [&t.users, &t.settings, &t.keys, &t.rate_limits, &t.outbox] {
            // The outbox's stream carries each new mail to the mailer.
            let stream = (name == &t.outbox).then(|| {
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewImage)
                    .build()
            });
            let res = self
                .client()
                .create_table()
                .table_name(name)
                .set_stream_specification(stream.transpose()?)
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name("pk")
                        .attribute_type(ScalarAttributeType::S)
                        .build()?,
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name("pk")
                        .key_type(KeyType::Hash)
                        .build()?,
                )
                .billing_mode(BillingMode::PayPerRequest)
                .send()
                .await;
            match res {
                Ok(_) => report.push(format!("created table {name}")),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_resource_in_use_exception()) =>
                {
                    report.push(format!("table {name} exists"))
                }
                Err(e) => return Err(sdk_err(e, "CreateTable")),
            }
        }
        for table in [&t.keys, &t.rate_limits, &t.outbox] {
            report.push(self.enable_ttl(table).await?);
        }
        Ok(report)
    }

    async fn enable_ttl(&self, table: &str) -> anyhow::Result<String> {
        let ttl = self
            .client()
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
            .map_err(|e| sdk_err(e, "DescribeTimeToLive"))?;
        let enabled = ttl
            .time_to_live_description()
            .and_then(|d| d.time_to_live_status())
            .is_some_and(|s| matches!(s, TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling));
        if enabled {
            return Ok(format!("TTL on {table}.ttl is on"));
        }
        let res = self
            .client()
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name("ttl")
                    .enabled(true)
                    .build()?,
            )
            .send()
            .await;
        match res {
            Ok(_) => Ok(format!("turned on TTL on {table}.ttl")),
            // Another `init` (parallel tests) turned it on between our look and our change.
            Err(e)
                if e.as_service_error()
                    .and_then(|e| e.meta().message())
                    .is_some_and(|m| m.contains("already enabled")) =>
            {
                Ok(format!("TTL on {table}.ttl is on"))
            }
            Err(e) => Err(sdk_err(e, "UpdateTimeToLive")),
        }
    }
}
