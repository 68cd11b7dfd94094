"""Forward-only schema migrations, applied at open inside one ``BEGIN IMMEDIATE`` transaction.

Append new migrations at the end; never edit one that has shipped. ``schema_version`` holds one row
per applied migration.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "initial schema",
        """
        CREATE TABLE workspaces (
            name TEXT PRIMARY KEY,
            org TEXT NOT NULL DEFAULT '',
            plan TEXT NOT NULL DEFAULT 'shared' CHECK (plan IN ('shared', 'dedicated')),
            host_context TEXT NOT NULL DEFAULT '',
            vcluster_context TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL
        );
        CREATE TABLE instance_types (
            name TEXT PRIMARY KEY,
            vcpu INTEGER NOT NULL,
            ram_gib INTEGER NOT NULL,
            disk_gib INTEGER NOT NULL,
            monthly_price REAL NOT NULL,
            position INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE prices (
            key TEXT PRIMARY KEY,
            value REAL NOT NULL,
            unit TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE workflows (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            workspace TEXT NOT NULL DEFAULT '',
            target TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            lease_owner TEXT,
            lease_expires TEXT,
            error TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX workflows_status ON workflows (status);
        CREATE TABLE workflow_steps (
            workflow_id TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            name TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            started_at TEXT,
            finished_at TEXT,
            detail TEXT NOT NULL DEFAULT '',
            upid TEXT,
            result TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (workflow_id, idx)
        );
        CREATE TABLE billing_lines (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            workspace TEXT NOT NULL,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            item TEXT NOT NULL,
            kind TEXT NOT NULL,
            quantity REAL NOT NULL,
            unit TEXT NOT NULL,
            unit_price REAL NOT NULL,
            amount REAL NOT NULL,
            ref TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX billing_lines_ws_period ON billing_lines (workspace, period_start);
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts TEXT NOT NULL,
            workspace TEXT NOT NULL DEFAULT '',
            severity TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL DEFAULT '',
            target TEXT NOT NULL DEFAULT '',
            message TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL DEFAULT 'firing',
            fingerprint TEXT NOT NULL DEFAULT '',
            acknowledged_at TEXT,
            resolved_at TEXT
        );
        CREATE INDEX alerts_state ON alerts (workspace, state);
        CREATE INDEX alerts_fingerprint ON alerts (fingerprint, state);
        CREATE TABLE chat_messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts TEXT NOT NULL,
            workspace TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL,
            author TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            action TEXT
        );
        CREATE INDEX chat_messages_ws ON chat_messages (workspace, id);
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts TEXT NOT NULL,
            actor TEXT NOT NULL DEFAULT '',
            profile TEXT NOT NULL DEFAULT '',
            action TEXT NOT NULL,
            target TEXT NOT NULL DEFAULT '',
            params TEXT NOT NULL DEFAULT '{}',
            outcome TEXT NOT NULL CHECK (outcome IN ('started', 'ok', 'error')),
            detail TEXT NOT NULL DEFAULT '',
            upid TEXT
        );
        CREATE INDEX audit_ts ON audit (ts);
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TABLE metric_samples (
            ts TEXT NOT NULL,
            workspace TEXT NOT NULL DEFAULT '',
            metric TEXT NOT NULL,
            target TEXT NOT NULL DEFAULT '',
            value REAL NOT NULL,
            labels TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX metric_samples_series ON metric_samples (metric, target, ts);
        """,
    ),
)

LATEST_VERSION = MIGRATIONS[-1][0]
