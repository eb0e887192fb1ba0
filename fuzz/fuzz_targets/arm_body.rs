//! ARM request bodies: managedCluster PUT (create, update) and PATCH, resource group PUT and PATCH.
//! The checks live in `aksim::hostile::check_arm_body` (shared with sim/tests/hostile_props.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(finding) = aksim::hostile::check_arm_body(data) {
        panic!("{finding}");
    }
});
