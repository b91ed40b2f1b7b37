//! The HTTP edge: request parsing, one handler shape, one error table, one
//! route table. Handlers here only translate between HTTP and the use cases.

mod entry;
pub mod error;
mod lockout;
mod page;
mod recovery;
pub mod request;
mod response;
pub mod routes;
mod serve;

pub use entry::{dispatch, login_function, recover_password_function, set_password_function};
pub use error::{respond, sentences};
pub use lockout::{introspect, jwks, lock_user, login};
pub use page::{new_link_form, reset_form, reset_page};
pub use recovery::{
    captcha, password_policy, recover_password, resend_code, set_password, validate_code,
};
pub use response::{empty, json, text, user_json};
pub use routes::{Endpoint, Function, Route, ROUTES};

/// Request parsing of every endpoint, on its own: what the fuzz targets drive.
pub mod parse {
    pub use super::lockout::{parse_introspect, parse_lock, parse_login};
    pub use super::recovery::{
        parse_recover, parse_resend, parse_set_password, parse_validate_code,
    };
}
