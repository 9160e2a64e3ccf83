//! Which tables and columns this database has: they vary by Smithers version.
use std::collections::BTreeMap;

use rusqlite::Connection;

pub(crate) const RUNS: &str = "_smithers_runs";
pub(crate) const NODES: &str = "_smithers_nodes";
pub(crate) const ATTEMPTS: &str = "_smithers_attempts";
pub(crate) const APPROVALS: &str = "_smithers_approvals";
pub(crate) const EVENTS: &str = "_smithers_events";

#[derive(Debug, Default)]
pub(crate) struct Schema {
    /// Table name → column names in declaration order.
    tables: BTreeMap<String, Vec<String>>,
    without_rowid: Vec<String>,
}

impl Schema {
    pub(crate) fn load(conn: &Connection) -> rusqlite::Result<Schema> {
        let mut stmt = conn.prepare_cached(
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' ORDER BY m.name, p.cid",
        )?;
        let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (table, column) = row?;
            tables.entry(table).or_default().push(column);
        }
        let mut stmt = conn.prepare_cached("SELECT name FROM pragma_table_list WHERE wr = 1")?;
        let without_rowid = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Schema {
            tables,
            without_rowid,
        })
    }

    /// Insertion order where the table has one (`rowid`), else its key order.
    pub(crate) fn insertion_order(&self, table: &str) -> &'static str {
        if self.without_rowid.iter().any(|t| t == table) {
            "node_id"
        } else {
            "rowid"
        }
    }

    pub(crate) fn has_table(&self, table: &str) -> bool {
        self.tables.contains_key(table)
    }

    pub(crate) fn has_column(&self, table: &str, column: &str) -> bool {
        self.columns(table).iter().any(|c| c == column)
    }

    pub(crate) fn columns(&self, table: &str) -> &[String] {
        self.tables.get(table).map(Vec::as_slice).unwrap_or(&[])
    }

    /// A SELECT list naming each wanted column, or `NULL` where the table lacks it, so
    /// rows can always be read by position.
    pub(crate) fn select_list(&self, table: &str, wanted: &[&str]) -> String {
        wanted
            .iter()
            .map(|c| {
                if self.has_column(table, c) {
                    quote(c)
                } else {
                    "NULL".to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Workflow-defined output tables: every non-internal table with `run_id` and
    /// `node_id` columns, except the workflow input.
    pub(crate) fn output_tables(&self) -> Vec<&str> {
        self.tables
            .keys()
            .map(String::as_str)
            .filter(|t| !t.starts_with("_smithers_") && !t.starts_with("sqlite_") && *t != "input")
            .filter(|t| self.has_column(t, "run_id") && self.has_column(t, "node_id"))
            .collect()
    }
}

pub(crate) fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}
