//! Istio revision tags, as `istioctl tag set <tag> --revision asm-X-Y --istioNamespace
//! aks-istio-system` makes them (the add-on's documented upgrade flow, `istio-upgrade.md`): a
//! MutatingWebhookConfiguration `istio-revision-tag-<tag>` labelled `istio.io/tag=<tag>` and
//! `istio.io/rev=asm-X-Y`, whose webhooks call that revision's istiod for namespaces (or pods)
//! labelled `istio.io/rev=<tag>`. Re-pointing the tag (`--overwrite`) changes the label; new
//! pods then get the other revision. Such a webhook is the user's, not a self-managed Istio
//! (`Plane::has_self_managed_istio`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{inject, str_at, Plane};

/// The name prefix of a tag's webhook configuration.
pub const TAG_WEBHOOK_PREFIX: &str = "istio-revision-tag-";

const MUTATING_WEBHOOKS: &str = "admissionregistration.k8s.io/mutatingwebhookconfigurations/";

impl Plane {
    /// Tag → revision, from the tags' webhook configurations.
    pub fn revision_tags(&self) -> BTreeMap<String, String> {
        self.objects
            .range(MUTATING_WEBHOOKS.to_owned()..)
            .take_while(|(k, _)| k.starts_with(MUTATING_WEBHOOKS))
            .filter(|(_, o)| str_at(o, "/metadata/name").starts_with(TAG_WEBHOOK_PREFIX))
            .filter_map(|(_, o)| {
                let tag = str_at(o, "/metadata/labels/istio.io~1tag");
                let rev = str_at(o, "/metadata/labels/istio.io~1rev");
                (!tag.is_empty() && !rev.is_empty()).then(|| (tag.to_owned(), rev.to_owned()))
            })
            .collect()
    }

    /// The installed revision a new pod gets (`inject::revision_for`), a tag in an
    /// `istio.io/rev` label standing for the revision it points at.
    pub(super) fn injection_revision(
        &self,
        pod: &Value,
        namespace_labels: &BTreeMap<String, String>,
    ) -> Option<String> {
        let tags = self.revision_tags();
        let resolve = |v: &str| -> Option<String> {
            (!self.mesh.revisions.iter().any(|r| r == v))
                .then(|| tags.get(v).cloned())
                .flatten()
        };
        let mut ns = namespace_labels.clone();
        if let Some(rev) = ns.get("istio.io/rev").and_then(|v| resolve(v)) {
            ns.insert("istio.io/rev".to_owned(), rev);
        }
        let pod_rev = str_at(pod, "/metadata/labels/istio.io~1rev");
        match resolve(pod_rev) {
            Some(rev) if !pod_rev.is_empty() => {
                let mut pod = pod.clone();
                pod["metadata"]["labels"]["istio.io/rev"] = rev.into();
                inject::revision_for(&pod, &ns, &self.mesh)
            }
            _ => inject::revision_for(pod, &ns, &self.mesh),
        }
    }
}
