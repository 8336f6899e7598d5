"""What one run reports: the funnel stage and the row's columns."""

from __future__ import annotations

import enum

from guarantee_sim.model.triggers import SUPPORT_TYPES


class Stage(enum.Enum):
    """Where the chain from breach to binding support stopped, furthest stage reached first.

    activated: binding support activated within the horizon.
    pending_at_horizon: the trigger fired and decisions were still under way at the horizon.
    not_approved: the trigger fired, no decision was pending, and the states delivering held less
        than the activation share of all binding capacity (shown as "short of the activation share").
    below_trigger: attributed findings, but the trigger rule never fired.
    unattributed: incidents reached the commission but none was attributed.
    undetected: real breaches, none reported to the commission.
    no_breach: no real breach within the horizon.
    """

    NO_BREACH = "no_breach"
    UNDETECTED = "undetected"
    UNATTRIBUTED = "unattributed"
    BELOW_TRIGGER = "below_trigger"
    NOT_APPROVED = "not_approved"
    PENDING_AT_HORIZON = "pending_at_horizon"
    ACTIVATED = "activated"


STAGES = [s.value for s in Stage]

# The row's columns and how a runs table types each (``runs.runner.to_frame``): "int", "float",
# "bool", "bool or NA" (a support_in_time is undefined without an attack) and "text".
COLUMN_KINDS = {
    "run": "int", "seed": "int", "activated": "bool", "activation_day": "float", "trigger_day": "float",
    "stage": "text",
    **{k: "int" for k in ("n_breaches", "n_incidents", "n_detected", "n_reported_by_ukraine", "n_attributed",
                          "n_false_alarms")},
    **{f"n_breaches_{k}": "int" for k in ("small_arms", "artillery", "drone_missile", "hybrid", "ground_incursion",
                                           "armed_attack")},
    **{f"activation_day_{t}": "float" for t in SUPPORT_TYPES},
    **{f"trigger_day_{t}": "float" for t in SUPPORT_TYPES},
    "states_activated": "int", "capacity_share": "float", "support_in_time": "bool or NA",
    "military_support_day": "float", "military_delivered": "float",
    "false_activation": "bool", "deterred": "bool",
    "offensive_day": "float", "holding_time": "float", "force_deployed": "bool", "max_escalation": "int",
    "resolve_belief": "float",
}
COLUMNS = list(COLUMN_KINDS)
