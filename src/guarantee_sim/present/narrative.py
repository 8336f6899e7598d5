"""The narrative: a run's events told in plain language, in one vocabulary.

Every sentence, stage explanation and "why" line of the project is made here from the typed
event record (``model/events.py``) and the model's state: ``guarantee-sim explain``, the
dashboard's log and the report's captions all call it. Nothing anywhere parses these words back.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from guarantee_sim.model.agents import SupportStatus
from guarantee_sim.model.breaches import BreachKind
from guarantee_sim.model.events import Event, EventKind, Reason
from guarantee_sim.model.outcomes import Stage
from guarantee_sim.scenario.schema import REGIMES

# vocabulary ----------------------------------------------------------------------------------
BREACH_WORDS = {
    "small_arms": "small-arms fire",
    "artillery": "artillery fire",
    "drone_missile": "drone or missile strike",
    "hybrid": "sabotage or cyber attack",
    "ground_incursion": "ground incursion",
    "armed_attack": "armed attack (major offensive)",
}
RUNG_WORDS = ("to comply", "a deniable probe", "an overt limited strike", "an incursion", "a full offensive")
# the secondary measure, and a design that binds nothing (its pooled measure has nothing to activate,
# which is no failure: figures grey it or leave it out and say so)
POOLED_MEASURE = "Pooled binding support activated (the secondary measure)"
NOTHING_BINDING = "nothing binding"
NOTHING_DRAWN = "nothing binding by construction: not drawn"


def nothing_binding(row) -> bool:
    """Does a sweep summary row's design bind nothing (``nothing_binding``, read back from CSV or JSON)?"""
    return str(row.get("nothing_binding", "")).lower() == "true"


STAGE_LABELS = {
    "activated": "activated",
    "pending_at_horizon": "pending at the horizon",
    "not_approved": "short of the activation share",
    "below_trigger": "below the trigger",
    "unattributed": "unattributed",
    "undetected": "undetected",
    "no_breach": "no breach",
}
STAGE_MEANING = {
    Stage.NO_BREACH: "no real breach within the horizon",
    Stage.UNDETECTED: "real breaches, none reported to the commission",
    Stage.UNATTRIBUTED: "incidents reached the commission but none was attributed",
    Stage.BELOW_TRIGGER: "attributed findings, but the trigger rule never fired",
    Stage.NOT_APPROVED: ("the trigger fired and nothing was pending, but the states delivering held less than "
                         "the activation share of all binding capacity: some declined or were refused, or a "
                         "graduated trigger's tier asked for some support types only"),
    Stage.PENDING_AT_HORIZON: "the trigger fired and decisions were still under way at the horizon",
    Stage.ACTIVATED: "pooled binding support activated within the horizon",
}
# the funnel, from the furthest stage reached to the first link that failed
FUNNEL_ORDER = ["activated", "pending_at_horizon", "not_approved", "below_trigger", "unattributed", "undetected", "no_breach"]
REGIME_ORDER = REGIMES  # the legal regimes, fastest procedure first (declared with the schema)
# kinds of story line that a brief story keeps (plus the finding that fires each trigger and the
# first armed attack); the states' own decisions are summed up per support type instead
DECISIVE_KINDS = (EventKind.TRIGGER, EventKind.INVOCATION, EventKind.CONSULTATION, EventKind.ACTIVATION)


def plain(name: str) -> str:
    """``notify_parliament`` -> ``notify parliament``."""
    return str(name).replace("_", " ")


def n_of(k: int, word: str, plural: str | None = None) -> str:
    return f"{k} {word if k == 1 else (plural or word + 's')}"


def day_text(d: float) -> str:
    return f"day {d:.1f}"


# one event, one sentence ------------------------------------------------------------------------
def _state(model, name: str):
    return next(a for a in model.coalition if a.name == name)


def _incident(e: Event) -> str:
    what = BREACH_WORDS[e.breach] + (f" ({e.count} violations)" if e.count and e.count > 1 else "")
    return what + (" hitting the multinational force" if e.targets_force else "")


def _detection(e: Event, model) -> str:
    what = _incident(e)
    if e.reason is Reason.SEEN:
        seen = f" ({e.seen} of {e.count} seen)" if e.count > 1 else ""
        return f"{what} detected by the monitoring mechanism{seen}; report due day {e.due:.1f}"
    if e.reason is Reason.UKRAINE_REPORT:
        return f"{what} missed by the monitoring mechanism; Ukraine reports it on day {e.due:.1f}"
    return f"{what} goes unreported: missed by the monitoring mechanism, not reported by Ukraine"


def _referral(e: Event, model) -> str:
    kind = BREACH_WORDS[e.breach]
    if e.false_alarm:
        return (f"false alarm: the monitoring mechanism reports {kind} on day {e.breach_day:.1f} that did not happen; "
                "referred to the special commission")
    src = "with monitoring evidence" if e.monitoring_evidence else "on Ukraine's report alone (no monitoring evidence)"
    return f"the day-{e.breach_day:.1f} {kind} referred to the special commission {src}"


def _finding(e: Event, model) -> str:
    label = BREACH_WORDS[e.breach]
    fa = " (it was a false alarm)" if e.false_alarm else ""
    if not e.attributed:
        why = ("the evidence is inconclusive" if e.reason is Reason.INCONCLUSIVE
               else "both sides fired; it finds violations by both and names neither" if e.reason is Reason.BOTH_SIDES
               else f"the evidence is conclusive but the members split ({plain(model.spec.decision_rule.name)} rule)")
        return f"commission cannot attribute the day-{e.breach_day:.1f} {label}: {why}{fa}"
    return (f"commission attributes the day-{e.breach_day:.1f} {label} to the violator{fa}"
            + ("" if e.conclusive else " although the evidence is inconclusive"))


def _trigger(e: Event, model) -> str:
    tier = model.spec.tiers[e.tier]
    on = ("an overt armed attack, before the commission's finding (the design's overt-attack path)"
          if e.reason is Reason.OVERT_ATTACK else tier.rule.describe())
    return f"trigger fires on {on}: the coalition must now decide on {', '.join(tier.types)} support"


def _decision(e: Event, model) -> str:
    if e.reason is Reason.EU_PACKAGE_HELD_UP:
        return "an EU member outside the coalition holds up the sanctions package"
    if e.reason is Reason.WAITS_FOR_US:
        return f"{e.state} is willing to give {e.support} support but waits for the United States to act"
    if e.reason is Reason.PROCEDURE_STARTED:
        state = _state(model, e.state)
        why = (f"threshold {e.threshold:.0%} met: {e.share:.0%} of the coalition's {e.support} capacity acts"
               if e.threshold > 0 else "acts first: threshold 0%")
        if state.waits_for_us():
            why += "; the United States is acting"
        return (f"{e.state} starts its {plain(e.procedure)} procedure for {e.support} support ({why}); "
                f"decision due day {e.due:.1f}")
    if e.reason is Reason.APPROVAL_REFUSED:
        return f"{e.state}: {plain(e.procedure)} approval of {e.support} support refused"
    if e.reason is Reason.RECONSIDERED:
        return (f"review {e.count}: the states that declined, gave up or were refused decide again "
                "(their stance can move; the coalition's common political mood stays)")
    if e.reason is Reason.GAVE_UP:
        return f"{e.state} gives up waiting to give {e.support} support: its peers (or the United States) did not act"
    return f"{e.state} declines {e.support} support: {reason_text(model, _state(model, e.state), e.support, e.reason)}"


def _approval(e: Event, model) -> str:
    if e.reason is Reason.EU_PACKAGE:
        return "the EU adopts the sanctions package: its members' economic support is approved"
    return f"{e.state} approves {e.support} support ({plain(e.procedure)} procedure)"


def _activation(e: Event, model) -> str:
    if e.reason is Reason.NEEDED_LEVEL:
        return (f"military support delivered reaches what Ukraine needs: EUR {e.share:.1f} bn a year "
                f"(needs {model.spec.military_support_needed:g})")
    return f"binding {e.support} support activated" if e.support else "pooled binding support activated"


def _horizon(e: Event, model) -> str:
    if e.count:
        return f"the horizon: {n_of(e.count, 'decision or delivery', 'decisions or deliveries')} still under way"
    return "the horizon: nothing left in train"


def _choice(e: Event, model) -> str:
    return (f"the violator weighs the ladder and chooses {RUNG_WORDS[e.count]} (it believes binding military support "
            f"would follow an offensive with probability {e.share:.0%}; it expects the commission to take "
            f"~{e.due:.0f} days)")


SENTENCES = {
    EventKind.CHOICE: _choice,
    EventKind.BREACH: lambda e, m: (f"{'war goes on' if e.reason is Reason.WAR else 'breach'}: {_incident(e)}, "
                                    f"severity {e.severity:.1f}"),
    EventKind.DETECTION: _detection,
    EventKind.REFERRAL: _referral,
    EventKind.FINDING: _finding,
    EventKind.TRIGGER: _trigger,
    EventKind.INVOCATION: lambda e, m: "Ukraine formally invokes the guarantees",
    EventKind.CONSULTATION: lambda e, m: "the coordination cell in Paris completes the consultation round; each state decides",
    EventKind.DECISION: _decision,
    EventKind.APPROVAL: _approval,
    EventKind.DELIVERY: lambda e, m: f"{e.state} begins delivering {e.support} support",
    EventKind.ACTIVATION: _activation,
    EventKind.HORIZON: _horizon,
}


def sentence(event: Event, model) -> str:
    """One event in plain language."""
    return SENTENCES[event.kind](event, model)


def story(model, brief: bool = False) -> list[tuple[float, str, str]]:
    """The run so far as (day, kind, sentence) lines; ``brief``: the decisive events only."""
    events = [e for e in model.event_log if e.kind is not EventKind.HORIZON]
    if brief:
        events = brief_events(events)
    return [(e.day, e.kind.value, sentence(e, model)) for e in events]


def brief_events(events: list[Event]) -> list[Event]:
    """The first armed attack, each trigger with the finding that fired it, the invocations and
    consultations that followed, and each activation (the states' decisions: ``decisions_by_type``)."""
    kept, last_finding, attacked = [], None, False
    for e in events:
        if e.kind is EventKind.FINDING:
            last_finding = e
        elif e.kind is EventKind.BREACH and e.breach == BreachKind.ARMED_ATTACK.key and not attacked:
            attacked = True
            kept.append(e)
        elif e.kind in DECISIVE_KINDS:
            if e.kind is EventKind.TRIGGER and last_finding is not None and last_finding not in kept:
                kept.append(last_finding)
            kept.append(e)
    return kept


# the funnel from the record ------------------------------------------------------------------
def stage_of(events) -> str:
    """The funnel stage a run reached, read from its events table alone (``GuaranteeModel.events``
    or the file ``explain --events`` writes). Without a ``horizon`` row (a run still going), a
    fired trigger reads ``pending_at_horizon``."""
    kind = events["kind"].to_numpy()
    overall = events["support"].isna().to_numpy()
    attributed = events["attributed"].eq(True).to_numpy()
    real = events["false_alarm"].eq(False).to_numpy()
    if ((kind == "activation") & overall).any():
        return Stage.ACTIVATED.value
    if (kind == "trigger").any():
        end = events.loc[kind == "horizon", "count"]
        return Stage.NOT_APPROVED.value if len(end) and end.iloc[-1] == 0 else Stage.PENDING_AT_HORIZON.value
    if ((kind == "finding") & attributed).any():
        return Stage.BELOW_TRIGGER.value
    if ((kind == "referral") & real).any():
        return Stage.UNATTRIBUTED.value
    if (kind == "breach").any():
        return Stage.UNDETECTED.value
    return Stage.NO_BREACH.value


# the chain and the "why" ---------------------------------------------------------------------
@dataclass
class Step:
    """One link of the chain breach -> ... -> activation, as far as a run has got."""

    label: str
    reached: bool
    detail: str


def chain(model) -> list[Step]:
    """The funnel of one run (also mid-run, for the dashboard)."""
    m, r = model, model.response
    trig = min(m.trigger_day.values(), default=math.nan)
    acting = sum(a.acting for a in m.coalition)
    need = m.spec.activation_share
    act = r.activation_day
    return [
        Step("Breaches", m.n_incidents > 0, f"{n_of(m.n_breaches, 'violation')} in {n_of(m.n_incidents, 'incident')}"),
        Step("Reported to the commission", m.n_referred_real > 0,
             f"{n_of(m.n_referred_real, 'incident')} referred ({m.n_detected} violations seen by the monitoring, "
             f"{m.n_reported_by_ukraine} reported by Ukraine)"),
        Step("Attributed", m.n_attributed > 0,
             f"{m.n_attributed} of {m.n_findings} findings attribute an incident to the violator"),
        Step("Trigger fired", bool(m.trigger_day), "not yet" if math.isnan(trig) else f"day {trig:.1f}"),
        Step("States acting", acting > 0, f"{acting} of {len(m.coalition)} states approved or delivering"),
        Step("Military support reaches Ukraine's need", not math.isnan(r.military_needed_day),
             (f"day {r.military_needed_day:.1f}; " if not math.isnan(r.military_needed_day) else "")
             + f"EUR {r.military_delivered():.1f} bn a year delivered (needs {m.spec.military_support_needed:g})"),
        Step("Pooled binding support activated", not math.isnan(act),
             (f"day {act:.1f}; " if not math.isnan(act) else "")
             + f"{r.binding_share():.0%} of committed binding capacity delivering (needs {need:.0%})"),
    ]


def rule_text(model) -> str:
    rules = [tier.rule.describe() for tier in model.spec.tiers]
    if len(rules) == 1:
        return rules[0]
    return "; ".join(f"{', '.join(t.types)}: {r}" for t, r in zip(model.spec.tiers, rules))


def pending(model) -> list[tuple[float, str]]:
    """Decisions and deliveries still in the model's queue, as (due day, plain text)."""
    out = []
    for day, kind, args in model.scheduled():
        if kind == "approval":
            state, stype, _ = args
            out.append((day, f"{state.name}'s {plain(state.procedure(stype))} decision on {stype} support"))
        elif kind == "delivery":
            state, stype = args
            out.append((day, f"{state.name}'s first delivery of {stype} support"))
        elif kind == "eu_package":
            out.append((day, "the EU sanctions package"))
        elif kind == "invoked":
            out.append((day, "Ukraine's formal invocation of the guarantees"))
        elif kind == "decide":
            out.append((day, "the end of the coordination cell's consultation round"))
        elif kind == "trigger":
            out.append((day, "the coalition's response to the trigger"))
    return out


def _unattributed(model) -> str:
    split = Counter(e.reason for e in model.event_log
                    if e.kind is EventKind.FINDING and not e.attributed and not e.false_alarm)
    inconclusive, members, both = split[Reason.INCONCLUSIVE], split[Reason.MEMBERS_SPLIT], split[Reason.BOTH_SIDES]
    open_ = model.n_referred_real - inconclusive - members - both
    parts = [f"{inconclusive} with inconclusive evidence" if inconclusive else "",
             f"{both} found to be violations by both sides" if both else "",
             f"{members} with the evidence conclusive but the members split" if members else "",
             f"{open_} still under investigation at the horizon" if open_ else ""]
    return (f"{n_of(model.n_referred_real, 'incident')} reached the commission, which attributed none: "
            + "; ".join(p for p in parts if p) + ".")


def why(model) -> str:
    """Why the run stopped where it did, in one or two sentences."""
    m, r = model, model.response
    stage = m.stage()
    if stage is Stage.NO_BREACH:
        return ("The violator committed no breach within the horizon"
                + (f"; {n_of(m.n_false_alarms, 'false alarm')} reached the commission." if m.n_false_alarms else "."))
    if stage is Stage.UNDETECTED:
        return (f"{n_of(m.n_incidents, 'incident')} happened, but none reached the commission: the monitoring mechanism "
                "missed them and Ukraine did not report them (or the reports were still due at the horizon).")
    if stage is Stage.UNATTRIBUTED:
        return _unattributed(m)
    if stage is Stage.BELOW_TRIGGER:
        return (f"The commission attributed {n_of(m.n_attributed, 'incident')}, but the trigger rule was never met: "
                f"{rule_text(m)}.")
    trig = min(m.trigger_day.values())
    delivering, need = r.binding_share(), m.spec.activation_share
    if r.total_binding <= 0:
        helping = sum(a.acting for a in m.coalition)
        return (f"The trigger fired on day {trig:.1f}, but nothing in this design is binding: the {helping} states that "
                "help do so at their own discretion, so binding support cannot activate.")
    if stage is Stage.ACTIVATED:
        return (f"The trigger fired on day {trig:.1f}; by day {r.activation_day:.1f} states holding {need:.0%} of the "
                f"committed binding capacity were delivering ({delivering:.0%} at the horizon).")
    blocked = Counter()
    for state in m.coalition:
        for t in set(r.decided_types):
            if not state.binding(t) or state.status[t] is SupportStatus.NOT_COMMITTED:
                continue
            status = state.status[t]
            if status is SupportStatus.DECLINED:
                blocked["declined: " + reason_text(m, state, t, state.reason[t])] += 1
            elif status is SupportStatus.DECIDING:
                blocked["still deciding: " + deciding_text(m, state, t)] += 1
    top = "; ".join(f"{reason} ({n})" for reason, n in blocked.most_common(4))
    if stage is Stage.PENDING_AT_HORIZON:
        due = pending(m)
        shown = ", ".join(f"{what} (due day {day:.1f})" for day, what in due[:3])
        more = f" and {len(due) - 3} more" if len(due) > 3 else ""
        return (f"The trigger fired on day {trig:.1f}, but at the horizon only {delivering:.0%} of the committed binding "
                f"capacity was delivering (needs {need:.0%}) and decisions were still under way: {shown}{more}.")
    return (f"The trigger fired on day {trig:.1f}, but only {delivering:.0%} of the committed binding capacity was "
            f"delivering at the horizon (needs {need:.0%}), and nothing was left in train. "
            f"Binding commitments that did not turn into support (state x support type): {top or 'none'}.")


# one state's commitment ------------------------------------------------------------------------
def reason_text(model, state, stype: str, reason: Reason | None) -> str:
    """A state's reason code for one support type, in words."""
    if reason is Reason.UNSC_VETO:
        return "referred to the UN Security Council, where the violator vetoes"
    if reason is Reason.NO_FOLLOW_THROUGH:
        return "did not follow through"
    if reason is Reason.GAVE_UP:
        return "gave up waiting for its peers or the United States"
    if reason is Reason.APPROVAL_REFUSED:
        return f"{plain(state.procedure(stype))} approval refused"
    if reason is Reason.WAITS_FOR_US:
        return "waiting for the United States to act"
    if reason is Reason.WAITS_FOR_PEERS:
        return f"waiting until {state.threshold:.0%} of the coalition's {stype} capacity acts"
    if reason is Reason.APPROVED:
        return f"approved by its {plain(state.procedure(stype))} procedure"
    if reason is Reason.DELIVERING:
        return "delivering"
    if reason is Reason.WILLING:
        waits = [f"{state.threshold:.0%} of the coalition's {stype} capacity acts"] if state.threshold > 0 else []
        if state.waits_for_us():
            waits.append("the United States acts")
        return "willing; waits until " + " and ".join(waits) if waits else "willing"
    return ""


def deciding_text(model, state, stype: str) -> str:
    """Where a deciding state stands: its procedure under way, the EU package, or its conditions."""
    for day, kind, args in model.scheduled():
        if kind == "approval" and args[0] is state and args[1] == stype:
            return f"{plain(state.procedure(stype))} procedure under way, decision due day {day:.1f}"
    if any(s is state and t == stype for s, t in model.response.waiting_for_eu):
        return "waits for the EU sanctions package"
    text = reason_text(model, state, stype, state.reason.get(stype))
    return (text[len("willing; "):] if text.startswith("willing; ") else text) or "willing"


def support_text(model, state, stype: str) -> str:
    """Where one state's commitment of one support type ended, and why."""
    status = state.status[stype]
    proc = plain(state.procedure(stype))
    if status is SupportStatus.COMMITTED:
        return "committed; never asked (its trigger did not fire or the consultation was still under way)"
    if status is SupportStatus.DECIDING:
        return "deciding: " + deciding_text(model, state, stype)
    if status is SupportStatus.APPROVED:
        due = next((d for d, k, a in model.scheduled() if k == "delivery" and a[0] is state and a[1] == stype), math.nan)
        tail = "" if math.isnan(due) else f"; delivery starts day {due:.1f}"
        return f"approved on day {state.approved_day[stype]:.1f} ({proc} procedure){tail}"
    if status is SupportStatus.DELIVERING:
        return (f"delivering since day {state.delivery_day[stype]:.1f} "
                f"(approved day {state.approved_day[stype]:.1f}, {proc} procedure)")
    if status is SupportStatus.DECLINED:
        return f"declined: {reason_text(model, state, stype, state.reason[stype])}"
    return "not committed"


def decisions_by_type(model) -> list[str]:
    """The states' decisions summed up, one line per support type decided on (``explain --brief``)."""
    lines = []
    for t in dict.fromkeys(model.response.decided_types):
        states = [st for st in model.coalition if st.status[t] is not SupportStatus.NOT_COMMITTED]
        by = Counter(st.status[t] for st in states)
        delivering = [st.delivery_day[t] for st in states if st.status[t] is SupportStatus.DELIVERING]
        parts = [f"{by[SupportStatus.DELIVERING]} of {n_of(len(states), 'committed state')} delivering"
                 + (f" (the first from day {min(delivering):.1f})" if delivering else "")]
        declined = Counter(reason_text(model, st, t, st.reason_code.get(t)) for st in states
                           if st.status[t] is SupportStatus.DECLINED)
        if declined:
            parts.append(f"{sum(declined.values())} declined (" + ", ".join(f"{k} {why}" for why, k in declined.most_common()) + ")")
        waiting = by[SupportStatus.DECIDING] + by[SupportStatus.APPROVED] + by[SupportStatus.COMMITTED]
        if waiting:
            parts.append(f"{waiting} still deciding or waiting")
        lines.append(f"{t}: " + "; ".join(parts))
    return lines


def state_header(model, state) -> str:
    """Name, legal regime, joining threshold and conditions of one coalition state."""
    p, s = state.profile, model.spec
    parts = [f"{plain(p.regime)} regime"]
    if s.cascade:
        parts.append("acts first (threshold 0%)" if state.threshold <= 0 else f"joins once {state.threshold:.0%} of the coalition acts")
    if state.waits_for_us():
        parts.append("waits for the United States")
    if p.is_us and s.us_role != "binding":
        parts.append(f"US role {s.us_role}: its support does not count as binding")
    if p.eu and s.eu_sanctions:
        parts.append("EU member (sanctions by EU package)")
    return f"{state.name} ({', '.join(parts)})"


def stage_text(model) -> str:
    """The stage so far (mid-run) or at the horizon, with its meaning."""
    stage = model.stage()
    if model.running:
        if stage is Stage.PENDING_AT_HORIZON:
            return "so far: the trigger fired and decisions are under way"
        return f"so far: {stage.value} ({STAGE_MEANING[stage]})"
    return f"{stage.value} ({STAGE_MEANING[stage]})"
