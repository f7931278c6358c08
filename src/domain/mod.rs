//! Pure domain types: values that are valid by construction, and the rules about them. No I/O.

pub mod account;
pub mod article;
pub mod brand_color;
pub mod contact;
pub mod csv_cell;
pub mod email;
pub mod field_rules;
pub mod form;
pub mod hidden;
pub mod import_fields;
pub mod mail_html;
pub mod mailbox;
pub mod markdown;
pub mod names;
pub mod permissions;
pub mod phone;
pub mod search;
pub mod signup;
pub mod ticket;
pub mod upload;
pub mod whatsapp_number;

pub use account::{AccountForm, AccountInput};
pub use brand_color::BrandColor;
pub use contact::{ContactForm, ContactInput};
pub use email::Email;
pub use field_rules::{FieldRules, ScreenedForm};
pub use form::FieldErrors;
pub use names::{LastName, PersonName};
pub use permissions::{Action, FieldAccess, Module, Permissions};
pub use phone::{Phone, PhoneParser};
pub use signup::{SignupForm, SignupInput};
pub use ticket::{Channel, Priority, TicketForm, TicketInput, TicketStatus, MAX_SUBJECT};
pub use upload::FileUpload;
