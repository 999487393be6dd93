"""The story the KPI tells: owner interruptions falling week by week, a drill, lessons.

Week 0 has about twelve interruptions, the last complete week about two; deflections
(questions Ask the owner answered from the system) rise as the runbooks land.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from franchise.demo import catalogue, stories
from franchise.demo.records import ClientPlan, ContactPlan, DrillPlan, ReviewPlan, TicketPlan
from franchise.demo.timeline import (
    WEEK,
    evening_time,
    is_after_hours,
    next_office_moment,
    office_time,
    week_start,
)

INTERRUPTIONS = (12, 10, 9, 7, 5, 4, 3, 2)
DEFLECTIONS = (0, 1, 1, 2, 3, 4, 5, 6)
CURRENT_WEEK = (2, 6)  # interruptions and deflections per week, pro rata for this week
DRILL_WEEK = 5  # of the eight complete weeks: about two to three weeks before `now`
# Early on the team asks for permission and for answers; later what remains is mostly
# customer conversations and genuine escalations.
REASONS = ("approval", "technical_decision", "customer_communication", "escalation", "other")
EARLY_REASONS = (40, 35, 12, 8, 5)
LATE_REASONS = (20, 25, 25, 25, 5)
CHANNELS = ("call", "text", "chat", "email", "in_person", "in_app")
EARLY_CHANNELS = (35, 25, 25, 5, 10, 0)
LATE_CHANNELS = (25, 20, 20, 5, 5, 25)
AMOUNTS = (45, 89, 120, 189, 240, 350, 480, 650)
L2_NAME = "Tomasz"


def drill_window(weeks: tuple[datetime, ...]) -> DrillPlan:
    """Tuesday 08:00 to Friday 08:00 of the drill week (the review is added later)."""
    starts = weeks[DRILL_WEEK] + timedelta(days=1, hours=8)
    ends = starts + timedelta(days=3)
    return DrillPlan(starts, ends, ends + timedelta(minutes=12), stories.DRILL_CRITERIA, ())


def build_contacts(
    rng: random.Random,
    clients: tuple[ClientPlan, ...],
    tickets: tuple[TicketPlan, ...],
    weeks: tuple[datetime, ...],
    now: datetime,
) -> tuple[ContactPlan, ...]:
    drill = drill_window(weeks)
    story = _Story(rng, clients, tickets, now, drill)
    contacts: list[ContactPlan] = []
    for i, week in enumerate(weeks):
        noise = rng.choice((0, 1)) if i == 0 else rng.choice((-1, 0, 1))
        interruptions = INTERRUPTIONS[i] + noise
        if i == DRILL_WEEK:
            interruptions -= 1  # the drill's emergency is one of the week's interruptions
            contacts += story.drill_contacts()
        contacts += story.week(i, week, "interruption", interruptions)
        contacts += story.week(i, week, "deflection", DEFLECTIONS[i] + rng.choice((-1, 0, 0, 1)))
    current = week_start(now)
    elapsed = (now - current) / WEEK
    contacts += story.week(len(weeks), current, "interruption", round(CURRENT_WEEK[0] * elapsed))
    contacts += story.week(len(weeks), current, "deflection", round(CURRENT_WEEK[1] * elapsed))
    return tuple(sorted(contacts, key=lambda c: (c.occurred_at, c.question)))


class _Story:
    """Draws contacts one at a time; holds what every draw needs."""

    def __init__(
        self,
        rng: random.Random,
        clients: tuple[ClientPlan, ...],
        tickets: tuple[TicketPlan, ...],
        now: datetime,
        drill: DrillPlan,
    ) -> None:
        self.rng = rng
        self.clients = clients
        self.tickets = tickets
        self.now = now
        self.drill = drill

    def week(self, index: int, week: datetime, outcome: str, count: int) -> list[ContactPlan]:
        progress = min(index / 7, 1.0)
        drawn = []
        for _ in range(max(count, 0)):
            when = self._moment(week, outcome, progress)
            if when is None:
                continue
            reason = self.rng.choices(
                REASONS, weights=_blend(EARLY_REASONS, LATE_REASONS, progress)
            )[0]
            if outcome == "deflection":
                channel = "in_app"
            else:
                weights = _blend(EARLY_CHANNELS, LATE_CHANNELS, progress)
                channel = self.rng.choices(CHANNELS, weights=weights)[0]
            drawn.append(self._contact(when, reason, outcome, channel))
        return drawn

    def drill_contacts(self) -> list[ContactPlan]:
        drawn = []
        for reason in ("approval", "technical_decision", "customer_communication", "escalation"):
            when = self._drill_moment()
            channel = self.rng.choice(("in_app", "in_app", "text"))
            drawn.append(self._contact(when, reason, "refused", channel, in_drill=True))
        drawn.append(
            self._contact(
                self._drill_moment(),
                "escalation",
                "interruption",
                "emergency_escalation",
                in_drill=True,
                emergency=True,
            )
        )
        return drawn

    def _drill_moment(self) -> datetime:
        day = self.drill.starts_at.replace(hour=0) + timedelta(days=self.rng.randrange(3))
        return max(office_time(self.rng, day), self.drill.starts_at + timedelta(minutes=30))

    def _moment(self, week: datetime, outcome: str, progress: float) -> datetime | None:
        # Out-of-hours texts to the owner fade as the team stops needing the owner.
        after_hours = 0.3 - 0.22 * progress if outcome == "interruption" else 0.05
        for _ in range(50):
            if self.rng.random() < after_hours:
                when = evening_time(self.rng, week)
            else:
                when = office_time(self.rng, week + timedelta(days=self.rng.randrange(5)))
            in_drill = self.drill.starts_at <= when < self.drill.ends_at
            if when < self.now and not in_drill:
                return when
        return None

    def _contact(
        self,
        when: datetime,
        reason: str,
        outcome: str,
        channel: str,
        *,
        in_drill: bool = False,
        emergency: bool = False,
    ) -> ContactPlan:
        index = self._ticket_at(when, reason, emergency)
        ticket = self.tickets[index] if index is not None else None
        staff = self._asker(ticket, when)
        question, answer = self._words(ticket, reason, outcome, emergency)
        minutes = 0
        if outcome == "interruption":
            minutes = self.rng.randint(15, 25) if emergency else self.rng.randint(3, 25)
        return ContactPlan(
            occurred_at=when,
            channel=channel,
            ticket=index,
            staff=staff,
            reason=reason,
            emergency=emergency,
            minutes=minutes,
            outcome=outcome,
            after_hours=is_after_hours(when),
            question=question,
            answer=answer,
            in_drill=in_drill,
        )

    def _ticket_at(self, when: datetime, reason: str, emergency: bool) -> int | None:
        """A ticket open at `when` that fits the question, else any open ticket."""
        wanted = tuple(k for k in stories.QUESTIONS[reason] if k != "*")
        if emergency:
            wanted = ("backup", "endpoint-offline")
        open_now = [
            i
            for i, t in enumerate(self.tickets)
            if t.created_at <= when and (t.resolved_at is None or t.resolved_at > when)
        ]
        fitting = [i for i in open_now if self.tickets[i].category in wanted]
        if reason == "escalation" and not emergency:
            fitting = [i for i in open_now if self.tickets[i].level != "L1"] or fitting
        choices = fitting or open_now
        return self.rng.choice(choices) if choices else None

    def _asker(self, ticket: TicketPlan | None, when: datetime) -> str:
        holders = [
            c.assignee for c in (ticket.changes if ticket else ()) if c.assignee and c.at <= when
        ]
        if holders:
            return holders[-1]
        return self.rng.choice(catalogue.TECHNICIANS_L1 + catalogue.TECHNICIANS_L2)

    def _words(
        self, ticket: TicketPlan | None, reason: str, outcome: str, emergency: bool
    ) -> tuple[str, str | None]:
        client = self.clients[ticket.client] if ticket else self.rng.choice(self.clients)
        facts = dict(ticket.facts) if ticket else {}
        slots = {
            "client": client.name,
            "host": ticket.host if ticket and ticket.host else client.endpoints[-1].hostname,
            "server": ticket.host
            if ticket and ticket.host and "-SRV-" in ticket.host
            else client.endpoints[0].hostname,
            "user": ticket.user if ticket else client.users[0],
            "kb": facts.get("kb", "KB5034441"),
            "amount": str(self.rng.choice(AMOUNTS[:5] if outcome == "deflection" else AMOUNTS)),
            "l2": L2_NAME,
        }
        if emergency:
            question = self.rng.choice(stories.EMERGENCY_QUESTIONS)
            return question.format(**slots), stories.EMERGENCY_ANSWER
        by_category = stories.QUESTIONS[reason]
        category = ticket.category if ticket else "*"
        question = self.rng.choice(by_category.get(category, by_category["*"])).format(**slots)
        if outcome == "refused":
            return question, stories.DRILL_REFUSAL.format(**slots)
        answers = stories.DEFLECTIONS if outcome == "deflection" else stories.OWNER_ANSWERS
        return question, self.rng.choice(answers[reason]).format(**slots)


def _blend(early: tuple[int, ...], late: tuple[int, ...], progress: float) -> list[float]:
    return [e + (l_ - e) * progress for e, l_ in zip(early, late, strict=True)]


def build_reviews(
    rng: random.Random,
    contacts: tuple[ContactPlan, ...],
    weeks: tuple[datetime, ...],
) -> tuple[DrillPlan, tuple[ReviewPlan, ...]]:
    """The drill with its review (all disposed), and the weekly reviews of the last two weeks.

    The older weekly review is done; the last complete week's is waiting for the owner.
    """
    drill = drill_window(weeks)
    items = []
    for i, contact in enumerate(contacts):
        if not contact.in_drill:
            continue
        disposition, note = _disposal(rng, contact)
        when = next_office_moment(rng, drill.ended_at + timedelta(hours=rng.randint(20, 50)))
        items.append(ReviewPlan(i, disposition, note, when))
    drill = DrillPlan(drill.starts_at, drill.ends_at, drill.ended_at, drill.criteria, tuple(items))
    weekly = []
    for week_index, disposed in ((len(weeks) - 2, True), (len(weeks) - 1, False)):
        start, end = weeks[week_index], weeks[week_index] + WEEK
        label = start.date().isoformat()
        for i, contact in enumerate(contacts):
            if contact.outcome != "interruption" or contact.in_drill:
                continue
            if not start <= contact.occurred_at < end:
                continue
            if disposed:
                disposition, note = _disposal(rng, contact)
                when = office_time(rng, end)  # reviewed on the Monday after
                weekly.append(ReviewPlan(i, disposition, note, when, label))
            else:
                weekly.append(ReviewPlan(i, None, None, None, label))
    return drill, tuple(weekly)


def _disposal(rng: random.Random, contact: ContactPlan) -> tuple[str, str]:
    disposition, notes = stories.REVIEWS["emergency" if contact.emergency else contact.reason]
    return disposition, rng.choice(notes)
