"""Backup and restore of the whole database: SQLite online backups and pg_dump archives."""
