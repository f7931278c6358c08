//! `login_failures`: failed attempts at password work (logins, sign-ups, reset requests,
//! setting a password), for throttling.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_failures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The account the attempt counts under (an agent's email, `help:` + a contact's, ...).
    pub email: String,
    pub client_ip: String,
    pub purpose: Purpose,
    pub at: DateTimeUtc,
}

/// What an attempt tried to do; each purpose has its own count per client address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Purpose {
    /// Logging in, to the console or the Help Center.
    #[sea_orm(string_value = "login")]
    Login,
    /// Signing up for the Help Center (it sends mail).
    #[sea_orm(string_value = "signup")]
    Signup,
    /// Asking for a password reset link (it sends mail).
    #[sea_orm(string_value = "reset")]
    Reset,
    /// Setting or changing a password: mailed links, the password forms, set-up.
    #[sea_orm(string_value = "password")]
    Password,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
