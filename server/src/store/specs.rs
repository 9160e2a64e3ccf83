//! Specs and their todos in the store: fabrik's JSON as written, plus the columns the
//! list needs. Every write is one transaction with its audit entry.
use super::audit::{commit_audited, insert_audit};
use super::{AuditEntry, Store};
use crate::error::Result;
use domain::spec::{Spec, SpecStatus, SpecSummary, SpecView, Todo, TodoState, TodoView};
use rusqlite::{params, OptionalExtension, Transaction};

/// Who writes, and when.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub by: String,
    pub at_ms: i64,
}

/// What a write that depends on the stored state found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecWrite {
    Done,
    Missing,
    /// The spec is at another revision than the write was based on.
    Stale,
    /// Approving needs a todo first.
    NoTodo,
    /// Approving needs a draft; the spec is in this status.
    NotDraft,
}

impl Store {
    pub async fn specs(&self) -> Result<Vec<SpecSummary>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT s.id, s.title, s.status, s.goals, s.updated_at_ms, s.updated_by, \
                 t.spec_id IS NOT NULL, t.approved_at_ms IS NOT NULL \
                 FROM specs s LEFT JOIN todos t ON t.spec_id = s.id ORDER BY s.updated_at_ms DESC, s.id",
            )?;
            let rows = stmt.query_map([], |r| {
                let todo = match (r.get::<_, bool>(6)?, r.get::<_, bool>(7)?) {
                    (false, _) => TodoState::None,
                    (true, false) => TodoState::Generated,
                    (true, true) => TodoState::Approved,
                };
                Ok(SpecSummary {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    status: r.get(2)?,
                    goals: r.get::<_, i64>(3)? as usize,
                    updated_at_ms: r.get(4)?,
                    updated_by: r.get(5)?,
                    todo,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    pub async fn spec(&self, id: &str) -> Result<Option<SpecView>> {
        let id = id.to_string();
        self.read(move |c| {
            let tx = c.unchecked_transaction()?;
            read_spec(&tx, &id)
        })
        .await
    }

    /// Stores a new spec; false when one with its id exists.
    pub async fn insert_spec(&self, spec: Spec, stamp: Stamp, audit: AuditEntry) -> Result<bool> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM specs WHERE id = ?1)",
                [&spec.id],
                |r| r.get(0),
            )?;
            if exists {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO specs (id, body, title, status, goals, revision, created_at_ms, updated_at_ms, updated_by) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6, ?7)",
                params![spec.id, body(&spec), spec.title, spec.status, spec.goals.len() as i64, stamp.at_ms, stamp.by],
            )?;
            insert_audit(&tx, &audit)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    /// Replaces a spec still at `revision`. Its todo must be approved again.
    pub async fn replace_spec(
        &self,
        spec: Spec,
        revision: i64,
        stamp: Stamp,
        audit: AuditEntry,
    ) -> Result<SpecWrite> {
        self.call(move |c| {
            let tx = c.transaction()?;
            match current_revision(&tx, &spec.id)? {
                None => return Ok(SpecWrite::Missing),
                Some(r) if r != revision => return Ok(SpecWrite::Stale),
                Some(_) => {}
            }
            write_spec(&tx, &spec, &stamp)?;
            tx.execute(
                "UPDATE todos SET approved_at_ms = NULL, approved_by = NULL WHERE spec_id = ?1",
                [&spec.id],
            )?;
            insert_audit(&tx, &audit)?;
            tx.commit()?;
            Ok(SpecWrite::Done)
        })
        .await
    }

    pub async fn delete_spec(&self, id: &str, audit: AuditEntry) -> Result<bool> {
        let id = id.to_string();
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM todos WHERE spec_id = ?1", [&id])?;
            let n = tx.execute("DELETE FROM specs WHERE id = ?1", [&id])?;
            Ok(commit_audited(tx, n, &audit)?)
        })
        .await
    }

    /// Stores the spec's todo, waiting for approval; a ready spec goes back to draft.
    pub async fn save_todo(
        &self,
        todo: Todo,
        stamp: Stamp,
        audit: AuditEntry,
    ) -> Result<SpecWrite> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let Some(view) = read_spec(&tx, &todo.id)? else {
                return Ok(SpecWrite::Missing);
            };
            tx.execute(
                "INSERT INTO todos (spec_id, body, approved_at_ms, approved_by, updated_at_ms, updated_by) \
                 VALUES (?1, ?2, NULL, NULL, ?3, ?4) ON CONFLICT (spec_id) DO UPDATE SET \
                 body = ?2, approved_at_ms = NULL, approved_by = NULL, updated_at_ms = ?3, updated_by = ?4",
                params![todo.id, serde_json::to_string(&todo)?, stamp.at_ms, stamp.by],
            )?;
            if view.status() == Some(SpecStatus::Ready) {
                let mut spec = view.spec;
                spec.status = SpecStatus::Draft.as_str().into();
                write_spec(&tx, &spec, &stamp)?;
            }
            insert_audit(&tx, &audit)?;
            tx.commit()?;
            Ok(SpecWrite::Done)
        })
        .await
    }

    /// Approves the todo and makes its draft spec ready, together.
    pub async fn approve_todo(
        &self,
        id: &str,
        stamp: Stamp,
        audit: AuditEntry,
    ) -> Result<SpecWrite> {
        let id = id.to_string();
        self.call(move |c| {
            let tx = c.transaction()?;
            let Some(view) = read_spec(&tx, &id)? else {
                return Ok(SpecWrite::Missing);
            };
            if view.todo.is_none() {
                return Ok(SpecWrite::NoTodo);
            }
            if view.status() != Some(SpecStatus::Draft) {
                return Ok(SpecWrite::NotDraft);
            }
            tx.execute(
                "UPDATE todos SET approved_at_ms = ?2, approved_by = ?3 WHERE spec_id = ?1",
                params![id, stamp.at_ms, stamp.by],
            )?;
            let mut spec = view.spec;
            spec.status = SpecStatus::Ready.as_str().into();
            write_spec(&tx, &spec, &stamp)?;
            insert_audit(&tx, &audit)?;
            tx.commit()?;
            Ok(SpecWrite::Done)
        })
        .await
    }
}

fn body(spec: &Spec) -> String {
    serde_json::to_string_pretty(spec).expect("a spec always serialises")
}

fn current_revision(tx: &Transaction, id: &str) -> rusqlite::Result<Option<i64>> {
    tx.query_row("SELECT revision FROM specs WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .optional()
}

/// Writes the spec's new body and list columns, one revision on.
fn write_spec(tx: &Transaction, spec: &Spec, stamp: &Stamp) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE specs SET body = ?2, title = ?3, status = ?4, goals = ?5, revision = revision + 1, \
         updated_at_ms = ?6, updated_by = ?7 WHERE id = ?1",
        params![spec.id, body(spec), spec.title, spec.status, spec.goals.len() as i64, stamp.at_ms, stamp.by],
    )?;
    Ok(())
}

fn read_spec(tx: &Transaction, id: &str) -> Result<Option<SpecView>> {
    let head: Option<(String, i64, i64, String)> = tx
        .query_row(
            "SELECT body, revision, updated_at_ms, updated_by FROM specs WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((spec, revision, updated_at_ms, updated_by)) = head else {
        return Ok(None);
    };
    let todo = tx
        .query_row(
            "SELECT body, approved_at_ms, approved_by, updated_at_ms, updated_by FROM todos WHERE spec_id = ?1",
            [id],
            |r| {
                let body: String = r.get(0)?;
                let view = TodoView {
                    todo: Todo::default(),
                    approved_at_ms: r.get(1)?,
                    approved_by: r.get(2)?,
                    updated_at_ms: r.get(3)?,
                    updated_by: r.get(4)?,
                };
                Ok((body, view))
            },
        )
        .optional()?
        .map(|(body, view)| serde_json::from_str(&body).map(|todo| TodoView { todo, ..view }))
        .transpose()?;
    Ok(Some(SpecView {
        spec: serde_json::from_str(&spec)?,
        revision,
        updated_at_ms,
        updated_by,
        todo,
    }))
}
