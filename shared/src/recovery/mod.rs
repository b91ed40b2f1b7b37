//! Password recovery by email: start (recover-password), resend (resend-code),
//! check a key (validate-code) and finish (set-password). recover-password and resend-code pass the same
//! gate and answer with the same error type.

mod gate;
mod recover;
mod resend;
mod set_password;
mod validate;

pub use gate::{Need, RecoveryError, RecoveryPorts};
pub use recover::{recover_password, RecoverRequest, Recovered};
pub use resend::{resend_code, ResendRequest};
pub use set_password::{set_password, PasswordSet, SetPasswordError, SetPasswordRequest};
pub use validate::{validate_code, ValidateCodeError, ValidateCodeRequest, UPDATE_PASSWORD};
