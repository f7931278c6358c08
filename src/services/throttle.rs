//! The throttle in front of password work: logins, sign-ups, reset requests and every form
//! that sets a password. Failed attempts of the last 15 minutes are counted three ways:
//!
//! - per account and client address together: more than 5 refuse that pair, and only it;
//! - per client address, apart for each [`Purpose`]: more than 20 refuse that address for that
//!   purpose (twenty sign-ups from an office's shared address do not stop its agents logging in);
//! - per account from every address: for logins, more than 5 only slow the answer down
//!   ([`backoff`]), so that nobody can lock an agent or a contact out by guessing from
//!   elsewhere; for the rest (mail sent to an address, a mailed link, set-up) they refuse, which
//!   is what keeps a mailbox from being flooded.
//!
//! An attempt is recorded before the (slow) password work and counted with the attempts that
//! came before it, so that many sent at once cannot all slip under a limit. One that succeeds
//! is forgotten; one that is refused is not kept either, so what is counted is password work
//! actually done, and hammering at a refused pair does not slow its account down further.

use std::time::Duration as Wait;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Select,
};

use crate::db::Db;
use crate::entities::{agent, login_failure};
use crate::services::{Actor, ServiceError, ServiceResult};

pub use crate::entities::login_failure::Purpose;

/// The window failures are counted in.
pub const WINDOW_MINUTES: i64 = 15;
/// Failures per account and client address tolerated in the window; also failures per account
/// from anywhere before a login is slowed down, or another attempt refused.
pub const MAX_PER_ACCOUNT: u64 = 5;
/// Failures per client address (for one purpose) tolerated in the window.
pub const MAX_PER_ADDRESS: u64 = 20;
/// The first delay of a slowed-down login; it doubles with each further failure.
const FIRST_DELAY: Wait = Wait::from_millis(250);

/// Who is asking and when: the address the counts are kept under, the clock, and the longest
/// a slowed-down login waits (`FRONTDESK_LOGIN_BACKOFF_MAX_MS`).
#[derive(Clone, Copy, Debug)]
pub struct Client<'a> {
    pub ip: &'a str,
    pub now: DateTime<Utc>,
    pub max_delay: Wait,
}

/// A request let through the throttle and recorded; unless [`succeeded`] is called, it counts
/// as a failure against later ones.
#[derive(Debug)]
pub struct Attempt(login_failure::Model);

/// How long a login waits before its password is checked when its account failed `failures`
/// times in the window, from anywhere: nothing up to [`MAX_PER_ACCOUNT`], then 250 ms doubling
/// with each further failure, at most `max`. Waiting costs the server a timer, not a thread nor
/// a hash, and takes one guess after another down to a few a minute.
#[must_use]
pub fn backoff(failures: u64, max: Wait) -> Wait {
    let Some(beyond) = failures.checked_sub(MAX_PER_ACCOUNT + 1) else { return Wait::ZERO };
    let doublings = u32::try_from(beyond).unwrap_or(u32::MAX).min(16);
    FIRST_DELAY.saturating_mul(1 << doublings).min(max)
}

/// Records a request for password work of `purpose` under `account` and refuses it (`None`)
/// when too many failed before it. A login for an account that failed too often from
/// anywhere is let through after its [`backoff`] (a tokio sleep: no thread is held, and no
/// database connection). Called before the form is even validated: hashing is what an
/// anonymous flood would make the server spend its time on, so a refused request must cost no
/// more than this.
///
/// # Errors
/// Database errors.
pub async fn admit(db: &Db, purpose: Purpose, account: &str, client: &Client<'_>) -> anyhow::Result<Option<Attempt>> {
    let (attempt, account_failures) = {
        let _gate = db.write_gate().await;
        let attempt = login_failure::ActiveModel {
            email: Set(account.to_owned()),
            client_ip: Set(client.ip.to_owned()),
            purpose: Set(purpose),
            at: Set(client.now),
            ..Default::default()
        }
        .insert(&db.conn)
        .await?;
        let before = |filter: Select<login_failure::Entity>| {
            filter
                .filter(login_failure::Column::Purpose.eq(purpose))
                .filter(login_failure::Column::At.gt(client.now - Duration::minutes(WINDOW_MINUTES)))
                .filter(login_failure::Column::Id.lt(attempt.id))
                .count(&db.conn)
        };
        let of_account = || login_failure::Entity::find().filter(login_failure::Column::Email.eq(account));
        let by_address = || login_failure::Entity::find().filter(login_failure::Column::ClientIp.eq(client.ip));
        let pair = before(of_account().filter(login_failure::Column::ClientIp.eq(client.ip))).await?;
        let address = before(by_address()).await?;
        let account_failures = before(of_account()).await?;
        let refused_for_account = purpose != Purpose::Login && account_failures > MAX_PER_ACCOUNT;
        if pair > MAX_PER_ACCOUNT || address > MAX_PER_ADDRESS || refused_for_account {
            forget_attempt(&db.conn, attempt).await?;
            return Ok(None);
        }
        (attempt, account_failures)
    };
    if purpose == Purpose::Login {
        tokio::time::sleep(backoff(account_failures, client.max_delay)).await;
    }
    Ok(Some(Attempt(attempt)))
}

/// The work of `attempt` succeeded: it no longer counts.
///
/// # Errors
/// Database errors.
pub async fn succeeded(db: &Db, attempt: Attempt) -> Result<(), sea_orm::DbErr> {
    let _gate = db.write_gate().await;
    forget_attempt(&db.conn, attempt.0).await
}

async fn forget_attempt(conn: &DatabaseConnection, attempt: login_failure::Model) -> Result<(), sea_orm::DbErr> {
    login_failure::Entity::delete_by_id(attempt.id).exec(conn).await?;
    Ok(())
}

/// Removes failures older than the window.
///
/// # Errors
/// Database errors.
pub async fn purge_old_failures(conn: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, sea_orm::DbErr> {
    let result = login_failure::Entity::delete_many()
        .filter(login_failure::Column::At.lte(now - Duration::minutes(WINDOW_MINUTES)))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// An agent whose logins are refused from some address, or slowed down everywhere.
#[derive(Debug)]
pub struct AgentLock {
    pub agent_id: i64,
    pub name: String,
    /// Failed logins in the window, from anywhere.
    pub failures: u64,
    /// Where they came from, the most first.
    pub addresses: Vec<AddressFailures>,
}

impl AgentLock {
    /// Whether the agent's logins wait before their password is checked.
    #[must_use]
    pub fn slowed_down(&self) -> bool {
        self.failures > MAX_PER_ACCOUNT
    }
}

/// Failed logins for one account from one address.
#[derive(Debug)]
pub struct AddressFailures {
    pub ip: String,
    pub failures: u64,
}

impl AddressFailures {
    /// Whether logins for the account are refused from this address.
    #[must_use]
    pub fn refused(&self) -> bool {
        self.failures > MAX_PER_ACCOUNT
    }
}

/// The agents whose console logins are refused from some address or slowed down, by name, for
/// an administrator; two queries whatever the number of failures.
///
/// # Errors
/// `Forbidden` for anyone else; database errors.
pub async fn agent_locks(
    conn: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
) -> ServiceResult<Vec<AgentLock>> {
    actor.must_be_admin()?;
    let agent_emails = Query::select().column(agent::Column::Email).from(agent::Entity).to_owned();
    let counts: Vec<(String, String, i64)> = login_failure::Entity::find()
        .select_only()
        .column(login_failure::Column::Email)
        .column(login_failure::Column::ClientIp)
        .column_as(login_failure::Column::Id.count(), "failures")
        .filter(login_failure::Column::Purpose.eq(Purpose::Login))
        .filter(login_failure::Column::At.gt(now - Duration::minutes(WINDOW_MINUTES)))
        .filter(login_failure::Column::Email.in_subquery(agent_emails))
        .group_by(login_failure::Column::Email)
        .group_by(login_failure::Column::ClientIp)
        .into_tuple()
        .all(conn)
        .await?;
    let emails: Vec<&str> = counts.iter().map(|(email, _, _)| email.as_str()).collect();
    let agents = agent::Entity::find().filter(agent::Column::Email.is_in(emails)).all(conn).await?;
    let mut locks: Vec<AgentLock> = agents
        .into_iter()
        .map(|a| {
            let mut addresses: Vec<AddressFailures> = counts
                .iter()
                .filter(|(email, _, _)| *email == a.email)
                .map(|(_, ip, n)| AddressFailures { ip: ip.clone(), failures: u64::try_from(*n).unwrap_or(0) })
                .collect();
            addresses.sort_by(|x, y| y.failures.cmp(&x.failures).then_with(|| x.ip.cmp(&y.ip)));
            let failures = addresses.iter().map(|f| f.failures).sum();
            AgentLock { agent_id: a.id, name: a.name, failures, addresses }
        })
        .filter(|lock| lock.slowed_down() || lock.addresses.iter().any(AddressFailures::refused))
        .collect();
    locks.sort_by(|x, y| x.name.cmp(&y.name));
    Ok(locks)
}

/// Clears the failed logins of agent `agent_id`, from every address, at an administrator's
/// request: its logins are neither refused nor slowed down any longer. Written to the log,
/// since it undoes a protection.
///
/// # Errors
/// `Forbidden` for anyone but an administrator; `NotFound` for an unknown agent; database
/// errors.
pub async fn lift_agent_lock(db: &Db, actor: &Actor, agent_id: i64) -> ServiceResult<()> {
    actor.must_be_admin()?;
    let admin_id = actor.id();
    let agent = agent::Entity::find_by_id(agent_id).one(&db.conn).await?.ok_or(ServiceError::NotFound)?;
    let _gate = db.write_gate().await;
    let cleared = login_failure::Entity::delete_many()
        .filter(login_failure::Column::Purpose.eq(Purpose::Login))
        .filter(login_failure::Column::Email.eq(agent.email.as_str()))
        .exec(&db.conn)
        .await?
        .rows_affected;
    tracing::info!(admin_id, agent_id, agent = %agent.email, cleared, "login lock lifted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Wait = Wait::from_secs(4);

    #[test]
    fn five_failures_or_fewer_slow_nobody_down() {
        for failures in 0..=MAX_PER_ACCOUNT {
            assert_eq!(backoff(failures, MAX), Wait::ZERO);
        }
    }

    #[test]
    fn each_further_failure_doubles_the_wait_up_to_the_most_allowed() {
        let waits: Vec<u128> = (6..=11).map(|n| backoff(n, MAX).as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 4000]);
        assert_eq!(backoff(u64::MAX, MAX), MAX);
        assert_eq!(backoff(1000, Wait::ZERO), Wait::ZERO, "a zero cap never waits");
    }
}
