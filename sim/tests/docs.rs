//! The documentation against what it documents: the user guide's flag table is the one clap
//! defines (`AKSIM_BLESS=1 cargo test -p aksim --test docs` rewrites it), the docs index links
//! every page, every relative link resolves, and the Dockerfile's environment, volumes and
//! health check fit the binary's flags (no Docker engine here: its health check command is
//! run against a real `aksim` with the image's environment instead).

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const BEGIN: &str = "<!-- flags:begin -->\n";
const END: &str = "<!-- flags:end -->";

#[test]
fn the_user_guide_lists_every_flag_as_clap_defines_it() {
    let guide = read("docs/user-guide.md");
    let start = guide.find(BEGIN).expect("the flags:begin marker") + BEGIN.len();
    let end = guide.find(END).expect("the flags:end marker");
    let wanted = aksim::cli::flags_markdown();
    if guide[start..end] == wanted {
        return;
    }
    if std::env::var_os("AKSIM_BLESS").is_some() {
        let updated = format!("{}{wanted}{}", &guide[..start], &guide[end..]);
        std::fs::write(repo().join("docs/user-guide.md"), updated).unwrap();
        return;
    }
    panic!(
        "docs/user-guide.md's flag table is stale; rewrite it with \
         `AKSIM_BLESS=1 cargo test -p aksim --test docs`. It should be:\n{wanted}"
    );
}

#[test]
fn the_flag_table_has_every_flag_and_variable() {
    let table = aksim::cli::flags_markdown();
    use clap::CommandFactory;
    let mut command = aksim::cli::Cli::command();
    command.build();
    let mut flags = 0;
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if matches!(long, "help" | "version") {
            continue;
        }
        flags += 1;
        assert!(table.contains(&format!("`--{long}")), "--{long} missing");
        if let Some(env) = arg.get_env() {
            assert!(
                table.contains(&format!("`{}`", env.to_string_lossy())),
                "{env:?}"
            );
        }
    }
    assert!(flags >= 22, "{flags} flags");
    assert_eq!(
        table.lines().count(),
        flags + 2,
        "one row per flag:\n{table}"
    );
}

/// Relative link targets in a Markdown file (anchors and URLs aside).
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = &rest[..end];
        if !target.contains("://") && !target.starts_with('#') && !target.starts_with("mailto:") {
            out.push(target.split('#').next().unwrap_or("").to_owned());
        }
    }
    out
}

#[test]
fn every_relative_link_resolves() {
    let mut pages = vec![
        "README.md".to_owned(),
        "ARCHITECTURE.md".to_owned(),
        "pytest-aksim/README.md".to_owned(),
    ];
    for entry in std::fs::read_dir(repo().join("docs")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            pages.push(format!("docs/{name}"));
        }
    }
    let mut broken = Vec::new();
    for page in &pages {
        let dir = repo().join(page);
        let dir = dir.parent().unwrap();
        for target in links(&read(page)) {
            if !target.is_empty() && !dir.join(&target).exists() {
                broken.push(format!("{page}: {target}"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn one_docs_index_links_every_page() {
    let index = read("docs/README.md");
    let linked = links(&index);
    for entry in std::fs::read_dir(repo().join("docs")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if (name.ends_with(".md") || name.ends_with(".json")) && name != "README.md" {
            assert!(
                linked.contains(&name),
                "docs/README.md does not link {name}"
            );
        }
    }
    assert!(links(&read("README.md")).contains(&"docs/README.md".to_owned()));
    let guide = links(&read("docs/user-guide.md"));
    for page in ["control-api.md", "troubleshooting.md", "scenarios.md"] {
        assert!(
            guide.contains(&page.to_owned()),
            "the user guide links {page}"
        );
    }
}

/// `ENV`, `VOLUME` and `HEALTHCHECK` of the runtime stage, as written.
struct Image {
    env: Vec<(String, String)>,
    volumes: Vec<String>,
    healthcheck: Vec<String>,
}

fn image() -> Image {
    let text = read("Dockerfile").replace("\\\n", " ");
    let runtime = text.rsplit("\nFROM ").next().expect("a runtime stage");
    let mut image = Image {
        env: Vec::new(),
        volumes: Vec::new(),
        healthcheck: Vec::new(),
    };
    for line in runtime.lines() {
        if let Some(rest) = line.strip_prefix("ENV ") {
            for pair in rest.split_whitespace() {
                let (k, v) = pair.split_once('=').expect("ENV K=V");
                image.env.push((k.to_owned(), v.to_owned()));
            }
        } else if let Some(rest) = line.strip_prefix("VOLUME ") {
            image.volumes = serde_json::from_str(rest.trim()).expect("VOLUME [json]");
        } else if let Some(rest) = line.strip_prefix("HEALTHCHECK ") {
            let cmd = rest.split("CMD ").nth(1).expect("HEALTHCHECK … CMD [json]");
            image.healthcheck = serde_json::from_str(cmd.trim()).expect("CMD [json]");
        }
    }
    image
}

#[test]
fn the_image_keeps_its_ca_and_state_in_volumes_and_checks_its_health() {
    let image = image();
    use clap::CommandFactory;
    let known: Vec<String> = aksim::cli::Cli::command()
        .get_arguments()
        .filter_map(|a| a.get_env().map(|e| e.to_string_lossy().into_owned()))
        .collect();
    for (k, _) in image.env.iter().filter(|(k, _)| k.starts_with("AKSIM_")) {
        assert!(known.contains(k), "{k} is not a variable aksim reads");
    }
    let env = |k: &str| {
        image
            .env
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("ENV {k}"))
    };
    let in_volume = |path: &str| image.volumes.iter().any(|v| path.starts_with(v.as_str()));
    assert!(in_volume(&env("AKSIM_TLS_DIR")), "the CA lives in a volume");
    assert!(
        in_volume(&env("AKSIM_STATE_FILE")),
        "the state file lives in a volume"
    );
    assert_eq!(
        image.healthcheck,
        ["/usr/local/bin/aksim", "ctl", "health"],
        "the health check is aksim's own ctl"
    );
}

/// The health check as the container runs it: `aksim ctl health` with the image's environment
/// only (its paths under a temporary root, the URL of this test's server).
#[test]
fn the_health_check_command_passes_with_the_image_environment() {
    let image = image();
    let root = tempfile::tempdir().unwrap();
    let remap = |v: &str| v.replace("/var/lib/aksim", &root.path().display().to_string());
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_aksim"));
    server.env_clear().env("AKSIM_LOG", "warn");
    for (k, v) in &image.env {
        server.env(k, remap(v));
    }
    let mut child = server
        .env("AKSIM_ADDR", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    // Every line is read (a closed pipe would fail the server's next print).
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let first = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the ready line");
    let url = first
        .trim()
        .strip_prefix("aksim listening on ")
        .unwrap()
        .to_owned();
    let mut check = std::process::Command::new(env!("CARGO_BIN_EXE_aksim"));
    check.args(&image.healthcheck[1..]).env_clear();
    for (k, v) in &image.env {
        check.env(k, remap(v));
    }
    let output = check.env("AKSIM_URL", &url).output().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
