//! Request paths: ArmPath::parse on any string, then the router (ARM routing, identity, /k8s/ planes, /_sim).
//! The checks live in `aksim::hostile::check_path` (shared with sim/tests/hostile_props.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(finding) = aksim::hostile::check_path(data) {
        panic!("{finding}");
    }
});
