"""What came of a meeting: a cooperation intention, a signed agreement, a follow-up, nothing, or a no-show.

Either side of an accepted meeting records it — the buyer, the leader of the buyer's delegation, the exhibitor's
account — or an organizer; anyone else is told there is no such meeting (404), so ids cannot be probed. Recording
again changes the one outcome a meeting has.

Rules: quantity (pairs) and value are at least zero and capped (:data:`MAX_PAIRS`, :data:`MAX_VALUE`), the currency
is one of the rate table's (:mod:`expo.docking.currencies`), a cooperation (intention or agreement) names its
products and a quantity or a value, and a meeting that did not take place or came to nothing carries no figures.
The value in yuan is computed when the value or its currency changes, at that day's rates, and kept: the reports add
up what was recorded, not what today's rates would make of it. Services flush and audit; views commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from expo import audit
from expo.auth.models import User
from expo.buyers.models import Buyer
from expo.docking import currencies
from expo.docking.models import COOPERATION_RESULTS, Meeting, MeetingOutcome, MeetingStatus, OutcomeResult
from expo.errors import ExpoError, NotFound
from expo.extensions import db
from expo.venue.models import Expo

#: The largest quantity one outcome may state (a whole cluster's yearly output is of this order).
MAX_PAIRS = 100_000_000
#: The largest value one outcome may state, in its currency (the column holds 14 digits before the point; the
#: value in yuan must fit too, at any rate up to currencies.MAX_RATE).
MAX_VALUE = Decimal("10000000000")
MAX_PRODUCTS = 200
_MAX_PAIRS_TEXT = f"{MAX_PAIRS:,}"
_MAX_VALUE_TEXT = f"{MAX_VALUE:,}"
MAX_NOTES = 5000

#: Results after which the meeting did not produce figures.
NO_FIGURES = (OutcomeResult.NONE, OutcomeResult.NO_SHOW)


class OutcomeError(ExpoError):
    code = "invalid_outcome"
    status = 422


@dataclass(frozen=True)
class OutcomeData:
    """An outcome as typed on the page or sent to the API."""

    result: str
    products: str = ""
    quantity_pairs: int = 0
    value: Decimal = Decimal(0)
    currency: str = "CNY"
    expected_order_on: date | None = None
    notes: str = ""


def may_record(user: User, meeting: Meeting) -> bool:
    """An organizer, the meeting's buyer, their delegation's leader, or an account of the meeting's exhibitor."""
    if not user.is_authenticated:
        return False
    if user.is_organizer or (user.exhibitor_id is not None and user.exhibitor_id == meeting.exhibitor_id):
        return True
    buyer: Buyer = meeting.buyer
    if buyer.user_id is not None and buyer.user_id == user.id:
        return True
    return buyer.delegation is not None and buyer.delegation.leader_user_id == user.id


def meeting_for(user: User, expo: Expo, meeting_id: int) -> Meeting:
    """The meeting, if ``user`` may record its outcome (:func:`may_record`); "not found" otherwise."""
    meeting = db.session.get(Meeting, meeting_id, options=[selectinload(Meeting.outcome)])
    if meeting is None or meeting.expo_id != expo.id or not may_record(user, meeting):
        raise NotFound(_l("There is no such meeting."))
    return meeting


def rate_table(config: Mapping[str, object] | None = None) -> dict[str, Decimal]:
    """The rates in force: :data:`currencies.RATES` with the app config's ``DOCKING_CNY_RATES`` applied."""
    return currencies.rates((config or {}).get("DOCKING_CNY_RATES") or {})  # type: ignore[arg-type]


def _money(value: object) -> Decimal:
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise OutcomeError(_l("Enter the value as a number."), field="value") from None
    if not amount.is_finite():
        raise OutcomeError(_l("Enter the value as a number."), field="value")
    return amount


def check(data: OutcomeData, table: Mapping[str, Decimal]) -> OutcomeData:
    """``data`` with its text tidied, or :class:`OutcomeError` naming the field a rule refuses."""
    if data.result not in {r.value for r in OutcomeResult}:
        raise OutcomeError(_l("Choose what came of the meeting."), field="result")
    products = " ".join((data.products or "").split())
    notes = (data.notes or "").replace("\r\n", "\n").strip()
    if len(products) > MAX_PRODUCTS:
        raise OutcomeError(_l("At most %(n)d characters.", n=MAX_PRODUCTS), field="products")
    if len(notes) > MAX_NOTES:
        raise OutcomeError(_l("At most %(n)d characters.", n=MAX_NOTES), field="notes")
    quantity = data.quantity_pairs or 0
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_PAIRS:
        raise OutcomeError(_l("The quantity is between 0 and %(n)s pairs.", n=_MAX_PAIRS_TEXT),
                           field="quantity_pairs")
    value = _money(data.value or 0)
    if not 0 <= value <= MAX_VALUE:
        raise OutcomeError(_l("The value is between 0 and %(n)s.", n=_MAX_VALUE_TEXT), field="value")
    if value != value.quantize(Decimal("0.01")):
        raise OutcomeError(_l("The value has at most two decimals."), field="value")
    currency = (data.currency or "").strip().upper()
    if currency not in table:
        raise OutcomeError(_l("Choose a currency from the list."), field="currency")
    result = OutcomeResult(data.result)
    if result in COOPERATION_RESULTS:
        if not products:
            raise OutcomeError(_l("Name the products of the cooperation."), field="products")
        if not quantity and not value:
            raise OutcomeError(_l("Give the quantity in pairs or the value of the cooperation."),
                               field="quantity_pairs")
    elif result in NO_FIGURES and (quantity or value):
        raise OutcomeError(_l("A meeting without a result has no quantity or value."), field="quantity_pairs")
    return OutcomeData(result.value, products, quantity, value, currency, data.expected_order_on, notes)


def record_outcome(actor: User | None, meeting: Meeting, data: OutcomeData,
                   table: Mapping[str, Decimal] | None = None) -> MeetingOutcome:
    """Record (or change) what came of an accepted ``meeting``; audited. ``table``: the rates in force
    (:func:`rate_table`); the value in yuan is recomputed only when the value or the currency changes."""
    table = table if table is not None else currencies.RATES
    if meeting.status != MeetingStatus.ACCEPTED:
        raise OutcomeError(_l("Only an accepted meeting has an outcome."), code="not_accepted", status=409)
    data = check(data, table)
    values = {"result": data.result, "products": data.products, "quantity_pairs": data.quantity_pairs,
              "value": data.value, "currency": data.currency, "expected_order_on": data.expected_order_on,
              "notes": data.notes}
    outcome = meeting.outcome
    created = outcome is None
    if outcome is None:
        outcome = MeetingOutcome(meeting=meeting, value=Decimal(0), currency=data.currency, value_cny=Decimal(0),
                                 quantity_pairs=0)
        db.session.add(outcome)
    money_changed = created or Decimal(outcome.value) != data.value or outcome.currency != data.currency
    if money_changed:
        values["value_cny"] = currencies.to_cny(data.value, data.currency, table)
    actor_ok = actor is not None and actor.is_authenticated
    values["recorded_by_id"] = actor.id if actor_ok else None
    changes = audit.diff(outcome, values)
    db.session.flush()
    if created or changes:
        changes.pop("recorded_by_id", None)
        audit.record(actor, "docking_outcome_recorded" if created else "docking_outcome_updated", outcome,
                     exhibitor_id=meeting.exhibitor_id, meeting_id=meeting.id, **changes)
    return outcome
