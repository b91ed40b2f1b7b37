//! Outbound HTTP: the one HTTPS client (hyper-util on rustls), the SDK clients
//! built on it from Lambda's environment, the trust roots, and the reCAPTCHA
//! verifier. Adapters: they know the model, never the use cases.

pub mod aws;
pub mod captcha;
pub mod https;
pub mod secrets;
