//! The texts of the mail Frontdesk sends, as askama templates under `templates/email/` (plain
//! text, so nothing is HTML-escaped). Each function gives the subject and the body.

use askama::Template;

/// A rendered message.
pub struct Text {
    pub subject: String,
    pub body: String,
}

#[derive(Template)]
#[template(path = "email/invitation.txt")]
struct Invitation<'a> {
    name: &'a str,
    company: &'a str,
    link: &'a str,
    valid_for: &'a str,
}

#[derive(Template)]
#[template(path = "email/signup_verification.txt")]
struct SignupVerification<'a> {
    name: &'a str,
    company: &'a str,
    link: &'a str,
    valid_for: &'a str,
}

#[derive(Template)]
#[template(path = "email/password_reset.txt")]
struct PasswordReset<'a> {
    name: &'a str,
    company: &'a str,
    link: &'a str,
    valid_for: &'a str,
}

#[derive(Template)]
#[template(path = "email/account_exists.txt")]
struct AccountExists<'a> {
    name: &'a str,
    company: &'a str,
    login: &'a str,
    link: &'a str,
    valid_for: &'a str,
}

#[derive(Template)]
#[template(path = "email/ticket_acknowledgement.txt")]
struct Acknowledgement<'a> {
    name: &'a str,
    company: &'a str,
    number: i64,
    subject: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "email/agent_reply.txt")]
struct AgentReply<'a> {
    body: &'a str,
    agent_name: &'a str,
    company: &'a str,
    number: i64,
    link: &'a str,
}

/// The invitation to the Help Center.
///
/// # Errors
/// Template errors.
pub fn invitation(name: &str, company: &str, link: &str, valid_for: &str) -> askama::Result<Text> {
    Ok(Text {
        subject: format!("You are invited to the {company} Help Center"),
        body: Invitation { name, company, link, valid_for }.render()?,
    })
}

/// The address check of a self sign-up.
///
/// # Errors
/// Template errors.
pub fn signup_verification(name: &str, company: &str, link: &str, valid_for: &str) -> askama::Result<Text> {
    Ok(Text {
        subject: format!("Confirm your email for the {company} Help Center"),
        body: SignupVerification { name, company, link, valid_for }.render()?,
    })
}

/// A password reset link.
///
/// # Errors
/// Template errors.
pub fn password_reset(name: &str, company: &str, link: &str, valid_for: &str) -> askama::Result<Text> {
    Ok(Text {
        subject: format!("Reset your {company} Help Center password"),
        body: PasswordReset { name, company, link, valid_for }.render()?,
    })
}

/// The answer to a sign-up with the address of an existing Help Center user: a reset link.
///
/// # Errors
/// Template errors.
pub fn account_exists(name: &str, company: &str, login: &str, link: &str, valid_for: &str) -> askama::Result<Text> {
    Ok(Text {
        subject: format!("Your {company} Help Center account"),
        body: AccountExists { name, company, login, link, valid_for }.render()?,
    })
}

#[derive(Template)]
#[template(path = "email/merged_login.txt")]
struct MergedLogin<'a> {
    name: &'a str,
    company: &'a str,
    login: &'a str,
    link: &'a str,
}

/// The notice to a Help Center user whose contact was merged into another one, which now has
/// its login (`login`, at `link`).
///
/// # Errors
/// Template errors.
pub fn merged_login(name: &str, company: &str, login: &str, link: &str) -> askama::Result<Text> {
    Ok(Text {
        subject: format!("Your {company} Help Center account"),
        body: MergedLogin { name, company, login, link }.render()?,
    })
}

/// The subject every mail about ticket `number` carries, with its token for threading.
#[must_use]
pub fn ticket_subject(number: i64, subject: &str) -> String {
    format!("[#{number}] {subject}")
}

/// The acknowledgement of a new ticket.
///
/// # Errors
/// Template errors.
pub fn acknowledgement(name: &str, company: &str, number: i64, subject: &str, link: &str) -> askama::Result<Text> {
    Ok(Text {
        subject: ticket_subject(number, subject),
        body: Acknowledgement { name, company, number, subject, link }.render()?,
    })
}

/// An agent's reply to the customer.
///
/// # Errors
/// Template errors.
pub fn agent_reply(
    body: &str,
    agent_name: &str,
    company: &str,
    number: i64,
    subject: &str,
    link: &str,
) -> askama::Result<Text> {
    Ok(Text {
        subject: format!("Re: {}", ticket_subject(number, subject)),
        body: AgentReply { body, agent_name, company, number, link }.render()?,
    })
}
