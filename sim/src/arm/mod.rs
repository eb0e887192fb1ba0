//! ARM on the wire: the error envelope, paths, the api-version check, the request and
//! response types every provider adapter uses, long-running operations' status URLs, paging.

pub mod api_version;
pub mod error;
pub mod operation;
pub mod paging;
pub mod path;
pub mod request;

pub use error::{ArmError, ArmResult};
pub use request::{ArmRequest, ArmResponse};
