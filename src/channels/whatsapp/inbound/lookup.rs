//! What the intake of one inbound message looks up inside its write transaction: the lock
//! that takes one customer's messages one after the other (PostgreSQL), the contact by its
//! WhatsApp identity or by a matching Phone or Mobile, and the ticket of the conversation.

use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Statement,
};

use super::Who;
use crate::domain::phone::Phone;
use crate::entities::contact_identity::{self, IdentityKind};
use crate::entities::{contact, ticket, whatsapp_conversation};

/// On PostgreSQL, waits for any other transaction taking a message of this customer on this
/// number (SQLite's write lock serialises all writers already).
pub(super) async fn serialise(txn: &DatabaseTransaction, number_id: i64, customer: &str) -> Result<(), sea_orm::DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [lock_key(number_id, customer).into()],
    ))
    .await?;
    Ok(())
}

/// [`serialise`] for the customers of a batch, the locks taken in one order (the keys'), so
/// that two instances' batches never wait on each other in a circle.
pub(super) async fn serialise_all(txn: &DatabaseTransaction, customers: &[(i64, &str)]) -> Result<(), sea_orm::DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres || customers.is_empty() {
        return Ok(());
    }
    let mut keys: Vec<i64> = customers.iter().map(|(number_id, customer)| lock_key(*number_id, customer)).collect();
    keys.sort_unstable();
    keys.dedup();
    // Integers of our own making, written into the statement.
    let list = keys.iter().map(|k| format!("({k})")).collect::<Vec<_>>().join(", ");
    txn.execute(Statement::from_string(
        DbBackend::Postgres,
        format!("SELECT pg_advisory_xact_lock(k) FROM (SELECT k FROM (VALUES {list}) AS v(k) ORDER BY k) AS sorted"),
    ))
    .await?;
    Ok(())
}

/// The advisory lock of a customer on a number.
pub(super) fn lock_key(number_id: i64, customer: &str) -> i64 {
    // FNV-1a: stable across instances and releases, unlike std's hasher.
    let key = format!("whatsapp:{number_id}:{customer}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    i64::from_ne_bytes(key.to_ne_bytes())
}

/// The contact whose WhatsApp identity (number or user id) wrote.
pub(super) async fn whatsapp_contact(
    txn: &DatabaseTransaction,
    who: &Who,
) -> Result<Option<contact::Model>, sea_orm::DbErr> {
    let mut any = Condition::any();
    if let Some(phone) = &who.phone {
        any = any.add(
            Condition::all()
                .add(contact_identity::Column::Kind.eq(IdentityKind::WhatsApp))
                .add(contact_identity::Column::Value.eq(phone.as_str())),
        );
    }
    if let Some(user) = who.user.as_deref() {
        any = any.add(
            Condition::all()
                .add(contact_identity::Column::Kind.eq(IdentityKind::WhatsAppUser))
                .add(contact_identity::Column::Value.eq(user)),
        );
    }
    contact::Entity::find()
        .join(JoinType::InnerJoin, contact_identity::Relation::Contact.def().rev())
        .filter(any)
        .order_by_asc(contact_identity::Column::Id)
        .one(txn)
        .await
}

/// The live contact with `phone` as its Phone or Mobile: on a shared number (a switchboard),
/// the most recently active one.
pub(super) async fn shared_number(
    txn: &DatabaseTransaction,
    phone: &Phone,
) -> Result<Option<contact::Model>, sea_orm::DbErr> {
    contact::Entity::find()
        .join(JoinType::InnerJoin, contact_identity::Relation::Contact.def().rev())
        .filter(contact_identity::Column::Kind.is_in([IdentityKind::Phone, IdentityKind::Mobile]))
        .filter(contact_identity::Column::Value.eq(phone.as_str()))
        .filter(contact::Column::Trashed.eq(false))
        .order_by_desc(contact::Column::UpdatedAt)
        .order_by_desc(contact::Column::Id)
        .one(txn)
        .await
}

/// The latest live ticket of `who`'s conversation on number `number_id`.
pub(super) async fn conversation_ticket(
    txn: &DatabaseTransaction,
    number_id: i64,
    who: &Who,
) -> Result<Option<ticket::Model>, sea_orm::DbErr> {
    let customers: Vec<&str> = who.phone.as_ref().map(Phone::as_str).into_iter().chain(who.user.as_deref()).collect();
    let conversations = Query::select()
        .column(whatsapp_conversation::Column::TicketId)
        .from(whatsapp_conversation::Entity)
        .and_where(whatsapp_conversation::Column::NumberId.eq(number_id))
        .and_where(whatsapp_conversation::Column::Customer.is_in(customers))
        .to_owned();
    ticket::Entity::find()
        .filter(ticket::Column::Id.in_subquery(conversations))
        .filter(ticket::Column::Trashed.eq(false))
        .order_by_desc(ticket::Column::Id)
        .one(txn)
        .await
}
