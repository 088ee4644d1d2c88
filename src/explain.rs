//! `ecs-doctor explain`: the documentation of a cause code, and the nearest
//! codes to one that does not exist. The command and the MCP server's
//! `explain_code` tool both read it here.

use crate::error::DoctorError;
use ecs_doctor_checks::{checks, Cause};
use strum::IntoEnumIterator;

/// The documentation of a cause code (`ecs-doctor explain CODE`), or the
/// one-line refusal of an unknown one with the nearest codes.
pub fn explain_code(code: &str) -> Result<String, DoctorError> {
    let wanted = code.trim().to_ascii_lowercase().replace('_', "-");
    let cause = Cause::iter()
        .find(|c| c.as_str() == wanted)
        .ok_or_else(|| {
            let near = match nearest_codes(&wanted).as_slice() {
                [] => String::new(),
                [one] => format!("; did you mean {one}?"),
                [rest @ .., last] => format!("; did you mean {} or {last}?", rest.join(", ")),
            };
            DoctorError::BadInput(format!(
                "unknown cause code {}{near} (`ecs-doctor explain --list` lists them)",
                crate::error::echo(code)
            ))
        })?;
    let docs = checks::for_code(cause).docs();
    Ok(format!(
        "# {} ({} family)\n\n{}\n\n{}",
        cause,
        cause.family(),
        cause.description(),
        docs
    ))
}

/// The cause codes nearest to an unknown one, best first (at most three):
/// those within a few edits of it, or that contain it.
fn nearest_codes(wanted: &str) -> Vec<&'static str> {
    let most = (wanted.chars().count() / 3).max(2);
    let mut near: Vec<(usize, &'static str)> = Cause::iter()
        .map(|c| c.as_str())
        .filter_map(|code| {
            let d = edit_distance(wanted, code);
            let contains = wanted.len() >= 4 && code.contains(wanted);
            (d <= most || contains).then_some((d, code))
        })
        .collect();
    near.sort();
    near.into_iter().take(3).map(|(_, code)| code).collect()
}

/// Levenshtein distance: the fewest insertions, deletions and substitutions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn near_misses_of_a_cause_code_are_suggested() {
        assert_eq!(super::edit_distance("kitten", "sitting"), 3);
        assert_eq!(super::edit_distance("", "abc"), 3);
        assert_eq!(super::edit_distance("same", "same"), 0);
        assert_eq!(super::nearest_codes("imge-not-found")[0], "image-not-found");
        assert!(super::nearest_codes("public-ip").contains(&"no-public-ip"));
        assert!(super::nearest_codes("zzzzzzzzzzzzzzzzzzzzzz").is_empty());
    }

    #[test]
    fn a_code_reads_as_its_documentation_and_a_typo_as_a_suggestion() {
        let text = super::explain_code("IMAGE_NOT_FOUND").unwrap();
        assert!(
            text.starts_with("# image-not-found (image family)"),
            "{text}"
        );
        let refused = super::explain_code("imge-not-found")
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("did you mean image-not-found?"),
            "{refused}"
        );
    }
}
