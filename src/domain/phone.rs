//! Phone numbers, stored in E.164 so the same number is found however it was typed.
//!
//! A number is accepted when it is *possible* for its country (libphonenumber's word): its
//! country code exists, and its national number has a length and leading digits that the
//! country's numbering plan allows. Whether it is also in a range that the library lists as
//! allocated (*valid*) only decides a note shown beside it, never a refusal: the library's
//! ranges lag behind the regulators' (a newly opened mobile block) and leave out reserved ones
//! that people type on purpose (the UK's 07700 900xxx, kept for drama and tests), and an agent
//! must still be able to record the number a customer gave.

use std::fmt;

use phonenumber::country::{Id as Country, Source};
use phonenumber::metadata::{Descriptor, DATABASE};
use phonenumber::{Metadata, PhoneNumber};

/// The message for text that is not a phone number.
const NOT_A_NUMBER: &str = "Enter a valid phone number.";

/// A phone number that is possible for its country, in E.164 form (`+14155550123`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// The number in E.164 form.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A number stored in E.164 form, read back; `None` for anything else.
    #[must_use]
    pub fn from_e164(stored: &str) -> Option<Self> {
        // With its country code, the region a parser defaults to plays no part.
        let parser = PhoneParser { region: Country::US };
        stored.starts_with('+').then(|| parser.parse(stored).ok()).flatten().filter(|p| p.0 == stored)
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

/// The note to show beside a stored number (E.164) that is not in a range known to be in use,
/// naming the country whose plan it fits; `None` for a number in a known range, and for text
/// that is not an E.164 number (stored before numbers were checked, or by hand), which there is
/// nothing sensible to say about.
#[must_use]
pub fn range_note(stored: &str) -> Option<String> {
    let number = phonenumber::parse(None, stored).ok()?;
    if number.is_valid() {
        return None;
    }
    let plan = plan_fitting(&number)?;
    let place = isocountry::CountryCode::for_alpha2(plan.id())
        .map_or_else(|_| format!("+{}", plan.country_code()), |c| c.name().to_owned());
    Some(format!("This number is not in a range known to be in use in {place}; check it."))
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

    /// Parses and normalises a number that is possible for its country, whether or not it is
    /// in a range known to be in use (see [`range_note`]).
    ///
    /// # Errors
    /// A message for the form when it is not a phone number, or only a local one.
    pub fn parse(&self, raw: &str) -> Result<Phone, &'static str> {
        let raw = raw.trim();
        if raw.len() > 40 {
            return Err(NOT_A_NUMBER);
        }
        let readings = self.readings(raw);
        let chosen = readings
            .iter()
            .find(|number| number.is_valid())
            .or_else(|| readings.iter().find(|number| plan_fitting(number).is_some()));
        match chosen {
            Some(number) => Ok(Phone(number.format().mode(phonenumber::Mode::E164).to_string())),
            None if readings.iter().any(local_only) => Err("Enter the number with its area code."),
            None => Err(NOT_A_NUMBER),
        }
    }

    /// The ways to read `raw`, the likeliest first. The crate strips a national prefix (a
    /// trunk "0", "1" or "8") from the front of the number, taking it from the default region
    /// even when the number carries its own country code: typed in the US, +44 121 234 5678
    /// lost its 1. So a number typed with `+` or an international dialling prefix is read in its
    /// own country first, as libphonenumber does, and the default region's reading is kept
    /// second: the crate strips a prefix even when what is left is too short (Russia's
    /// +7 800 ... lost its 8 read as Russian).
    fn readings(&self, raw: &str) -> Vec<PhoneNumber> {
        let Ok(number) = phonenumber::parse(Some(self.region), raw) else { return Vec::new() };
        let international = match number.code().source() {
            Source::Plus => Some(raw.to_owned()),
            Source::Idd => DATABASE
                .by_id(self.region.as_ref())
                .and_then(Metadata::international_prefix)
                .and_then(|idd| idd.find(raw))
                .filter(|idd| idd.start() == 0)
                .map(|idd| format!("+{}", &raw[idd.end()..])),
            Source::Number | Source::Default => None,
        };
        international.and_then(|text| phonenumber::parse(None, text).ok()).into_iter().chain([number]).collect()
    }
}

/// The numbering plans of the number's country code, the main country's first (GB before
/// Jersey for +44): several countries can share a code, and a number is possible when it fits
/// any of their plans.
fn plans(number: &PhoneNumber) -> Vec<&'static Metadata> {
    let mut plans = DATABASE.by_code(&number.code().value()).unwrap_or_default();
    plans.sort_by_key(|plan| !plan.is_main_country_for_code());
    plans
}

/// The descriptions of the kinds of number a plan has (fixed line, mobile, toll free...),
/// whose lengths together are the plan's national lengths.
fn kinds(plan: &Metadata) -> impl Iterator<Item = &Descriptor> {
    let d = plan.descriptors();
    [
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
    .into_iter()
    .flatten()
}

/// The first plan the number is possible in: a length that some kind of its numbers has, and
/// leading digits that the plan's general pattern allows (the pattern only has to match from
/// the start: its alternatives are tried in order, and a shorter one may win).
fn plan_fitting(number: &PhoneNumber) -> Option<&'static Metadata> {
    let national = number.national().to_string();
    let length = u16::try_from(national.len()).ok()?;
    plans(number).into_iter().find(|plan| {
        kinds(plan).any(|kind| kind.possible_length().contains(&length))
            && plan.descriptors().general().national_number().find(&national).is_some_and(|m| m.start() == 0)
    })
}

/// Whether the number has the length of a number dialled without its area code (seven digits
/// in the US), which has no E.164 form.
fn local_only(number: &PhoneNumber) -> bool {
    let length = number.national().to_string().len();
    plans(number)
        .iter()
        .any(|plan| kinds(plan).any(|kind| kind.possible_local_length().iter().any(|&l| usize::from(l) == length)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parser(region: &str) -> PhoneParser {
        PhoneParser::new(region).unwrap_or_else(|e| panic!("{e}"))
    }

    fn us() -> PhoneParser {
        parser("US")
    }

    #[test]
    fn the_same_number_typed_two_ways_is_the_same() {
        assert_eq!(us().parse("(415) 555-2671"), us().parse("+1 415 555 2671"));
        assert_eq!(us().parse("415.555.2671").map(|p| p.0), Ok("+14155552671".into()));
    }

    #[test]
    fn text_that_is_not_a_number_is_refused() {
        for bad in ["abc", "hello", "12", "555-CALL-NOW-PLEASE", "+999 1234", "call me maybe"] {
            assert_eq!(us().parse(bad), Err(NOT_A_NUMBER), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_number_in_a_reserved_range_is_accepted_with_a_note_naming_its_country() {
        for (region, typed) in [
            ("US", "+44 7700 900123"),
            ("GB", "07700 900123"),
            ("DE", "0044 7700 900123"),
            ("FR", "+44 (0)7700 900123"),
        ] {
            assert_eq!(parser(region).parse(typed).map(|p| p.0), Ok("+447700900123".into()), "{typed:?} in {region}");
        }
        let note = range_note("+447700900123").unwrap_or_default();
        assert!(note.starts_with("This number is not in a range known to be in use in United Kingdom"), "{note}");
        assert!(note.ends_with("; check it."), "{note}");
    }

    #[test]
    fn a_number_in_a_range_not_yet_listed_is_accepted() {
        // 299 is not an area code yet, but a US number has ten digits starting 2-9.
        assert_eq!(us().parse("(299) 555-0123").map(|p| p.0), Ok("+12995550123".into()));
        assert!(range_note("+12995550123").is_some_and(|n| n.contains("United States of America")));
    }

    #[test]
    fn a_number_with_its_own_country_code_keeps_its_digits_whatever_the_default_region() {
        // A trunk prefix of the default region (1 in the US) or of its own country (8 in Russia)
        // at the front of the national number is part of the number here.
        for (region, typed, stored) in [
            ("US", "+44 121 234 5678", "+441212345678"),
            ("US", "011 44 121 234 5678", "+441212345678"),
            ("DE", "+39 02 1234 5678", "+390212345678"),
            ("US", "+7 800 123 45 67", "+78001234567"),
            ("GB", "+44 (0)20 7946 0958", "+442079460958"),
        ] {
            assert_eq!(parser(region).parse(typed).map(|p| p.0), Ok(stored.into()), "{typed:?} in {region}");
        }
    }

    #[test]
    fn a_number_in_a_known_range_has_no_note() {
        for stored in ["+14155552671", "+442079460958", "+447400123456"] {
            assert_eq!(range_note(stored), None, "{stored}");
        }
    }

    #[test]
    fn a_number_of_a_length_or_form_its_country_does_not_have_is_refused() {
        // One digit short and one too many for a UK mobile; UK numbers never start with 4 or 6;
        // US area codes never start with 0 or 1.
        for bad in ["+44 7700 90012", "+44 7700 9001234", "+44 6700 900123", "+1 123 456 7890", "+1 055 555 0123"] {
            assert_eq!(us().parse(bad), Err(NOT_A_NUMBER), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_local_number_without_its_area_code_is_refused_with_a_hint() {
        assert_eq!(us().parse("555-2671"), Err("Enter the number with its area code."));
    }

    #[test]
    fn text_that_is_not_e164_gets_no_note() {
        assert_eq!(range_note("call me"), None);
        assert_eq!(range_note(""), None);
    }

    /// Every example number of every kind in every country's plan (thousands of numbers, from
    /// the library's own data) is accepted, stored in E.164, read back as itself, without a note.
    #[test]
    fn every_example_number_of_every_country_is_accepted_as_itself() {
        let mut checked = 0;
        let mut wrong = Vec::new();
        for plan in DATABASE.iter() {
            let code = plan.country_code();
            for example in kinds(plan).filter_map(Descriptor::example) {
                let typed = format!("+{code} {example}");
                checked += 1;
                let stored = match us().parse(&typed) {
                    Ok(s) => s,
                    Err(e) => {
                        wrong.push(format!("{typed} ({}): refused {e}", plan.id()));
                        continue;
                    }
                };
                if stored.0 != format!("+{code}{example}") {
                    wrong.push(format!("{typed} ({}): stored {}", plan.id(), stored.0));
                }
                if us().parse(stored.as_str()).as_ref() != Ok(&stored) {
                    wrong.push(format!("{typed}: not read back"));
                }
                if let Some(n) = range_note(stored.as_str()) {
                    wrong.push(format!("{typed} ({}): {n}", plan.id()));
                }
            }
        }
        assert!(wrong.is_empty(), "{checked} checked, wrong: {}\n{}", wrong.len(), wrong.join("\n"));
    }
}
