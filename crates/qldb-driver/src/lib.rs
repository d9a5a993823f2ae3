//! placeholder
#[cfg(feature = "http")]
pub use aws_sdk_qldbsession as _sdk;
