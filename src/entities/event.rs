//! `events`: what happened to a contact, an account, a ticket or a message, by whom and when,
//! with the fields it changed (JSON). Written by `services::events`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub occurred_at: DateTimeUtc,
    pub actor_kind: ActorKind,
    /// The agent's or the contact's id; none for Frontdesk itself.
    pub actor_id: Option<i64>,
    pub subject_kind: SubjectKind,
    pub subject_id: i64,
    pub action: Action,
    /// The contact whose History shows the event.
    pub contact_id: Option<i64>,
    /// The ticket a ticket's or a message's event concerns.
    pub ticket_id: Option<i64>,
    /// `[{"field": ..., "old": ..., "new": ...}]`.
    #[sea_orm(column_type = "Text")]
    pub changes: String,
}

/// Who made a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ActorKind {
    #[sea_orm(string_value = "agent")]
    Agent,
    #[sea_orm(string_value = "contact")]
    Contact,
    /// Frontdesk itself: a channel, housekeeping.
    #[sea_orm(string_value = "system")]
    System,
}

/// What was changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SubjectKind {
    #[sea_orm(string_value = "contact")]
    Contact,
    #[sea_orm(string_value = "account")]
    Account,
    #[sea_orm(string_value = "ticket")]
    Ticket,
    #[sea_orm(string_value = "message")]
    Message,
}

/// What happened to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Action {
    #[sea_orm(string_value = "created")]
    Created,
    #[sea_orm(string_value = "updated")]
    Updated,
    /// Moved to the Recycle Bin.
    #[sea_orm(string_value = "deleted")]
    Deleted,
    /// Brought back from the Recycle Bin.
    #[sea_orm(string_value = "restored")]
    Restored,
    /// Removed from the Recycle Bin for good (the subject's other events go with it).
    #[sea_orm(string_value = "purged")]
    Purged,
    /// A contact was invited to the Help Center (again, when nothing else changed).
    #[sea_orm(string_value = "invited")]
    Invited,
    /// A contact signed up to the Help Center.
    #[sea_orm(string_value = "signed_up")]
    SignedUp,
    /// A message in a ticket's thread that its contact sees (a reply either way).
    #[sea_orm(string_value = "replied")]
    Replied,
    /// An internal note, for agents only.
    #[sea_orm(string_value = "noted")]
    Noted,
    /// Other contacts were merged into this one (the changes: its fields that took their values).
    #[sea_orm(string_value = "merged")]
    Merged,
    /// A merge into this contact was undone (the changes: its fields back as they were).
    #[sea_orm(string_value = "merge_undone")]
    MergeUndone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
