//! The contact fields a column of an imported file can go to, and the field suggested for a
//! header: the labels Frontdesk's own export writes, and the headers of Zoho Desk's, Zendesk's
//! and Freshdesk's contact exports, so that their files import without mapping by hand.

/// A field a column can be imported into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImportField {
    FirstName,
    LastName,
    /// "First Last" in one column (Zendesk's and Freshdesk's `name`): the last word is the last
    /// name, the rest the first name.
    FullName,
    Email,
    SecondaryEmail,
    Phone,
    Mobile,
    Account,
    Owner,
    Title,
    Description,
    /// The contact's id in the system the file comes from; a later import matches by it.
    ExternalId,
}

impl ImportField {
    /// Every field, in the order the mapping page offers them.
    pub const ALL: [Self; 12] = [
        Self::FirstName,
        Self::LastName,
        Self::FullName,
        Self::Email,
        Self::SecondaryEmail,
        Self::Phone,
        Self::Mobile,
        Self::Account,
        Self::Owner,
        Self::Title,
        Self::Description,
        Self::ExternalId,
    ];

    /// The key used in forms and stored mappings.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::FullName => "full_name",
            Self::Email => "email",
            Self::SecondaryEmail => "secondary_email",
            Self::Phone => "phone",
            Self::Mobile => "mobile",
            Self::Account => "account",
            Self::Owner => "owner",
            Self::Title => "title",
            Self::Description => "description",
            Self::ExternalId => "external_id",
        }
    }

    /// The label people read (and the header Frontdesk's export writes).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::FirstName => "First Name",
            Self::LastName => "Last Name",
            Self::FullName => "Full Name",
            Self::Email => "Email",
            Self::SecondaryEmail => "Secondary Email",
            Self::Phone => "Phone",
            Self::Mobile => "Mobile",
            Self::Account => "Account Name",
            Self::Owner => "Contact Owner",
            Self::Title => "Title",
            Self::Description => "Description",
            Self::ExternalId => "External ID",
        }
    }

    /// The profile's field permission that covers it (`None`: the last name, mandatory and
    /// always writable, and the external id, which no profile restricts).
    #[must_use]
    pub fn permission_key(self) -> Option<&'static str> {
        match self {
            Self::FirstName => Some("first_name"),
            Self::FullName => Some("first_name"),
            Self::Email | Self::SecondaryEmail => Some("email"),
            Self::Phone => Some("phone"),
            Self::Mobile => Some("mobile"),
            Self::Account => Some("account"),
            Self::Owner => Some("owner"),
            Self::Title => Some("title"),
            Self::Description => Some("description"),
            Self::LastName | Self::ExternalId => None,
        }
    }

    /// Parses a form value.
    #[must_use]
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == key)
    }

    /// The field a column with `header` most likely holds.
    #[must_use]
    pub fn suggested_for(header: &str) -> Option<Self> {
        let folded: String = header.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
        let field = match folded.as_str() {
            "firstname" | "givenname" | "first" | "forename" => Self::FirstName,
            "lastname" | "surname" | "familyname" | "last" => Self::LastName,
            "name" | "fullname" | "contactname" | "contact" | "displayname" => Self::FullName,
            "email" | "emailaddress" | "email1" | "primaryemail" | "mail" | "emailid" => Self::Email,
            "secondaryemail" | "secondaryemails" | "otheremails" | "otheremail" | "alternateemail"
            | "additionalemails" | "email2" => Self::SecondaryEmail,
            "phone" | "phonenumber" | "workphone" | "businessphone" | "telephone" | "tel" | "officephone" => {
                Self::Phone
            }
            "mobile" | "mobilephone" | "mobilenumber" | "cellphone" | "cell" | "mobilephonenumber" => Self::Mobile,
            "accountname" | "account" | "company" | "companyname" | "organization" | "organisation"
            | "organizationname" | "organisationname" => Self::Account,
            "contactowner" | "owner" | "owneremail" | "contactowneremail" => Self::Owner,
            "title" | "jobtitle" | "position" | "designation" => Self::Title,
            "description" | "notes" | "details" | "backgroundinformation" | "about" => Self::Description,
            "externalid" | "uniqueexternalid" | "contactid" | "id" | "userid" => Self::ExternalId,
            _ => return None,
        };
        Some(field)
    }

    /// The suggested field of each of `headers`, a field suggested at most once (for its first
    /// column).
    #[must_use]
    pub fn suggest_all(headers: &[String]) -> Vec<Option<Self>> {
        let mut taken = Vec::new();
        headers
            .iter()
            .map(|h| {
                let field = Self::suggested_for(h).filter(|f| !taken.contains(f));
                taken.extend(field);
                field
            })
            .collect()
    }
}

/// "Melissa Ortiz" as (Some("Melissa"), "Ortiz"); one word is a last name.
#[must_use]
pub fn split_full_name(full: &str) -> (Option<String>, String) {
    let full = full.trim();
    match full.rsplit_once(char::is_whitespace) {
        Some((first, last)) => (Some(first.trim().to_owned()), last.trim().to_owned()),
        None => (None, full.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn zoho_desk_headers_map_without_help() {
        let h = headers(&["Contact ID", "First Name", "Last Name", "Email", "Secondary Email", "Phone", "Mobile"]);
        let suggested = ImportField::suggest_all(&h);
        assert_eq!(suggested[0], Some(ImportField::ExternalId));
        assert_eq!(suggested[2], Some(ImportField::LastName));
        assert_eq!(suggested[4], Some(ImportField::SecondaryEmail));
        let h = headers(&["Account Name", "Contact Owner", "Title", "Description", "Created Time"]);
        let suggested = ImportField::suggest_all(&h);
        assert_eq!(
            suggested[..4],
            [
                Some(ImportField::Account),
                Some(ImportField::Owner),
                Some(ImportField::Title),
                Some(ImportField::Description)
            ]
        );
        assert_eq!(suggested[4], None);
    }

    #[test]
    fn zendesk_headers_map_without_help() {
        let h = headers(&["id", "name", "email", "phone", "organization", "external_id", "notes"]);
        let suggested = ImportField::suggest_all(&h);
        assert_eq!(suggested[0], Some(ImportField::ExternalId));
        assert_eq!(suggested[1], Some(ImportField::FullName));
        assert_eq!(suggested[2], Some(ImportField::Email));
        assert_eq!(suggested[4], Some(ImportField::Account));
        // The id came first: the second candidate is left to the agent.
        assert_eq!(suggested[5], None);
        assert_eq!(suggested[6], Some(ImportField::Description));
    }

    #[test]
    fn a_full_name_splits_at_its_last_word() {
        assert_eq!(split_full_name(" Mary Jane  Watson "), (Some("Mary Jane".into()), "Watson".into()));
        assert_eq!(split_full_name("Cher"), (None, "Cher".into()));
    }
}
