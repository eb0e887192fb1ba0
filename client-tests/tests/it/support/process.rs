//! Runs one client process (az, a Python script, later kubectl or node) with a bounded wait,
//! stdin closed and output captured, so the in-process server keeps serving meanwhile.

use std::time::{Duration, Instant};

use serde_json::Value;

/// One finished client command.
#[derive(Debug)]
pub struct ClientRun {
    /// The command line, for messages.
    pub command: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl ClientRun {
    /// stdout parsed as JSON; fails the test with the whole run when it is not JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("the client printed no JSON ({e}):\n{self}"))
    }
}

impl std::fmt::Display for ClientRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} -> exit {} in {:.2?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.code, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// Runs `command` (its environment already set) to completion; past `timeout` the process is
/// killed and the test fails.
pub async fn run(mut command: tokio::process::Command, timeout: Duration) -> ClientRun {
    let std_command = command.as_std();
    let line = std::iter::once(std_command.get_program())
        .chain(std_command.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let started = Instant::now();
    let child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {line}: {e}"));
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => panic!("{line}: waiting failed: {e}"),
        Err(_) => panic!("{line} did not finish within {timeout:?} (killed)"),
    };
    ClientRun {
        command: line,
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}
