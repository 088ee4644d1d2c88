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
