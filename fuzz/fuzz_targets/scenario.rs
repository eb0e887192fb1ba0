//! Scenario files (YAML or JSON): parse, validate, round trip, placeholders and JSON paths.
//! The checks live in `aksim::hostile::check_scenario` (shared with sim/tests/hostile_props.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(finding) = aksim::hostile::check_scenario(data) {
        panic!("{finding}");
    }
});
