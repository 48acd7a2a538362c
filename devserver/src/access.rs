//! Access control: which auth tokens grant which channels and groups.

use std::collections::HashMap;

use crate::errors::ApiError;

/// Whether a grant entry (`name`, `*`, or `prefix.*`) covers `name`.
fn covers(entry: &str, name: &str) -> bool {
    if entry == "*" || entry == name {
        return true;
    }
    match entry.strip_suffix('*') {
        Some(prefix) if prefix.ends_with('.') => name.starts_with(prefix),
        _ => false,
    }
}

/// Whether `granted` covers `name`; a grant on `x` also covers its presence channel `x-pnpres`.
fn allowed(granted: &[String], name: &str) -> bool {
    let base = name.strip_suffix("-pnpres").unwrap_or(name);
    granted
        .iter()
        .any(|entry| covers(entry, name) || covers(entry, base))
}

/// Checks `auth` against `grants` (None = access control off) for the named resources.
pub(crate) fn check(
    grants: Option<&HashMap<String, Vec<String>>>,
    auth: Option<&str>,
    channels: &[String],
    groups: &[String],
) -> Result<(), ApiError> {
    let Some(grants) = grants else { return Ok(()) };
    let granted: &[String] = auth
        .and_then(|a| grants.get(a))
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let denied = |names: &[String]| -> Vec<String> {
        names
            .iter()
            .filter(|n| !allowed(granted, n))
            .cloned()
            .collect()
    };
    let (channels, groups) = (denied(channels), denied(groups));
    if channels.is_empty() && groups.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Forbidden { channels, groups })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants() {
        let grants: HashMap<String, Vec<String>> =
            [("tok".to_string(), vec!["a".to_string(), "b.*".to_string()])]
                .into_iter()
                .collect();
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check(None, None, &names(&["x"]), &[]).is_ok());
        assert!(
            check(
                Some(&grants),
                Some("tok"),
                &names(&["a", "a-pnpres", "b.c"]),
                &[]
            )
            .is_ok()
        );
        assert_eq!(
            check(
                Some(&grants),
                Some("tok"),
                &names(&["a", "c"]),
                &names(&["g"])
            ),
            Err(ApiError::Forbidden {
                channels: names(&["c"]),
                groups: names(&["g"])
            })
        );
        assert!(check(Some(&grants), None, &names(&["a"]), &[]).is_err());
    }
}
