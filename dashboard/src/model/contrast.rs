//! The badge colours' contrast, computed from `static/style.css` itself (WCAG 2
//! relative luminance): white text on every verdict badge must reach 4.5:1.

fn luminance(hex: &str) -> f64 {
    let hex = hex.trim_start_matches('#');
    let channel = |i: usize| {
        let c = u8::from_str_radix(&hex[i..i + 2], 16).unwrap() as f64 / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
}

/// The contrast ratio of two `#rrggbb` colours (1 to 21).
fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// The value of a custom property in the stylesheet's `:root`.
fn css_var(css: &str, name: &str) -> String {
    let start = css
        .find(&format!("{name}:"))
        .unwrap_or_else(|| panic!("{name} in style.css"))
        + name.len()
        + 1;
    css[start..].split(';').next().unwrap().trim().to_string()
}

#[test]
fn white_text_on_every_verdict_badge_reaches_4_5_to_1() {
    let css = include_str!("../../static/style.css");
    for var in ["--good", "--needs", "--bad", "--none"] {
        let colour = css_var(css, var);
        let ratio = contrast(&colour, "#ffffff");
        assert!(ratio >= 4.5, "{var} {colour}: {ratio:.2}:1");
    }
}

#[test]
fn the_contrast_formula_gives_the_known_extremes() {
    assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 1e-9);
    assert!((contrast("#777777", "#777777") - 1.0).abs() < 1e-9);
    // The old amber failed: 3.2:1.
    assert!(contrast("#c78100", "#ffffff") < 4.5);
}
