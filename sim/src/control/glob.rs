//! A tiny case-insensitive glob (`*` = any run of characters, `?` = one character) used by the
//! journal filters and fault rules to match request paths.

/// Whether `text` matches `pattern`, ignoring ASCII case.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().map(|c| c.to_ascii_lowercase()).collect();
    let t: Vec<char> = text.chars().map(|c| c.to_ascii_lowercase()).collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs() {
        assert!(matches(
            "/subscriptions/*/resourceGroups/*",
            "/subscriptions/a/resourcegroups/b"
        ));
        assert!(matches("*managedClusters*", "/x/managedclusters/c1"));
        assert!(matches("/a/?/c", "/a/b/c"));
        assert!(!matches("/a/?/c", "/a/bb/c"));
        assert!(matches("*", ""));
        assert!(!matches("/a", "/a/b"));
        assert!(matches("/a*b*c", "/aXXbYYc"));
    }
}
