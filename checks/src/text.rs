//! Matching free text (stop reasons, log lines, service events) on
//! distinctive fragments, whatever its case, apostrophes and white space.

/// Lower-case, straighten quotes and collapse white space.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = false;
    for ch in text.chars() {
        let ch = match ch {
            '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' | '`' => '\'',
            '\u{201C}' | '\u{201D}' => '"',
            c => c,
        };
        if ch.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.extend(ch.to_lowercase());
            last_space = false;
        }
    }
    out.trim().to_string()
}

/// True when the normalised text contains any of the (lower-case) needles.
pub fn contains_any(text: &str, needles: &[&str]) -> bool {
    let t = normalize(text);
    needles.iter().any(|n| t.contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_straightens_apostrophes_and_case() {
        assert_eq!(
            normalize("The task can’t  pull\nthe IMAGE"),
            "the task can't pull the image"
        );
        assert!(contains_any(
            "The task can’t pull the image.",
            &["can't pull the image"]
        ));
    }
}

/// A span of whole seconds as a reader says it: `45 seconds`, `12 minutes`,
/// `3 hours`, `2 days`.
pub fn duration(seconds: i32) -> String {
    let s = seconds.max(0);
    let (n, unit) = match s {
        0..=119 => (s, "second"),
        120..=7199 => (s / 60, "minute"),
        7200..=172_799 => (s / 3600, "hour"),
        _ => (s / 86_400, "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod duration_tests {
    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(super::duration(1), "1 second");
        assert_eq!(super::duration(75), "75 seconds");
        assert_eq!(super::duration(12 * 60 + 5), "12 minutes");
        assert_eq!(super::duration(3 * 3600), "3 hours");
        assert_eq!(super::duration(3 * 86_400), "3 days");
    }
}
