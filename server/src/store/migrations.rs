//! Versioned schema: each entry runs once, in order, tracked by `PRAGMA user_version`.
use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: runs, their own timeline, and the audit log.
    r#"
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        template TEXT NOT NULL,
        workflow TEXT,
        spec TEXT,
        project TEXT,
        backend TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        started_at_ms INTEGER,
        finished_at_ms INTEGER,
        exec_state TEXT NOT NULL,
        pid INTEGER,
        exit_code INTEGER,
        exec_detail TEXT,
        workspace TEXT NOT NULL,
        db_path TEXT NOT NULL,
        log_path TEXT NOT NULL,
        -- Cached from the Smithers DB so the list filters and pages in SQL.
        status TEXT NOT NULL,
        phase TEXT NOT NULL,
        task TEXT,
        progress_finished INTEGER NOT NULL DEFAULT 0,
        progress_total INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        updated_at_ms INTEGER NOT NULL
    );
    CREATE INDEX runs_by_created ON runs (created_at_ms DESC, run_id DESC);
    CREATE INDEX runs_by_status ON runs (status, created_at_ms DESC, run_id DESC);
    CREATE INDEX runs_by_template ON runs (template, created_at_ms DESC, run_id DESC);
    CREATE INDEX runs_active ON runs (exec_state) WHERE exec_state IN ('pending', 'running');

    CREATE TABLE run_events (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs (run_id),
        at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        actor TEXT
    );
    CREATE INDEX run_events_by_run ON run_events (run_id, id);

    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        actor TEXT NOT NULL,
        source TEXT,
        action TEXT NOT NULL,
        target TEXT,
        detail TEXT
    );
    "#,
    // 2: people, their sessions and API tokens (secrets stored as SHA-256 hashes only).
    r#"
    CREATE TABLE users (
        username TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at_ms INTEGER NOT NULL,
        last_login_ms INTEGER
    );
    CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES users (username),
        created_at_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL
    );
    CREATE INDEX sessions_by_user ON sessions (username);
    CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL REFERENCES users (username),
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at_ms INTEGER NOT NULL,
        last_used_ms INTEGER,
        revoked_at_ms INTEGER
    );
    CREATE INDEX audit_by_time ON audit_log (id DESC);
    "#,
    // 3: which Smithers observation the cached run state came from (a stale read must
    // never overwrite a newer one); runs waiting at a gate are watched too.
    r#"
    ALTER TABLE runs ADD COLUMN observed_seq INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX runs_waiting ON runs (status) WHERE status = 'waiting-approval';
    CREATE INDEX sessions_by_expiry ON sessions (expires_at_ms);
    "#,
    // 4: env sets, their values sealed (see `sealed.rs`); which env set a run used.
    r#"
    CREATE TABLE env_sets (
        project TEXT NOT NULL,
        env TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        updated_by TEXT NOT NULL,
        PRIMARY KEY (project, env)
    );
    CREATE TABLE env_vars (
        project TEXT NOT NULL,
        env TEXT NOT NULL,
        key TEXT NOT NULL,
        sealed BLOB NOT NULL,
        PRIMARY KEY (project, env, key),
        FOREIGN KEY (project, env) REFERENCES env_sets (project, env) ON DELETE CASCADE
    );
    ALTER TABLE runs ADD COLUMN env TEXT;
    "#,
    // 5: specs (fabrik's JSON, as written) and their todos.
    r#"
    CREATE TABLE specs (
        id TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        goals INTEGER NOT NULL,
        revision INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        updated_by TEXT NOT NULL
    );
    CREATE TABLE todos (
        spec_id TEXT PRIMARY KEY REFERENCES specs (id) ON DELETE CASCADE,
        body TEXT NOT NULL,
        approved_at_ms INTEGER,
        approved_by TEXT,
        updated_at_ms INTEGER NOT NULL,
        updated_by TEXT NOT NULL
    );
    "#,
    // 6: a run's settings from the dispatch form (repo, cpu, memory, model, iterations).
    r#"
    ALTER TABLE runs ADD COLUMN options TEXT;
    "#,
    // 7: schedules and every fire of each (a cron time is claimed once: the unique key).
    r#"
    CREATE TABLE schedules (
        name TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        suspended INTEGER NOT NULL DEFAULT 0,
        next_fire_ms INTEGER,
        created_at_ms INTEGER NOT NULL,
        created_by TEXT NOT NULL
    );
    CREATE TABLE schedule_fires (
        id INTEGER PRIMARY KEY,
        schedule TEXT NOT NULL REFERENCES schedules (name) ON DELETE CASCADE,
        scheduled_ms INTEGER NOT NULL,
        fired_at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        outcome TEXT NOT NULL,
        run_id TEXT,
        UNIQUE (schedule, scheduled_ms, kind)
    );
    CREATE INDEX schedule_fires_by_schedule ON schedule_fires (schedule, id DESC);
    "#,
    // 8: notifications: browsers subscribed to Web Push, alert channels, gates raised,
    // the outbox every message is delivered from, and single-use approve tokens.
    r#"
    CREATE TABLE push_subscriptions (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
        endpoint TEXT NOT NULL UNIQUE,
        p256dh TEXT NOT NULL,
        auth TEXT NOT NULL,
        device TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        last_sent_ms INTEGER
    );
    CREATE TABLE notify_channels (
        kind TEXT PRIMARY KEY,
        enabled INTEGER NOT NULL,
        -- Sealed JSON: the settings hold secrets.
        config BLOB NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        last_sent_ms INTEGER,
        last_error TEXT
    );
    CREATE TABLE notify_settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        json TEXT NOT NULL
    );
    CREATE TABLE gate_alerts (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        gate TEXT NOT NULL,
        alert TEXT NOT NULL,
        raised_at_ms INTEGER NOT NULL,
        escalated_at_ms INTEGER,
        decided_at_ms INTEGER,
        UNIQUE (run_id, gate)
    );
    CREATE INDEX gate_alerts_open ON gate_alerts (raised_at_ms) WHERE decided_at_ms IS NULL;
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        alert_id INTEGER REFERENCES gate_alerts (id),
        alert TEXT NOT NULL,
        kind TEXT NOT NULL,
        kind_name TEXT NOT NULL,
        -- 'push' or a channel kind; a push names the subscription and its owner.
        channel TEXT NOT NULL,
        subscription_id INTEGER NOT NULL DEFAULT 0,
        username TEXT,
        -- pending | sending | sent | failed | cancelled
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at_ms INTEGER NOT NULL,
        last_error TEXT,
        created_at_ms INTEGER NOT NULL,
        sent_at_ms INTEGER,
        UNIQUE (alert_id, kind_name, channel, subscription_id)
    );
    CREATE INDEX outbox_due ON outbox (next_at_ms) WHERE state = 'pending';
    CREATE TABLE approve_tokens (
        hash TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        gate TEXT NOT NULL,
        username TEXT NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        used_at_ms INTEGER
    );
    "#,
    // 9: per-run token figures (so metrics never open run DBs), and admin settings.
    r#"
    CREATE TABLE run_tokens (
        run_id TEXT NOT NULL REFERENCES runs (run_id),
        model TEXT NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        PRIMARY KEY (run_id, model)
    ) WITHOUT ROWID;
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        updated_by TEXT NOT NULL
    );
    "#,
    // 10: backups taken from the admin page or the API.
    r#"
    CREATE TABLE backups (
        id INTEGER PRIMARY KEY,
        started_at_ms INTEGER NOT NULL,
        finished_at_ms INTEGER,
        path TEXT,
        bytes INTEGER NOT NULL DEFAULT 0,
        runs INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        by TEXT NOT NULL
    );
    "#,
    // 11: rate-limit failures seen in runs, per provider.
    r#"
    CREATE TABLE rate_limit_events (
        run_id TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        provider TEXT NOT NULL,
        message TEXT NOT NULL,
        PRIMARY KEY (run_id, at_ms, message)
    ) WITHOUT ROWID;
    CREATE INDEX rate_limits_by_provider ON rate_limit_events (provider, at_ms DESC);
    "#,
    // 12: free-text search of runs (`q=`) through a trigram index kept in step with the
    // runs table, so a search that matches nothing never reads every row.
    r#"
    CREATE VIRTUAL TABLE runs_fts USING fts5(
        run_id, spec, template, task, project,
        content = 'runs', tokenize = 'trigram'
    );
    CREATE TRIGGER runs_fts_insert AFTER INSERT ON runs BEGIN
        INSERT INTO runs_fts (rowid, run_id, spec, template, task, project)
        VALUES (new.rowid, new.run_id, new.spec, new.template, new.task, new.project);
    END;
    CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs BEGIN
        INSERT INTO runs_fts (runs_fts, rowid, run_id, spec, template, task, project)
        VALUES ('delete', old.rowid, old.run_id, old.spec, old.template, old.task, old.project);
    END;
    CREATE TRIGGER runs_fts_update AFTER UPDATE OF run_id, spec, template, task, project ON runs
    BEGIN
        INSERT INTO runs_fts (runs_fts, rowid, run_id, spec, template, task, project)
        VALUES ('delete', old.rowid, old.run_id, old.spec, old.template, old.task, old.project);
        INSERT INTO runs_fts (rowid, run_id, spec, template, task, project)
        VALUES (new.rowid, new.run_id, new.spec, new.template, new.task, new.project);
    END;
    INSERT INTO runs_fts (runs_fts) VALUES ('rebuild');
    "#,
];

pub fn apply(conn: &mut Connection) -> rusqlite::Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_idempotent_and_versioned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut conn = Connection::open(&path).unwrap();
        apply(&mut conn).unwrap();
        apply(&mut conn).unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
    }

    #[test]
    fn runs_stored_before_the_search_index_are_found_after_it() {
        let mut conn = Connection::open_in_memory().unwrap();
        for (i, sql) in MIGRATIONS[..11].iter().enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", i as i64 + 1)
                .unwrap();
        }
        conn.execute(
            "INSERT INTO runs (run_id, template, backend, created_at_ms, exec_state, workspace, \
             db_path, log_path, status, phase, updated_at_ms) \
             VALUES ('old-run-1', 'demo', 'local', 1, 'exited', '/w', '/w/db', '/w/log', 'finished', 'done', 1)",
            [],
        )
        .unwrap();
        apply(&mut conn).unwrap();
        let found: String = conn
            .query_row(
                "SELECT run_id FROM runs WHERE rowid IN \
                 (SELECT rowid FROM runs_fts WHERE runs_fts MATCH '\"old-run\"')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(found, "old-run-1");
    }
}
