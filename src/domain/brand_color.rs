//! `BrandColor`: a colour as `#rrggbb`, the only form that reaches the Help Center's style
//! sheet, so a setting can never inject CSS.

use std::fmt;

/// A colour in `#rrggbb` form, lowercase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrandColor(String);

impl Default for BrandColor {
    fn default() -> Self {
        Self("#1f6feb".into())
    }
}

impl BrandColor {
    /// Parses `#rgb` or `#rrggbb` (the `#` optional).
    ///
    /// # Errors
    /// A message for the form when it is not such a colour.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let hex = raw.trim().trim_start_matches('#');
        if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err("Enter a colour as #rrggbb, for example #1f6feb.");
        }
        let full = match hex.len() {
            3 => hex.chars().flat_map(|c| [c, c]).collect(),
            6 => hex.to_owned(),
            _ => return Err("Enter a colour as #rrggbb, for example #1f6feb."),
        };
        Ok(Self(format!("#{}", full.to_ascii_lowercase())))
    }

    /// `#rrggbb`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Black or white, whichever reads better on this colour (WCAG relative luminance).
    #[must_use]
    pub fn text_color(&self) -> &'static str {
        let channel = |i: usize| {
            let v = f64::from(u8::from_str_radix(self.0.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0)) / 255.0;
            if v <= 0.039_28 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
        if luminance > 0.179 {
            "#000000"
        } else {
            "#ffffff"
        }
    }
}

impl fmt::Display for BrandColor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::BrandColor;

    #[test]
    fn only_hex_colours_are_accepted() {
        assert_eq!(BrandColor::parse("#ABC").unwrap().as_str(), "#aabbcc");
        assert_eq!(BrandColor::parse("1f6feb").unwrap().as_str(), "#1f6feb");
        for bad in ["", "#12345", "red", "#1f6feb;} body{display:none", "#ggg"] {
            assert!(BrandColor::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text_on_a_colour_stays_readable() {
        assert_eq!(BrandColor::parse("#ffffff").unwrap().text_color(), "#000000");
        assert_eq!(BrandColor::parse("#1f1f7f").unwrap().text_color(), "#ffffff");
    }
}
