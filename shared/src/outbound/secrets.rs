//! Secrets read once at cold start. Locally (and in tests) from the variable
//! itself; in AWS never from an environment variable: `{NAME}_SECRET_ID` names
//! a Secrets Manager secret, read through the AWS Parameters and Secrets
//! Lambda Extension on its loopback port, which needs no SDK in the bootstrap.

use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use serde::Deserialize;

use super::https::Https;
use crate::env::ConfigError;

/// The extension's default port (`PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` changes it).
const EXTENSION_PORT: &str = "2773";

#[derive(Deserialize)]
struct SecretValue {
    #[serde(rename = "SecretString")]
    secret_string: String,
}

/// Where the AWS Parameters and Secrets Lambda Extension listens, and the
/// token it asks for (the function's session token), read once at init.
#[derive(Debug, Clone, Default)]
pub struct Extension {
    port: String,
    token: String,
}

impl Extension {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            port: get("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT")
                .unwrap_or_else(|| EXTENSION_PORT.into()),
            token: get("AWS_SESSION_TOKEN").unwrap_or_default(),
        }
    }

    /// The `SecretString` of Secrets Manager's secret `id`, within 5 s. The
    /// error never holds the secret (nor the extension's answer).
    pub async fn secret_string(&self, http: &Https, id: &str) -> Result<String, String> {
        let mut request = HttpRequest::new(SdkBody::empty());
        let uri = format!(
            "http://127.0.0.1:{}/secretsmanager/get?secretId={}",
            self.port,
            url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
        );
        request.set_uri(uri.as_str()).map_err(|e| e.to_string())?;
        request
            .headers_mut()
            .insert("X-Aws-Parameters-Secrets-Token", self.token.clone());
        tokio::time::timeout(Duration::from_secs(5), async {
            let (status, body) = http.fetch_all(request).await?;
            if status != 200 {
                // The body may hold nothing secret (an error message), but is not shown anyway.
                return Err(format!("the secrets extension answered HTTP {status}"));
            }
            serde_json::from_slice::<SecretValue>(&body)
                .map(|v| v.secret_string)
                .map_err(|_| "the secrets extension's answer holds no SecretString".to_string())
        })
        .await
        .map_err(|_| "the secrets extension did not answer within 5 s".to_string())?
    }
}

/// The secret `name`: the variable `name` when it is set (local runs), else the
/// Secrets Manager secret `{name}_SECRET_ID` names, through the extension.
pub async fn secret(
    get: impl Fn(&str) -> Option<String>,
    http: &Https,
    name: &str,
) -> Result<String, ConfigError> {
    if let Some(v) = get(name).filter(|v| !v.trim().is_empty()) {
        return Ok(v);
    }
    let id_var = format!("{name}_SECRET_ID");
    let Some(id) = get(&id_var).filter(|v| !v.trim().is_empty()) else {
        return Err(ConfigError::new(format!(
            "{name} is not set, nor {id_var} (the secret that holds it)"
        )));
    };
    Extension::from_lookup(&get)
        .secret_string(http, &id)
        .await
        .map_err(|m| ConfigError::new(format!("{id_var}: {m}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_local_value_wins_then_the_extension_is_asked_with_the_session_token() {
        let http = super::super::aws::web_client(
            super::super::aws::Trust::Bundled,
            Duration::from_secs(1),
        );
        let v = secret(|k| (k == "S").then(|| "local".into()), &http, "S")
            .await
            .unwrap();
        assert_eq!(v, "local");
        assert!(secret(|_| None, &http, "S")
            .await
            .unwrap_err()
            .to_string()
            .contains("S_SECRET_ID"));

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let n = sock.read(&mut buf).await.unwrap();
            let head = String::from_utf8_lossy(&buf[..n]).to_string();
            let body = r#"{"Name":"x","SecretString":"from-secrets-manager"}"#;
            let res = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            sock.write_all(res.as_bytes()).await.unwrap();
            head
        });
        let env = move |k: &str| match k {
            "S_SECRET_ID" => Some("arn:aws:secretsmanager:eu-west-1:1:secret:s".to_string()),
            "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT" => Some(port.clone()),
            "AWS_SESSION_TOKEN" => Some("session-token".to_string()),
            _ => None,
        };
        assert_eq!(
            secret(env, &http, "S").await.unwrap(),
            "from-secrets-manager"
        );
        let head = server.await.unwrap().to_ascii_lowercase();
        assert!(
            head.starts_with("get /secretsmanager/get?secretid=arn%3aaws%3asecretsmanager"),
            "{head}"
        );
        assert!(
            head.contains("x-aws-parameters-secrets-token: session-token"),
            "{head}"
        );
    }
}
