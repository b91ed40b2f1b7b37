//! The functions' one HTTP stack: hyper-util's pooled HTTP/1.1 client on rustls
//! (ring), behind the SDK's `HttpClient` trait and used as is for reCAPTCHA.
//!
//! Not aws-smithy-http-client: it links HTTP/2 (h2) and a connection pool of its
//! own, ~0.3 MB of every bootstrap, while DynamoDB, SES and reCAPTCHA all answer
//! HTTP/1.1 and lambda_runtime already links this client for the Runtime API.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

/// A pooled HTTPS (and plain HTTP, for emulators) client. Cheap to clone.
#[derive(Clone)]
pub struct Https {
    client: Client<HttpsConnector<TcpConnector>, SdkBody>,
}

impl Https {
    /// Sends `request` and reads the whole answer: its status and body. The
    /// error is the connector's or the body's, never the request's content.
    pub async fn fetch_all(&self, request: HttpRequest) -> Result<(u16, Vec<u8>), String> {
        use aws_smithy_runtime_api::client::http::HttpConnector as _;
        let response = self.call(request).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = aws_smithy_types::byte_stream::ByteStream::new(response.into_body())
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .into_bytes();
        Ok((status, body.to_vec()))
    }
}

impl fmt::Debug for Https {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Https")
    }
}

/// Roots from PEM text (a bad bundle is a build error of ours, so it panics).
pub fn pem_roots(pem: &[u8]) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        roots
            .add(cert.expect("bundled PEM parses"))
            .expect("bundled root is a valid certificate");
    }
    roots
}

/// The system's trust store (`TRUST_STORE=system`); unreadable entries are skipped.
pub fn system_roots() -> RootCertStore {
    let found = rustls_native_certs::load_native_certs();
    for e in &found.errors {
        tracing::warn!(error = %e, "system trust store entry skipped");
    }
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(found.certs);
    roots
}

impl Https {
    pub fn new(roots: RootCertStore, connect_timeout: Duration) -> Self {
        let mut tcp = TcpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(connect_timeout));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring offers TLS 1.2 and 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        // Idle connections are kept below the ~350 s after which AWS closes them.
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
        Self { client }
    }

    pub async fn send(
        &self,
        request: lambda_http::http::Request<SdkBody>,
    ) -> Result<HttpResponse, ConnectorError> {
        match self.client.request(request).await {
            Ok(response) => HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|e| ConnectorError::other(e.into(), None)),
            Err(e) => Err(classify(e)),
        }
    }
}

impl HttpConnector for Https {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(r) => r,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
        };
        let this = self.clone();
        HttpConnectorFuture::new(async move { this.send(request).await })
    }
}

impl HttpClient for Https {
    /// One connector for every setting: the clients' own timeouts bound each attempt.
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

fn find_source<'a, E: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// What the SDK's retry strategy needs to know: connection and I/O failures and
/// time-outs are retried, a request we built wrong is not.
fn classify(err: hyper_util::client::legacy::Error) -> ConnectorError {
    let io = err.is_connect() || find_source::<std::io::Error>(&err).is_some();
    let kind = find_source::<hyper::Error>(&err).map(|h| {
        if h.is_timeout() {
            Kind::Timeout
        } else if h.is_user() {
            Kind::User
        } else if h.is_closed() || h.is_canceled() {
            Kind::Io
        } else if h.is_incomplete_message() {
            // A pooled connection the server had closed as the request went out.
            Kind::Transient
        } else {
            Kind::Other
        }
    });
    let boxed: Box<dyn StdError + Send + Sync> = Box::new(err);
    match kind {
        Some(Kind::Timeout) => ConnectorError::timeout(boxed),
        Some(Kind::User) => ConnectorError::user(boxed),
        Some(Kind::Io) => ConnectorError::io(boxed),
        Some(Kind::Transient) => ConnectorError::other(boxed, Some(ErrorKind::TransientError)),
        _ if io => ConnectorError::io(boxed),
        _ => ConnectorError::other(boxed, None),
    }
}

enum Kind {
    Timeout,
    User,
    Io,
    Transient,
    Other,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_connection_is_a_retryable_io_error() {
        // Nothing listens on port 9 of loopback (discard) here.
        let https = Https::new(RootCertStore::empty(), Duration::from_secs(1));
        let req = lambda_http::http::Request::get("http://127.0.0.1:9/")
            .body(SdkBody::empty())
            .unwrap();
        let e = https.send(req).await.unwrap_err();
        assert!(e.is_io(), "{e:?}");
    }

    /// A TLS server on loopback with a certificate for `localhost` from a CA of the test's own.
    async fn tls_server(ca: &rcgen::Issuer<'static, rcgen::KeyPair>) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(&key, ca)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
            )
            .unwrap();
        // The server would take HTTP/2 if the client offered it.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                    }
                    let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
                    let body = String::from_utf8_lossy(&alpn.unwrap_or_default()).into_owned();
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(answer.as_bytes()).await;
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn https_verifies_the_server_against_the_given_roots_and_speaks_http1() {
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let port = tls_server(&issuer).await;
        let get = |https: Https| async move {
            let req = lambda_http::http::Request::get(format!("https://localhost:{port}/"))
                .body(SdkBody::empty())
                .unwrap();
            https.send(req).await
        };

        let trusted = Https::new(pem_roots(ca_cert.pem().as_bytes()), Duration::from_secs(2));
        let res = get(trusted).await.expect("the server's CA is trusted");
        assert_eq!(res.status().as_u16(), 200);
        // The client offered no ALPN (HTTP/1.1), so no HTTP/2 though the server prefers
        // it (the body is the protocol the server chose).
        let body = aws_smithy_types::byte_stream::ByteStream::new(res.into_body())
            .collect()
            .await
            .unwrap()
            .into_bytes();
        assert_eq!(&body[..], b"");

        // The bundled AWS roots do not vouch for this server.
        let aws = Https::new(
            pem_roots(include_bytes!("../../certs/aws-roots.pem")),
            Duration::from_secs(2),
        );
        let e = get(aws).await.expect_err("an unknown CA is refused");
        assert!(!e.is_timeout(), "{e:?}");
    }
}
