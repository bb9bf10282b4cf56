//! Staff members and what each role may do.

use serde::Serialize;
use sqlx::FromRow;

use crate::store::{with_pool, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Contributor,
    Author,
    Editor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Editor, Role::Author, Role::Contributor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Author => "author",
            Role::Contributor => "contributor",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text.trim())
    }

    pub fn arabic_name(self) -> &'static str {
        match self {
            Role::Admin => "مدير الموقع",
            Role::Editor => "محرر",
            Role::Author => "كاتب",
            Role::Contributor => "مساهم",
        }
    }

    /// Editors and admins handle every article; authors and contributors their own.
    pub fn edits_all_articles(self) -> bool {
        self >= Role::Editor
    }

    pub fn manages_taxonomy(self) -> bool {
        self >= Role::Editor
    }

    pub fn manages_site(self) -> bool {
        self == Role::Admin
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct StaffRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub author_id: Option<i64>,
    pub disabled: bool,
    pub created_at: i64,
    /// Whether logging in also needs a TOTP code.
    pub two_factor: bool,
}

impl StaffRow {
    /// A row with a role outside the CHECK constraint cannot exist; treat it as least privilege.
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Contributor)
    }
}

/// Emails are compared case-insensitively and without surrounding spaces.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|character| character.is_whitespace() || character.is_control())
}

const STAFF_COLUMNS: &str =
    "id, email, name, role, password_hash, author_id, disabled, created_at, (totp_secret IS NOT NULL) AS two_factor";

impl Store {
    pub async fn create_staff(
        &self,
        email: &str,
        name: &str,
        role: Role,
        password_hash: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let author_slug = khabar_arabic::slug::slugify(name);
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // Each staff member writes under an author byline of the same name.
            if !author_slug.is_empty() {
                sqlx::query("INSERT INTO authors (name, slug, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(name)
                    .bind(&author_slug)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            let author_id: Option<i64> = sqlx::query_scalar("SELECT id FROM authors WHERE slug = $1")
                .bind(&author_slug)
                .fetch_optional(&mut *tx)
                .await?;
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO staff (email, name, role, password_hash, author_id, password_changed_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING RETURNING id",
            )
            .bind(normalize_email(email))
            .bind(name.trim())
            .bind(role.as_str())
            .bind(password_hash)
            .bind(author_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(id)
        })?;
        Ok(id)
    }

    pub async fn staff_by_email(&self, email: &str) -> Result<Option<StaffRow>, StoreError> {
        let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE email = $1");
        let row = with_pool!(self, pool => sqlx::query_as::<_, StaffRow>(&sql)
            .bind(normalize_email(email))
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    pub async fn staff_by_id(&self, id: i64) -> Result<Option<StaffRow>, StoreError> {
        let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE id = $1");
        let row = with_pool!(self, pool => sqlx::query_as::<_, StaffRow>(&sql).bind(id).fetch_optional(pool).await)?;
        Ok(row)
    }

    pub async fn list_staff(&self) -> Result<Vec<StaffRow>, StoreError> {
        let sql = format!("SELECT {STAFF_COLUMNS} FROM staff ORDER BY disabled, name");
        let rows = with_pool!(self, pool => sqlx::query_as::<_, StaffRow>(&sql).fetch_all(pool).await)?;
        Ok(rows)
    }

    pub async fn count_staff(&self) -> Result<i64, StoreError> {
        let count =
            with_pool!(self, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM staff").fetch_one(pool).await)?;
        Ok(count)
    }

    /// Changes a role or disables an account; a disabled account's sessions end at once.
    pub async fn update_staff_access(&self, id: i64, role: Role, disabled: bool) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query("UPDATE staff SET role = $1, disabled = $2 WHERE id = $3")
                .bind(role.as_str())
                .bind(disabled)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if disabled {
                sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1").bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(changed > 0)
        })?;
        Ok(changed)
    }

    /// Sets a new password and ends every session of the account but `keep_session`.
    pub async fn set_password(
        &self,
        id: i64,
        password_hash: &str,
        keep_session: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE staff SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
                .bind(password_hash)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1 AND token_hash <> $2")
                .bind(id)
                .bind(keep_session.unwrap_or(""))
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    pub async fn record_audit(
        &self,
        staff_id: Option<i64>,
        staff_name: &str,
        action: &str,
        subject: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query(
            "INSERT INTO audit_log (staff_id, staff_name, action, subject, happened_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(staff_id)
        .bind(staff_name)
        .bind(action)
        .bind(subject)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    pub async fn audit_entries(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = with_pool!(self, pool => sqlx::query_as::<_, AuditEntry>(
            "SELECT staff_name, action, subject, happened_at FROM audit_log ORDER BY happened_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AuditEntry {
    pub staff_name: String,
    pub action: String,
    pub subject: String,
    pub happened_at: i64,
}
