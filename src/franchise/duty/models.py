"""The duty roster: who takes escalations at a level, on which days and hours."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow


class DutyShift(Base):
    """One person on duty at a level for some weekdays between two local times.

    `days` is a string of weekday digits, Monday=0 ("01234" = Monday to Friday); `start` and
    `end` are minutes after local midnight in the organisation's time zone. A shift whose end
    is before its start runs past midnight (an evening-and-night on-call).
    """

    __tablename__ = "duty_shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(32), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    days: Mapped[str] = mapped_column(String(7))
    start_minute: Mapped[int]
    end_minute: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
