//! Phone numbers, stored in E.164 so the same number is found however it was typed.

use std::fmt;

use phonenumber::country::Id as Country;

/// A valid phone number in E.164 form (`+14155550123`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// The number in E.164 form.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without the `+`, for search.
    #[must_use]
    pub fn digits(&self) -> &str {
        self.0.trim_start_matches('+')
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads phone numbers typed with or without a country code, the latter in a default region.
#[derive(Clone, Copy, Debug)]
pub struct PhoneParser {
    region: Country,
}

impl PhoneParser {
    /// A parser for numbers typed in `region` (an ISO 3166 code such as `US` or `DE`).
    ///
    /// # Errors
    /// When the region code is unknown.
    pub fn new(region: &str) -> Result<Self, String> {
        region
            .trim()
            .to_uppercase()
            .parse::<Country>()
            .map(|region| Self { region })
            .map_err(|_| format!("unknown phone region {region:?}: use an ISO 3166 code such as US"))
    }

    /// Parses and normalises a number.
    ///
    /// # Errors
    /// A message for the form when it is not a valid phone number.
    pub fn parse(&self, raw: &str) -> Result<Phone, &'static str> {
        let raw = raw.trim();
        if raw.len() > 40 {
            return Err("Enter a valid phone number.");
        }
        let number = phonenumber::parse(Some(self.region), raw).map_err(|_| "Enter a valid phone number.")?;
        if !phonenumber::is_valid(&number) {
            return Err("Enter a valid phone number.");
        }
        Ok(Phone(number.format().mode(phonenumber::Mode::E164).to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> PhoneParser {
        PhoneParser::new("US").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_same_number_typed_two_ways_is_the_same() {
        assert_eq!(us().parse("(415) 555-2671"), us().parse("+1 415 555 2671"));
        assert_eq!(us().parse("415.555.2671").map(|p| p.0), Ok("+14155552671".into()));
    }

    #[test]
    fn text_that_is_not_a_number_is_refused() {
        for bad in ["abc", "12", "555-CALL-NOW-PLEASE", "+999 1234"] {
            assert!(us().parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
