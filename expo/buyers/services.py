"""Buyer rules: self-registration, invitation by e-mailed link, the buyer's profile, the hosted-buyer programme.

Services check the rules, change the models, write the audit log and queue messages; they flush and never commit.
A refusal is a :class:`BuyerError` with a translated message (and the form field it concerns, where there is one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from expo import audit, countries, mail
from expo.auth import services as auth_services
from expo.auth.models import Role, User
from expo.buyers.models import Buyer, BuyerStatus, HostedStatus, VolumeBand
from expo.categories.models import ProductCategory
from expo.db import utcnow
from expo.errors import ExpoError
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.i18n import localized
from expo.venue.models import Expo

H = HostedStatus


class BuyerError(ExpoError):
    code = "buyer_rule"


STATUS_LABELS = {
    BuyerStatus.INVITED: _l("Invited"),
    BuyerStatus.REGISTERED: _l("Registered"),
    BuyerStatus.CANCELLED: _l("Cancelled"),
}

HOSTED_LABELS = {
    H.NONE: _l("Not applied"),
    H.APPLIED: _l("Applied"),
    H.APPROVED: _l("Approved"),
    H.DECLINED: _l("Declined"),
}

VOLUME_LABELS = {
    VolumeBand.UNDER_100K: _l("Under US$100,000"),
    VolumeBand.FROM_100K: _l("US$100,000 to 1 million"),
    VolumeBand.FROM_1M: _l("US$1 to 10 million"),
    VolumeBand.FROM_10M: _l("US$10 to 50 million"),
    VolumeBand.OVER_50M: _l("Over US$50 million"),
}

#: What a buyer (or the organizer, on their behalf) may change in a buyer's profile.
PROFILE_FIELDS = ("name", "name_native", "company", "country", "job_title", "phone", "website", "purchase_volume",
                  "products_sought", "contact_consent")

#: The hosted-buyer programme as data: (from status, action) → (to status, who may take the step).
HOSTED_TRANSITIONS: dict[tuple[str, str], tuple[str, str]] = {
    (H.NONE, "apply"): (H.APPLIED, "buyer"),
    (H.APPLIED, "withdraw"): (H.NONE, "buyer"),
    (H.NONE, "approve"): (H.APPROVED, "organizer"),  # the organizer may host a buyer who did not apply
    (H.APPLIED, "approve"): (H.APPROVED, "organizer"),
    (H.DECLINED, "approve"): (H.APPROVED, "organizer"),
    (H.APPROVED, "approve"): (H.APPROVED, "organizer"),  # changes the benefits
    (H.APPLIED, "decline"): (H.DECLINED, "organizer"),
    (H.APPROVED, "decline"): (H.DECLINED, "organizer"),
}
HOSTED_ACTION_LABELS = {
    "apply": _l("Apply to the hosted-buyer programme"),
    "withdraw": _l("Withdraw the application"),
    "approve": _l("Approve"),
    "decline": _l("Decline"),
}
MAX_HOTEL_NIGHTS = 14

INVITATION_SALT = "expo-buyer-invitation"
INVITATION_MAX_AGE_SECONDS = 30 * 24 * 3600


# --- the profile ----------------------------------------------------------------------------------------------------

def _profile_values(profile: dict[str, Any]) -> dict[str, Any]:
    """The profile fields of ``profile``, trimmed and checked. Text left out (``None``) is stored empty."""
    values: dict[str, Any] = {}
    for key in PROFILE_FIELDS:
        if key not in profile:
            continue
        value = profile[key]
        if key == "contact_consent":
            values[key] = bool(value)
        else:
            values[key] = (value or "").strip() if isinstance(value, str | None) else value
    if "name" in values and not values["name"]:
        raise BuyerError(_l("Give your name as in your passport."), field="name")
    if "country" in values:
        values["country"] = str(values["country"]).upper()
        if values["country"] not in countries.codes():
            raise BuyerError(_l("Choose a country or region from the list."), field="country")
    if values.get("purchase_volume") and values["purchase_volume"] not in {v.value for v in VolumeBand}:
        raise BuyerError(_l("Choose a purchase volume from the list."), field="purchase_volume")
    return values


def _set_categories(buyer: Buyer, category_ids: list[int] | None) -> dict[str, list]:
    """Set the buyer's purchase interests to the active categories ``category_ids``; ``None`` leaves them."""
    if category_ids is None:
        return {}
    wanted = set(category_ids)
    cats = list(db.session.scalars(select(ProductCategory).where(ProductCategory.id.in_(wanted),
                                                                 ProductCategory.active.is_(True)))) if wanted else []
    if len(cats) != len(wanted):
        raise BuyerError(_l("Choose product categories from the list."), field="categories")
    old = sorted(c.code for c in buyer.categories)
    buyer.categories = sorted(cats, key=lambda c: (c.sort, c.id))
    new = sorted(c.code for c in cats)
    return {"categories": [old, new]} if old != new else {}


def register(*, email: str, password: str, profile: dict[str, Any], category_ids: list[int] | None = None,
             apply_hosted: bool = False, locale: str | None = None) -> tuple[Buyer, User]:
    """A buyer signs up: their account (role buyer) and their buyer record, registered, in the current expo.

    ``apply_hosted`` also applies to the hosted-buyer programme. A taken e-mail address is refused on the
    ``email`` field; nothing is written then (the caller rolls back)."""
    expo = current_expo()
    values = _profile_values(profile)
    user = auth_services.create_user(email, password, values.get("name") or email, Role.BUYER, locale=locale)
    buyer = Buyer(expo_id=expo.id, user_id=user.id, email=user.email, status=BuyerStatus.REGISTERED, **values)
    db.session.add(buyer)
    db.session.flush()
    _set_categories(buyer, category_ids)
    audit.record(user, "buyer_registered", buyer, email=user.email, country=buyer.country)
    if apply_hosted:
        change_hosted(user, buyer, "apply")
    db.session.flush()
    return buyer, user


def update_profile(actor: User, buyer: Buyer, profile: dict[str, Any],
                   category_ids: list[int] | None = None) -> dict[str, list]:
    """Change the buyer's profile (the buyer themselves, or the organizer); returns and audits what changed."""
    _check_side(actor, buyer)
    changes = audit.diff(buyer, _profile_values(profile))
    changes.update(_set_categories(buyer, category_ids))
    if changes:
        audit.record(actor, "buyer_profile_updated", buyer, **changes)
    db.session.flush()
    return changes


def buyer_of(user: User, expo: Expo | None = None) -> Buyer | None:
    """The buyer record of the current expo that ``user`` signs in for, if any."""
    expo = expo or current_expo()
    return db.session.scalar(select(Buyer).where(Buyer.user_id == user.id, Buyer.expo_id == expo.id)
                             .order_by(Buyer.id).limit(1))


def _check_side(actor: User, buyer: Buyer) -> str:
    """Which side ``actor`` takes for ``buyer``: the organizer or the buyer; anyone else is refused."""
    if actor.is_organizer:
        return "organizer"
    if buyer.user_id is not None and buyer.user_id == actor.id:
        return "buyer"
    raise BuyerError(_l("This buyer registration belongs to someone else."), status=403, code="forbidden")


# --- invitation by the organizer ------------------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=INVITATION_SALT)


def invitation_token(buyer: Buyer) -> str:
    """The signed token of the buyer's latest invitation: it names the buyer and the time of that invitation, so a
    newer invitation replaces the older links."""
    return _serializer().dumps({"bid": buyer.id, "at": buyer.invited_at.isoformat() if buyer.invited_at else ""})


def invite(actor: User, *, name: str, email: str, company: str = "", country: str, locale: str = "en",
           link_for: Callable[[str], str]) -> Buyer:
    """Invite a buyer: a buyer record with status "invited" and an e-mail with a link, valid for 30 days, where the
    invitee chooses a password and completes the profile. ``link_for(token)`` makes the link's absolute URL."""
    expo = current_expo()
    email = auth_services.normalize_email(email or "")
    name = (name or "").strip()
    if not name:
        raise BuyerError(_l("Give the buyer's name as in the passport."), field="name")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise BuyerError(_l("An account with this e-mail address already exists."), field="email", code="email_taken")
    if db.session.scalar(select(Buyer.id).where(Buyer.expo_id == expo.id, func.lower(Buyer.email) == email,
                                                Buyer.status != BuyerStatus.CANCELLED)) is not None:
        raise BuyerError(_l("A buyer with this e-mail address is already registered or invited."), field="email",
                         code="buyer_exists")
    values = _profile_values({"name": name, "company": company or "", "country": country or ""})
    buyer = Buyer(expo_id=expo.id, email=email, status=BuyerStatus.INVITED, invited_at=utcnow(), **values)
    db.session.add(buyer)
    db.session.flush()
    audit.record(actor, "buyer_invited", buyer, email=email, country=buyer.country, locale=locale)
    _send_invitation(buyer, expo, locale, link_for)
    return buyer


def resend_invitation(actor: User, buyer: Buyer, *, locale: str = "en", link_for: Callable[[str], str]) -> Buyer:
    """Send a new invitation link (the older links stop working): only while the buyer has not answered."""
    if buyer.status != BuyerStatus.INVITED or buyer.user_id is not None:
        raise BuyerError(_l("Only a buyer who has not yet answered the invitation can be invited again."),
                         status=409, code="not_invited")
    buyer.invited_at = utcnow()
    audit.record(actor, "buyer_invitation_resent", buyer, email=buyer.email, locale=locale)
    _send_invitation(buyer, buyer_expo(buyer), locale, link_for)
    db.session.flush()
    return buyer


def buyer_expo(buyer: Buyer) -> Expo:
    return db.session.get(Expo, buyer.expo_id)


def _send_invitation(buyer: Buyer, expo: Expo, locale: str, link_for: Callable[[str], str]) -> None:
    lang = "zh" if (locale or "").startswith("zh") else "en"
    with force_locale(lang):
        expo_name = localized(expo, "name", lang)
        city = localized(expo, "city", lang)
        days = INVITATION_MAX_AGE_SECONDS // 86400
        mail.queue(
            buyer.email,
            _("Your invitation to %(expo)s", expo=expo_name),
            _("Hello %(name)s,\n\nwe invite you to %(expo)s in %(city)s, %(starts)s to %(ends)s, as a buyer.\n"
              "Open this link to choose a password and complete your buyer profile (valid for %(days)d days):\n"
              "%(url)s\n\nIf you did not expect this invitation, ignore this message.",
              name=buyer.display_name(lang), expo=expo_name, city=city, starts=expo.starts_on.isoformat(),
              ends=expo.ends_on.isoformat(), days=days, url=link_for(invitation_token(buyer))),
        )


def buyer_for_invitation(token: str, *, lock: bool = False) -> Buyer:
    """The invited buyer an e-mailed invitation token is for, or a :class:`BuyerError` (4xx) saying why the link
    does not work: forged (404), expired or replaced by a newer invitation (410), already answered (409)."""
    try:
        data = _serializer().loads(token, max_age=INVITATION_MAX_AGE_SECONDS)
    except SignatureExpired as exc:
        raise BuyerError(_l("This invitation link has expired. Ask the organizer to send you a new one."),
                         status=410, code="token_expired") from exc
    except BadSignature as exc:
        raise BuyerError(_l("This invitation link is not valid. Check that you copied all of it."),
                         status=404, code="token_invalid") from exc
    buyer_id = data.get("bid") if isinstance(data, dict) else None
    buyer = None
    if isinstance(buyer_id, int):
        stmt = select(Buyer).where(Buyer.id == buyer_id)
        if lock:  # two tabs accepting at once: the second waits, then finds the invitation answered
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        buyer = db.session.scalar(stmt)
    if buyer is None or buyer.status == BuyerStatus.CANCELLED:
        raise BuyerError(_l("This invitation link is not valid. Check that you copied all of it."),
                         status=404, code="token_invalid")
    if buyer.user_id is not None or buyer.status != BuyerStatus.INVITED:
        raise BuyerError(_l("This invitation has already been accepted. Sign in with your e-mail address."),
                         status=409, code="token_used")
    if data.get("at") != (buyer.invited_at.isoformat() if buyer.invited_at else ""):
        raise BuyerError(_l("A newer invitation has replaced this link. Use the link in the latest e-mail."),
                         status=410, code="token_replaced")
    return buyer


def accept_invitation(token: str, *, password: str, profile: dict[str, Any], category_ids: list[int] | None = None,
                      apply_hosted: bool = False, locale: str | None = None) -> tuple[Buyer, User]:
    """The invitee answers: an account for the invited e-mail address, linked to the buyer, now registered. The
    token works once."""
    buyer = buyer_for_invitation(token, lock=True)
    values = _profile_values(profile)
    user = auth_services.create_user(buyer.email, password, values.get("name") or buyer.name, Role.BUYER,
                                     locale=locale)
    audit.diff(buyer, values)
    buyer.user_id = user.id
    buyer.status = BuyerStatus.REGISTERED
    _set_categories(buyer, category_ids)
    audit.record(user, "buyer_invitation_accepted", buyer, email=user.email)
    if apply_hosted:
        change_hosted(user, buyer, "apply")
    db.session.flush()
    return buyer, user


# --- the hosted-buyer programme -------------------------------------------------------------------------------------

def hosted_actions(buyer: Buyer, *, organizer: bool) -> list[str]:
    """The steps of the hosted-buyer programme open to this side now."""
    who = "organizer" if organizer else "buyer"
    return [action for (src, action), (_dst, by) in HOSTED_TRANSITIONS.items()
            if src == buyer.hosted_status and by == who]


def change_hosted(actor: User, buyer: Buyer, action: str, *, hotel_nights: int | None = None,
                  transfers: bool | None = None, note: str = "") -> Buyer:
    """Take a step of the hosted-buyer programme: the buyer applies or withdraws; the organizer approves (with hotel
    nights, transfers and a note) or declines. Audited; the buyer is told of the organizer's decision by e-mail."""
    side = _check_side(actor, buyer)
    rule = HOSTED_TRANSITIONS.get((buyer.hosted_status, action))
    if rule is None or rule[1] != side:
        raise BuyerError(_l("The hosted-buyer status is %(status)s; that step is not possible now.",
                            status=HOSTED_LABELS.get(H(buyer.hosted_status), buyer.hosted_status)),
                         status=409, code="bad_transition")
    old = {"hosted_status": buyer.hosted_status, "hosted_hotel_nights": buyer.hosted_hotel_nights,
           "hosted_transfers": buyer.hosted_transfers, "hosted_note": buyer.hosted_note}
    target = H(rule[0])
    note = (note or "").strip()
    if action == "approve":
        nights = int(hotel_nights or 0)
        if not 0 <= nights <= MAX_HOTEL_NIGHTS:
            raise BuyerError(_l("Give between 0 and %(n)d hotel nights.", n=MAX_HOTEL_NIGHTS), field="hotel_nights")
        buyer.hosted_hotel_nights = nights
        buyer.hosted_transfers = bool(transfers)
        buyer.hosted_note = note
    elif action == "decline":
        buyer.hosted_hotel_nights = 0
        buyer.hosted_transfers = False
        buyer.hosted_note = note
    elif action == "withdraw":
        buyer.hosted_note = ""
    buyer.hosted_status = target
    if side == "organizer":
        buyer.hosted_decided_at = utcnow()
    new = {"hosted_status": buyer.hosted_status, "hosted_hotel_nights": buyer.hosted_hotel_nights,
           "hosted_transfers": buyer.hosted_transfers, "hosted_note": buyer.hosted_note}
    audit.record(actor, _HOSTED_AUDIT[action], buyer, **{k: [old[k], new[k]] for k in new if old[k] != new[k]})
    if side == "organizer":
        _notify_hosted(buyer, action)
    db.session.flush()
    return buyer


_HOSTED_AUDIT = {"apply": "hosted_applied", "withdraw": "hosted_withdrawn", "approve": "hosted_approved",
                 "decline": "hosted_declined"}


def _notify_hosted(buyer: Buyer, action: str) -> None:
    recipient = buyer.user.email if buyer.user is not None else buyer.email
    if not recipient:
        return
    lang = "zh" if buyer.user is not None and (buyer.user.locale or "").startswith("zh") else "en"
    expo = buyer_expo(buyer)
    with force_locale(lang):
        expo_name = localized(expo, "name", lang)
        if action == "approve":
            body = _("Hello %(name)s,\n\nyou are a hosted buyer of %(expo)s: %(nights)d hotel nights%(transfers)s.",
                     name=buyer.display_name(lang), expo=expo_name, nights=buyer.hosted_hotel_nights,
                     transfers=_(" and airport transfers") if buyer.hosted_transfers else "")
            subject = _("Hosted-buyer programme: approved")
        else:
            body = _("Hello %(name)s,\n\nwe are sorry: we cannot host you at %(expo)s this time. You are welcome "
                     "to come as a buyer.", name=buyer.display_name(lang), expo=expo_name)
            subject = _("Hosted-buyer programme: not approved")
        if buyer.hosted_note:
            body += "\n\n" + buyer.hosted_note
        mail.queue(recipient, subject, body)
