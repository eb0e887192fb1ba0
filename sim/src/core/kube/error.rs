//! The plane's refusals, in Kubernetes' vocabulary (kube-apiserver's reasons); the wire
//! renders each as the `Status` kube-apiserver would send (`kubeapi::status`).

/// The group and plural resource an error is about (`namespaces`, `deployments.apps`,
/// `virtualservices.networking.istio.io`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupResource {
    pub group: String,
    pub resource: String,
}

impl GroupResource {
    pub fn new(group: &str, resource: &str) -> Self {
        GroupResource {
            group: group.to_owned(),
            resource: resource.to_owned(),
        }
    }

    /// `resource` for the core group, `resource.group` otherwise (kube-apiserver's spelling).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
}

/// One field error of an `Invalid` status (`details.causes[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueTooLong`, ...
    pub reason: &'static str,
    /// `metadata.name`, `metadata.labels`, ...
    pub field: String,
    /// What kube-apiserver prints after the field: `Invalid value: "x": must be ...`.
    pub message: String,
}

impl Cause {
    pub fn invalid(field: &str, value: &str, detail: &str) -> Self {
        Cause {
            reason: "FieldValueInvalid",
            field: field.to_owned(),
            message: format!("Invalid value: {}: {detail}", quote(value)),
        }
    }

    pub fn required(field: &str, detail: &str) -> Self {
        Cause {
            reason: "FieldValueRequired",
            field: field.to_owned(),
            message: if detail.is_empty() {
                "Required value".to_owned()
            } else {
                format!("Required value: {detail}")
            },
        }
    }

    /// `Invalid value: <value>: detail` with the value as kube-apiserver prints it (numbers
    /// bare, structs and maps in Go's `%#v`).
    pub fn invalid_raw(field: &str, rendered: &str, detail: &str) -> Self {
        Cause {
            reason: "FieldValueInvalid",
            field: field.to_owned(),
            message: format!("Invalid value: {rendered}: {detail}"),
        }
    }

    /// `Unsupported value: "x": supported values: "a", "b"`.
    pub fn unsupported(field: &str, value: &str, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|s| quote(s)).collect();
        Cause {
            reason: "FieldValueNotSupported",
            field: field.to_owned(),
            message: format!(
                "Unsupported value: {}: supported values: {}",
                quote(value),
                list.join(", ")
            ),
        }
    }

    pub fn forbidden(field: &str, detail: &str) -> Self {
        Cause {
            reason: "FieldValueForbidden",
            field: field.to_owned(),
            message: format!("Forbidden: {detail}"),
        }
    }

    /// `field: message`, as kube-apiserver joins them into the status message.
    pub fn line(&self) -> String {
        format!("{}: {}", self.field, self.message)
    }
}

/// Go's `%q` for the strings aksim quotes (names, label values).
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// A refusal of the plane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    NotFound {
        resource: GroupResource,
        name: String,
    },
    AlreadyExists {
        resource: GroupResource,
        name: String,
    },
    /// A write that carried a stale `metadata.resourceVersion`.
    Conflict {
        resource: GroupResource,
        name: String,
    },
    /// Field errors (422).
    Invalid {
        kind: String,
        group: String,
        name: String,
        causes: Vec<Cause>,
    },
    Forbidden {
        resource: GroupResource,
        name: String,
        why: String,
    },
    /// Creating content in a namespace that is being deleted.
    NamespaceTerminating {
        resource: GroupResource,
        name: String,
        namespace: String,
    },
    /// A validating admission webhook said no.
    WebhookDenied {
        webhook: String,
        reason: String,
    },
    BadRequest(String),
    /// kube-apiserver's bare 422 (a JSON patch whose operations fail): reason `Invalid`, no
    /// details.
    Unprocessable,
    /// Server-side apply would change fields other managers own (409, `FieldManagerConflict`
    /// causes: message and field).
    ApplyConflict {
        message: String,
        causes: Vec<(String, String)>,
    },
    /// A watch resumed from a `resourceVersion` older than the retained history.
    Gone(u64),
    /// A quota aksim enforces (objects per plane).
    TooMany {
        what: &'static str,
        limit: usize,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn not_found(resource: &GroupResource, name: &str) -> Self {
        Error::NotFound {
            resource: resource.clone(),
            name: name.to_owned(),
        }
    }

    pub fn already_exists(resource: &GroupResource, name: &str) -> Self {
        Error::AlreadyExists {
            resource: resource.clone(),
            name: name.to_owned(),
        }
    }

    pub fn conflict(resource: &GroupResource, name: &str) -> Self {
        Error::Conflict {
            resource: resource.clone(),
            name: name.to_owned(),
        }
    }

    pub fn invalid(kind: &str, group: &str, name: &str, causes: Vec<Cause>) -> Self {
        Error::Invalid {
            kind: kind.to_owned(),
            group: group.to_owned(),
            name: name.to_owned(),
            causes,
        }
    }

    pub fn forbidden(resource: &GroupResource, name: &str, why: &str) -> Self {
        Error::Forbidden {
            resource: resource.clone(),
            name: name.to_owned(),
            why: why.to_owned(),
        }
    }

    pub fn namespace_terminating(resource: &GroupResource, name: &str, namespace: &str) -> Self {
        Error::NamespaceTerminating {
            resource: resource.clone(),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
        }
    }

    pub fn webhook_denied(webhook: &str, reason: &str) -> Self {
        Error::WebhookDenied {
            webhook: webhook.to_owned(),
            reason: reason.to_owned(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Error::BadRequest(message.into())
    }

    pub fn unprocessable() -> Self {
        Error::Unprocessable
    }

    pub fn apply_conflict(message: String, causes: Vec<(String, String)>) -> Self {
        Error::ApplyConflict { message, causes }
    }

    pub fn gone(rv: u64) -> Self {
        Error::Gone(rv)
    }

    pub fn too_many(what: &'static str, limit: usize) -> Self {
        Error::TooMany { what, limit }
    }
}
