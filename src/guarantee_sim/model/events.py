"""The event record: a run's history as typed data.

The engine and the agents record what happens as ``Event`` values; they write no prose. The
narrative (``present/narrative.py``) turns events into sentences, the timeline
(``present/timeline.py``) into marks, and ``GuaranteeModel.events`` into a table. A run records
events only when asked (``GuaranteeModel(record=True)``): batch runs pay nothing for them.

Columns of the events table (one row per event, in the order they happened; empty where the
kind does not use the field): see ``docs/architecture.md``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields


class EventKind(enum.Enum):
    """What happened. The order is the chain from breach to activation."""

    CHOICE = "choice"  # the strategic violator chooses a rung (``count``) with its resolve belief (``share``)
    BREACH = "breach"  # an incident happens (one violation, or one kind's violations of one day)
    DETECTION = "detection"  # what became of it: seen by the monitoring, reported by Ukraine, or neither
    REFERRAL = "referral"  # an incident (or a false alarm) reaches the special commission
    FINDING = "finding"  # the commission's finding: attributed or not
    TRIGGER = "trigger"  # a tier's trigger rule fires
    INVOCATION = "invocation"  # Ukraine formally invokes the guarantees
    CONSULTATION = "consultation"  # the coordination cell completes its consultation round
    DECISION = "decision"  # a state's (or the EU's) step on the way to approval, or a refusal
    APPROVAL = "approval"  # a state's national approval, or the EU's sanctions package
    DELIVERY = "delivery"  # a state begins delivering a support type
    ACTIVATION = "activation"  # binding support (of one type, or overall) activated
    HORIZON = "horizon"  # the run reached its horizon; ``count``: decisions and deliveries still under way


class Reason(enum.Enum):
    """Why a detection, finding or decision came out as it did (a code; the words are the narrative's)."""

    SEEN = "seen"  # the monitoring detected the incident
    UKRAINE_REPORT = "ukraine_report"  # the monitoring missed it; Ukraine reports it
    UNREPORTED = "unreported"  # missed by the monitoring, not reported by Ukraine
    WAR = "war"  # a breach of the war that follows an armed attack (daily fire at war intensity)
    INCONCLUSIVE = "inconclusive"  # the evidence was inconclusive
    MEMBERS_SPLIT = "members_split"  # conclusive evidence, but the members split under the rule
    BOTH_SIDES = "both_sides"  # mutual fire: the commission finds violations by both sides, names neither
    OVERT_ATTACK = "overt_attack"  # the trigger fired on an overt armed attack, before any finding
    NO_FOLLOW_THROUGH = "no_follow_through"  # the state did not follow through on its commitment
    GAVE_UP = "gave_up"  # the state waited for its peers (or the US) longer than its patience
    RECONSIDERED = "reconsidered"  # a review or a new attack: states that declined decide again
    NEEDED_LEVEL = "needed_level"  # delivered military support reaches the level Ukraine needs
    UNSC_VETO = "unsc_veto"  # referred to the UN Security Council, where the violator vetoes
    WILLING = "willing"  # willing; its joining conditions are checked in the cascade
    WAITS_FOR_US = "waits_for_us"  # willing, but waits for the United States to act
    WAITS_FOR_PEERS = "waits_for_peers"  # willing, but its joining threshold is not met yet
    PROCEDURE_STARTED = "procedure_started"  # its national procedure started; decision due ``due``
    APPROVAL_REFUSED = "approval_refused"  # its national procedure refused approval
    EU_PACKAGE_HELD_UP = "eu_package_held_up"  # an EU member outside the coalition holds up the package
    EU_PACKAGE = "eu_package"  # the EU adopts the sanctions package
    APPROVED = "approved"  # approved by its national procedure
    DELIVERING = "delivering"  # delivering


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened in a run, with the fields its kind needs (others stay None)."""

    day: float
    kind: EventKind
    reason: Reason | None = None
    incident: int | None = None  # the incident's index in the plan (a false alarm's among false alarms)
    breach: str | None = None  # the breach kind's key, e.g. "armed_attack"
    breach_day: float | None = None  # when the incident happened (referrals, findings)
    count: int | None = None  # violations in the incident
    severity: float | None = None
    targets_force: bool | None = None
    seen: int | None = None  # violations the monitoring saw
    due: float | None = None  # when the report, or the decision, is due
    false_alarm: bool | None = None
    monitoring_evidence: bool | None = None
    conclusive: bool | None = None
    attributed: bool | None = None
    tier: int | None = None  # the trigger tier (index into the design's tiers)
    state: str | None = None  # the coalition state's name
    support: str | None = None  # the support type
    procedure: str | None = None  # the national procedure that decides
    threshold: float | None = None  # the state's joining threshold
    share: float | None = None  # the share of the coalition's capacity of that type acting

    def row(self) -> tuple:
        """The event as a table row (enums as their values)."""
        values = [getattr(self, name) for name in COLUMNS]
        values[1] = self.kind.value
        values[2] = None if self.reason is None else self.reason.value
        return tuple(values)


COLUMNS = tuple(f.name for f in fields(Event))


def events_frame(events: list[Event]):
    """The events as a DataFrame with one column per ``Event`` field, in the order they happened."""
    import pandas as pd

    return pd.DataFrame.from_records([e.row() for e in events], columns=list(COLUMNS))
