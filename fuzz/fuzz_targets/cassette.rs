//! Cassettes (`aksim parity`): parse with file-and-line errors, round trip, self-comparison,
//! replay plan, scenario conversion. The checks live in `aksim::hostile::check_cassette`
//! (shared with sim/tests/hostile_props.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(finding) = aksim::hostile::check_cassette(data) {
        panic!("{finding}");
    }
});
