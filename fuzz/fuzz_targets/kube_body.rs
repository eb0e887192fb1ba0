//! Kubernetes request bodies: create, replace, merge/strategic/JSON patch, YAML and protobuf, pod injection.
//! The checks live in `aksim::hostile::check_kube_body` (shared with sim/tests/hostile_props.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(finding) = aksim::hostile::check_kube_body(data) {
        panic!("{finding}");
    }
});
