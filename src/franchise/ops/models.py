"""State that several server and worker processes must share, kept in the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow


class WorkerHeartbeat(Base):
    """A running `franchise worker`, seen every few seconds: while one is alive the
    in-process drainer of `franchise serve` (FRANCHISE_INPROCESS_WORKER=auto) stands aside."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    # worker: `franchise worker`; serve-on / serve-auto: the in-process drainer, by its mode.
    kind: Mapped[str] = mapped_column(String(16), default="worker")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    processed: Mapped[int] = mapped_column(default=0)
