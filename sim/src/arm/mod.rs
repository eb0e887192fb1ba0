//! ARM's cross-cutting machinery: errors, paths, the api-version catalogue, the request and
//! response types every provider handler uses, long-running operations and ETags.

pub mod api_version;
pub mod error;
pub mod path;
pub mod request;

pub use error::{ArmError, ArmResult};
pub use request::{ArmRequest, ArmResponse};
