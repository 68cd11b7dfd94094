"""The shell script each backup function runs, with keep-last-N retention (pure text, shell-quoted).

Every run writes ``<dest>/<name>-<UTC timestamp><ext>`` through a ``.part`` name renamed on success, so
a failed run never counts as a backup; retention keeps the newest N entries matching that pattern.
Mounts: the source claim read-only at ``/source``, the destination claim at ``/backup``.
"""

from __future__ import annotations

import shlex

from hks_tui.manifests.backup_spec import BackupSpec

SOURCE_MOUNT = "/source"
BACKUP_MOUNT = "/backup"
PRESET_IMAGES: dict[str, str] = {
    "tar": "docker.io/library/busybox:1.37",
    "rsync": "docker.io/instrumentisto/rsync-ssh:alpine3.21",
    "pg_dump": "docker.io/library/postgres:17-alpine",
    "mysqldump": "docker.io/library/mysql:8.4",
}

_PRELUDE = """set -eu
name={name}
keep={keep}
dest={dest}
ts=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$dest"
echo "backup $name: writing to $dest at $ts"
"""
_RETENTION = """ls -1 "$dest" | grep -E "^${name}-[0-9]{8}T[0-9]{6}Z(\\.|$)" | grep -v '\\.part$' | sort -r \\
  | tail -n +$((keep + 1)) | while read -r old; do echo "retention: removing $old"; rm -rf -- "$dest/$old"; done
echo "backup $name: done"
"""
_BODIES: dict[str, str] = {
    "tar": """part="$dest/$name-$ts.tar.gz.part"
tar -czf "$part" -C /source .
mv "$part" "$dest/$name-$ts.tar.gz"
""",
    "rsync": """latest=$(ls -1 "$dest" | grep -E "^${name}-[0-9]{8}T[0-9]{6}Z$" | sort -r | head -n 1 || true)
part="$dest/$name-$ts.part"
if [ -n "$latest" ]; then
  rsync -a --delete --link-dest="$dest/$latest" /source/ "$part/"
else
  rsync -a --delete /source/ "$part/"
fi
mv "$part" "$dest/$name-$ts"
""",
    "pg_dump": """part="$dest/$name-$ts.dump.part"
pg_dump --format=custom --file="$part"
mv "$part" "$dest/$name-$ts.dump"
""",
    "mysqldump": """part="$dest/$name-$ts.sql.part"
mysqldump --host="$DB_HOST" --port="$DB_PORT" --user="$DB_USER" --single-transaction --routines "$DB_NAME" > "$part"
gzip -c "$part" > "$dest/$name-$ts.sql.gz.part"
rm -f -- "$part"
mv "$dest/$name-$ts.sql.gz.part" "$dest/$name-$ts.sql.gz"
""",
    "custom": """export BACKUP_SOURCE=/source BACKUP_DEST="$dest" BACKUP_NAME="$name" BACKUP_TIMESTAMP="$ts"
"$@"
""",
}


def destination_dir(spec: BackupSpec) -> str:
    return BACKUP_MOUNT if spec.destination_path == "." else f"{BACKUP_MOUNT}/{spec.destination_path}"


def backup_script(spec: BackupSpec) -> str:
    prelude = _PRELUDE.format(
        name=shlex.quote(spec.name), keep=spec.keep_last, dest=shlex.quote(destination_dir(spec))
    )
    return prelude + _BODIES[spec.function] + _RETENTION


def backup_command(spec: BackupSpec) -> list[str]:
    """The container command: ``/bin/sh -c SCRIPT backup [custom argv…]`` (custom argv never re-parsed)."""
    return ["/bin/sh", "-c", backup_script(spec), "backup", *spec.command]


def backup_image(spec: BackupSpec) -> str:
    return spec.image or PRESET_IMAGES[spec.function]


def database_env(spec: BackupSpec) -> list[dict[str, object]]:
    db = spec.database
    if db is None:
        return []
    secret = {"secretKeyRef": {"name": db.password_secret.name, "key": db.password_secret.key}}
    if spec.function == "pg_dump":
        return [
            {"name": "PGHOST", "value": db.host},
            {"name": "PGPORT", "value": str(db.port or 5432)},
            {"name": "PGDATABASE", "value": db.database},
            {"name": "PGUSER", "value": db.user},
            {"name": "PGPASSWORD", "valueFrom": secret},
        ]
    return [
        {"name": "DB_HOST", "value": db.host},
        {"name": "DB_PORT", "value": str(db.port or 3306)},
        {"name": "DB_NAME", "value": db.database},
        {"name": "DB_USER", "value": db.user},
        {"name": "MYSQL_PWD", "valueFrom": secret},
    ]
