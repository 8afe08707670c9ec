"""Letter pages: the buyer's and the leader's downloads, the organizer's list and actions, the public verification.

Thin: who may see what comes from :mod:`expo.buyers.access`, the rules from :mod:`expo.letters.services`. A
download issues the letter the first time, reuses it while the data is unchanged and supersedes it once the data
has changed; it commits the audit entries (passport reads, the download) before sending the PDF.
"""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased

from expo import countries, listing, tables
from expo.auth.access import ORGANIZERS, PUBLIC, allow
from expo.auth.models import Role, User
from expo.buyers.access import delegation_for
from expo.buyers.models import Buyer, Delegation, InvitationLetter
from expo.errors import ExpoError
from expo.exhibitors.services import current_expo, escape_like
from expo.extensions import db
from expo.formflow import run_form
from expo.i18n import current_lang
from expo.letters import services
from expo.letters.forms import KIND_CHOICES, STATUS_CHOICES, IssueForm, LetterFilterForm, VerifyForm
from expo.venue.models import Expo

bp = Blueprint("letters", __name__)


def verify_url(reference: str) -> str:
    """The public verification address printed on the letter and in its QR code: under ``BASE_URL`` when it is
    set (the address people reach from outside), else under the address of this request."""
    base = (current_app.config.get("BASE_URL") or "").rstrip("/")
    if base:
        return base + url_for("letters.verify_reference", reference=reference)
    return url_for("letters.verify_reference", reference=reference, _external=True)


def _pdf(letters: list[InvitationLetter], expo: Expo, name: str):
    data = services.render(letters, expo, verify_url)
    response = send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"  # passport numbers: no copies in caches
    return response


def _refused(exc: ExpoError):
    db.session.rollback()
    return render_template("letters/refused.html", message=str(exc.message)), exc.status


def _download(issue, name: str):
    """Run ``issue`` (a service returning letters), commit, and send them as one PDF; a refusal becomes a page."""
    expo = current_expo()
    try:
        letters = issue(expo)
        services.record_download(current_user, letters)
    except ExpoError as exc:
        return _refused(exc)
    db.session.commit()
    return _pdf(letters, expo, name)


# --- the buyer and the delegation leader -------------------------------------------------------------------------------

@bp.get("/buyer/letter.pdf")
@allow(Role.BUYER)
def buyer_letter():
    expo = current_expo()
    buyer = db.session.scalar(select(Buyer).where(Buyer.expo_id == expo.id, Buyer.user_id == current_user.id)
                              .order_by(Buyer.id).limit(1))
    if buyer is None:
        abort(404)
    return _download(lambda e: [services.buyer_letter(current_user, e, buyer)], "invitation-letter.pdf")


@bp.get("/leader/delegations/<int:delegation_id>/letters.pdf")
@allow(Role.DELEGATION_LEADER)
def leader_letters(delegation_id: int):
    delegation = delegation_for(current_user, current_expo(), delegation_id)
    return _download(lambda e: services.delegation_letters(current_user, e, delegation),
                     f"invitation-letters-delegation-{delegation.id}.pdf")


# --- the organizer ------------------------------------------------------------------------------------------------------

def _buyer(expo: Expo, buyer_id: int) -> Buyer:
    buyer = db.session.get(Buyer, buyer_id)
    if buyer is None or buyer.expo_id != expo.id:
        abort(404)
    return buyer


def _letter(expo: Expo, letter_id: int) -> InvitationLetter:
    letter = db.session.get(InvitationLetter, letter_id)
    if letter is None or letter.expo_id != expo.id:
        abort(404)
    return letter


def _delegation_choices(expo: Expo) -> list[tuple[int, str]]:
    return [(d_id, name) for d_id, name in db.session.execute(
        select(Delegation.id, Delegation.name).where(Delegation.expo_id == expo.id).order_by(Delegation.name))]


def _letters_query(expo: Expo, form: LetterFilterForm) -> Select:
    holder = aliased(Buyer)
    stmt = (select(InvitationLetter, holder, Delegation, User)
            .outerjoin(holder, holder.id == InvitationLetter.buyer_id)
            .outerjoin(Delegation, Delegation.id == InvitationLetter.delegation_id)
            .outerjoin(User, User.id == InvitationLetter.issued_by_id)
            .where(InvitationLetter.expo_id == expo.id))
    if form.status.data == "valid":
        stmt = stmt.where(InvitationLetter.revoked_at.is_(None))
    elif form.status.data == "revoked":
        stmt = stmt.where(InvitationLetter.revoked_at.is_not(None))
    if form.kind.data == "buyer":
        stmt = stmt.where(InvitationLetter.buyer_id.is_not(None), InvitationLetter.delegation_id.is_(None))
    elif form.kind.data == "delegation":
        stmt = stmt.where(InvitationLetter.buyer_id.is_(None))
    elif form.kind.data == "member":
        stmt = stmt.where(InvitationLetter.buyer_id.is_not(None), InvitationLetter.delegation_id.is_not(None))
    if form.q.data:
        parsed = services.parse_reference(form.q.data)
        like = f"%{escape_like(form.q.data)}%"
        sqlite = db.session.get_bind().dialect.name == "sqlite"

        def match(column):
            return column.like(like, escape="\\") if sqlite else column.ilike(like, escape="\\")

        conditions = [match(InvitationLetter.reference), match(holder.name), match(holder.name_native),
                      match(Delegation.name)]
        if parsed is not None:
            conditions.append(InvitationLetter.reference == parsed.reference)
        stmt = stmt.where(or_(*conditions))
    return stmt.order_by(InvitationLetter.issued_at.desc(), InvitationLetter.id.desc())


@bp.get("/organizer/letters")
@allow(*ORGANIZERS)
def index():
    expo = current_expo()
    form = LetterFilterForm(request.args)
    issue = IssueForm(formdata=None, delegation_choices=_delegation_choices(expo))
    if not form.validate():
        return render_template("letters/index.html", form=form, issue=issue, page=None), 400
    page = listing.paginate(_letters_query(expo, form), form.page.data or 1, form.per_page.data or 50)
    return render_template("letters/index.html", form=form, issue=issue, page=page,
                           status_labels=dict(STATUS_CHOICES), kind_labels=dict(KIND_CHOICES))


def _names(letter: InvitationLetter) -> str:
    return "; ".join(h.get("name", "") for h in letter.holders)


@bp.get("/organizer/letters/export.<fmt>")
@allow(*ORGANIZERS)
def export(fmt: str):
    """The filtered list without any passport data: references, status, the people's names and nationalities."""
    if fmt not in tables.MIMETYPES:
        abort(404)
    expo = current_expo()
    form = LetterFilterForm(request.args)
    if not form.validate():
        abort(400)
    lang = current_lang()
    kinds = dict(KIND_CHOICES)
    headers = [_("Reference"), _("Issued"), _("Status"), _("Revoked"), _("For"), _("Delegation"), _("People"),
               _("Names"), _("Nationalities"), _("Issued by")]

    def rows():
        for letter, _holder, delegation, issuer in db.session.execute(_letters_query(expo, form)):
            yield [letter.reference, letter.issued_at.strftime("%Y-%m-%d %H:%M"),
                   _("Revoked") if letter.revoked_at else _("Valid"),
                   letter.revoked_at.strftime("%Y-%m-%d %H:%M") if letter.revoked_at else "",
                   str(kinds[services.letter_kind(letter)]), delegation.name if delegation else "",
                   len(letter.holders), _names(letter),
                   "; ".join(countries.name(h.get("nationality"), lang) for h in letter.holders),
                   issuer.email if issuer else ""]

    body, mimetype = tables.export_table(headers, rows(), fmt, "Letters")
    return send_file(body, mimetype=mimetype, as_attachment=True, download_name=f"letters-{expo.code}.{fmt}")


@bp.post("/organizer/letters/issue")
@allow(*ORGANIZERS)
def issue():
    expo = current_expo()
    form = IssueForm(delegation_choices=_delegation_choices(expo))

    def action():
        if form.delegation_id.data:
            delegation = db.session.get(Delegation, form.delegation_id.data)
            return services.issue_letter(current_user, expo, delegation=delegation, reissue=True)
        buyer = db.session.scalar(select(Buyer).where(Buyer.expo_id == expo.id,
                                                      func.lower(Buyer.email) == form.email.data.lower())
                                  .order_by(Buyer.id).limit(1))
        if buyer is None:
            raise services.LetterError(_("No buyer has the e-mail address %(email)s.", email=form.email.data),
                                       status=404, field="email")
        return services.issue_letter(current_user, expo, buyer=buyer, reissue=True)

    outcome = run_form(form, action)
    if outcome.ok:
        flash(_("Letter %(reference)s issued.", reference=outcome.value.reference), "success")
        return redirect(url_for("letters.index", q=outcome.value.reference))
    filters = LetterFilterForm(formdata=None)
    page = listing.paginate(_letters_query(expo, filters), 1, 50)
    return render_template("letters/index.html", form=filters, issue=form, page=page,
                           status_labels=dict(STATUS_CHOICES), kind_labels=dict(KIND_CHOICES)), outcome.status


@bp.get("/organizer/letters/buyers/<int:buyer_id>.pdf")
@allow(*ORGANIZERS)
def buyer_pdf(buyer_id: int):
    buyer = _buyer(current_expo(), buyer_id)
    return _download(lambda e: [services.buyer_letter(current_user, e, buyer)], f"invitation-letter-{buyer.id}.pdf")


@bp.get("/organizer/letters/delegations/<int:delegation_id>.pdf")
@allow(*ORGANIZERS)
def delegation_pdf(delegation_id: int):
    delegation = delegation_for(current_user, current_expo(), delegation_id)
    return _download(lambda e: services.delegation_letters(current_user, e, delegation),
                     f"invitation-letters-delegation-{delegation.id}.pdf")


def _reissue(issue, done_reference):
    # The CSRF token of these buttons is checked for every post before any view (expo.create_app).
    try:
        letter = issue(current_expo())
    except ExpoError as exc:
        return _refused(exc)
    db.session.commit()
    flash(_("Letter %(reference)s issued.", reference=done_reference(letter)), "success")
    return redirect(url_for("letters.index", q=letter.reference))


@bp.post("/organizer/letters/buyers/<int:buyer_id>/issue")
@allow(*ORGANIZERS)
def buyer_issue(buyer_id: int):
    buyer = _buyer(current_expo(), buyer_id)
    return _reissue(lambda e: services.issue_letter(current_user, e, buyer=buyer, reissue=True),
                    lambda letter: letter.reference)


@bp.post("/organizer/letters/delegations/<int:delegation_id>/issue")
@allow(*ORGANIZERS)
def delegation_issue(delegation_id: int):
    delegation = delegation_for(current_user, current_expo(), delegation_id)
    return _reissue(lambda e: services.issue_letter(current_user, e, delegation=delegation, reissue=True),
                    lambda letter: letter.reference)


@bp.get("/organizer/letters/<int:letter_id>.pdf")
@allow(*ORGANIZERS)
def letter_pdf(letter_id: int):
    """One stored letter as it was issued (a revoked one stamped as such)."""
    expo = current_expo()
    letter = _letter(expo, letter_id)
    services.record_download(current_user, [letter])
    db.session.commit()
    return _pdf([letter], expo, f"invitation-letter-{letter.reference}.pdf")


@bp.post("/organizer/letters/<int:letter_id>/revoke")
@allow(*ORGANIZERS)
def revoke(letter_id: int):
    letter = _letter(current_expo(), letter_id)
    services.revoke_letter(current_user, letter)
    db.session.commit()
    flash(_("Letter %(reference)s revoked.", reference=letter.reference), "success")
    return redirect(url_for("letters.index", q=letter.reference))


# --- the public verification -----------------------------------------------------------------------------------------

def _verification(reference: str | None):
    """The verification page for ``reference`` (from the path) or the ``ref`` query parameter (the form)."""
    form = VerifyForm(request.args if reference is None else None, ref=reference)
    status, context = 200, {"letter": None, "asked": False, "typo": False}
    if reference is None and not form.validate():
        status, context["asked"] = 400, True
    elif form.ref.data:
        parsed = services.parse_reference(form.ref.data)
        letter = services.find_letter(form.ref.data)
        context.update(asked=True, typo=parsed is not None and not parsed.check_ok)
        if letter is None:
            # Unknown, malformed or mistyped: 404 and the same page, so probing learns nothing more.
            status = 404
        else:
            context.update(letter=letter, expo=db.session.get(Expo, letter.expo_id),
                           holders=services.public_holders(letter), kind=services.letter_kind(letter))
    response = current_app.make_response((render_template("letters/verify.html", form=form, **context), status))
    response.headers["Cache-Control"] = "no-store"  # a revocation shows at once
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/verify")
@allow(PUBLIC)
def verify():
    return _verification(None)


@bp.get("/verify/<reference>")
@allow(PUBLIC)
def verify_reference(reference: str):
    return _verification(reference)
