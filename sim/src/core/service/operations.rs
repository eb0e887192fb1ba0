//! Operation status: a poll of an operation's status URL.

use crate::core::error::{Error, Result};
use crate::core::ops::Operation;
use crate::core::subscription::Effect;
use crate::core::Core;

impl Core {
    /// Counts a poll of operation `id` (scripted operations finish after N polls), settles,
    /// and returns the operation as it is now — when it is served under `namespace` (`None`:
    /// ARM's own `operationresults`). A provider's operations need the provider registered.
    pub fn poll_operation(
        &self,
        sub: &str,
        id: &str,
        namespace: Option<&str>,
    ) -> Result<Operation<Effect>> {
        let now = self.now();
        self.store
            .with(sub, now, |s| {
                if let Some(namespace) = namespace {
                    self.require_registered(s, namespace, now)?;
                }
                Ok(s.poll_operation(id, now))
            })?
            .filter(|op| op.namespace.as_deref() == namespace)
            .ok_or_else(|| Error::operation_not_found(id))
    }
}
