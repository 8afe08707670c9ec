"""Badge pages at the venue and at home: the print desk, the walk-in kiosk, online visitor registration, and
self-service badges for exhibitors, delegation leaders and buyers.

The print desk (print-desk accounts and the organizer) finds a person by name, company, phone, confirmation code
or a scanned badge code, issues a badge on the spot to someone who has none, prints it (every PDF the desk gets
is a counted print; a reprint needs a reason), revokes it, or revokes and reissues it with a new code. The kiosk is
a device at the venue signed in as the print desk: a walk-in registers and the page ends with their badge's PDF.

Every PDF here is one request: a badge's QR modules are stored when its code is minted, so printing one badge is a
few small queries and one page of drawing (no QR mask search).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy import select

from expo.auth.access import ORGANIZERS, PUBLIC, allow
from expo.auth.models import Role, User
from expo.badges import codes, desk, layouts, printing, services
from expo.badges.forms import (
    DeskSearchForm,
    IssueForm,
    KioskForm,
    OnlineVisitorForm,
    PrintForm,
    ReasonForm,
    VisitorForm,
)
from expo.badges.models import Badge, BadgePrint, BadgeStatus, HolderKind
from expo.buyers import access
from expo.errorpages import error_response
from expo.exhibitors.models import ExhibitorStaff
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.formflow import run_form
from expo.i18n import current_lang
from expo.pdf import qr
from expo.venue.models import Expo

bp = Blueprint("badge_desk", __name__)

DESK = (Role.PRINT_DESK, *ORGANIZERS)
#: The kiosk's last page goes back to an empty form after this many seconds (the next visitor's turn).
KIOSK_RESET_SECONDS = 45
#: Online registrations one address may make per window (config ``VISITOR_REGISTRATIONS_PER_IP`` overrides).
REGISTRATIONS_PER_IP = 10
REGISTRATION_WINDOW_SECONDS = 600
_SESSION_KIOSK = "kiosk_badge"


# --- helpers -------------------------------------------------------------------------------------------------------

def _pdf(data: bytes, name: str):
    """A PDF answered inline (the browser's viewer opens it, with its print button). Never cached: a badge's QR
    code is the holder's entry."""
    response = make_response(data)
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _qr_svg(badge: Badge, module_px: int = 6) -> Markup:
    # The stored modules: no QR computation on a page view. svg() writes only numbers and fixed markup.
    return Markup(qr.svg(services.unpack_modules(badge.qr_modules), module_px=module_px))


def _badge_of_expo(expo: Expo, badge_id: int) -> Badge:
    badge = db.session.get(Badge, badge_id)
    if badge is None or badge.expo_id != expo.id:
        abort(404)
    return badge


def _layout_arg() -> str:
    """``?layout=`` of a self-service PDF: a preset, or "" for each badge type's own."""
    layout = request.args.get("layout", "")
    if layout and layout not in layouts.PRESETS:
        abort(400)
    return layout


def _holder_labels() -> dict[str, str]:
    return {HolderKind.EXHIBITOR_STAFF: _("Exhibitor staff"), HolderKind.BUYER: _("Buyer"),
            HolderKind.VISITOR: _("Visitor"), HolderKind.ORGANIZER: _("Organizer")}


# --- the print desk ------------------------------------------------------------------------------------------------

@bp.get("/desk/")
@allow(*DESK)
def search():
    """One search box: a keyboard-wedge scanner types a code and Enter; staff type a name, company or phone."""
    expo = current_expo()
    form = DeskSearchForm(request.args)
    if not form.validate():
        return _search_page(form, status=400)
    q = form.q.data or ""
    if q and desk.looks_like_code(q):
        check = desk.check_code(expo, q)
        if check.verdict == "valid":
            return redirect(url_for("badge_desk.badge", badge_id=check.badge.id))
        return _search_page(form, check=check)
    badges = desk.search_badges(expo, q) if q else []
    if len(badges) == 1 and badges[0].confirmation == codes.normalize(q)[:12]:
        return redirect(url_for("badge_desk.badge", badge_id=badges[0].id))
    return _search_page(form, badges=badges, people=desk.find_people(expo, q) if q else [])


def _search_page(form: DeskSearchForm, *, badges=(), people=(), check: desk.CodeCheck | None = None,
                 status: int = 200):
    expo = current_expo()
    return render_template("badges/desk.html", form=form, badges=badges, people=people, check=check,
                           types=desk.types_of(expo), holder_labels=_holder_labels(), issue_form=IssueForm(formdata=None)
                           ), status


@bp.post("/desk/issue")
@allow(*DESK)
def issue():
    """Issue a badge to someone the search found without one, and open it."""
    expo = current_expo()
    form = IssueForm()
    outcome = run_form(form, lambda: desk.issue_on_the_spot(current_user, expo, form.holder_kind.data,
                                                             form.holder_id.data))
    if outcome.ok:
        flash(_("The badge of %(name)s is issued.", name=outcome.value.name), "success")
        return redirect(url_for("badge_desk.badge", badge_id=outcome.value.id))
    if form.errors:
        flash(_("Choose a person from the search results."), "error")
    q = form.q.data or ""
    search_form = DeskSearchForm(data={"q": q})
    return _search_page(search_form, badges=desk.search_badges(expo, q), people=desk.find_people(expo, q),
                        status=outcome.status)


@bp.route("/desk/visitors/new", methods=["GET", "POST"])
@allow(*DESK)
def new_visitor():
    """Register a visitor at the desk: trade visitor, press or contractor (the desk checks press cards)."""
    expo = current_expo()
    form = VisitorForm(locale=current_lang())
    outcome = run_form(form, lambda: desk.register_visitor(
        current_user, expo, desk.VisitorData.from_mapping(form.data), channel=desk.DESK))
    if outcome.ok:
        flash(_("%(name)s is registered and has a badge.", name=outcome.value.name), "success")
        return redirect(url_for("badge_desk.badge", badge_id=outcome.value.id))
    return render_template("badges/desk_visitor.html", form=form), outcome.status


@bp.get("/desk/badges/<int:badge_id>")
@allow(*DESK)
def badge(badge_id: int):
    expo = current_expo()
    return _badge_page(expo, _badge_of_expo(expo, badge_id))


def _badge_page(expo: Expo, badge: Badge, *, print_form: PrintForm | None = None,
                reissue_form: ReasonForm | None = None, revoke_form: ReasonForm | None = None, status: int = 200):
    """A badge at the desk: its preview, its prints, and the forms to print, reissue or revoke it. Four small
    queries (the badge, its type, its modules, its last prints)."""
    prints = db.session.execute(
        select(BadgePrint.at, BadgePrint.reason, BadgePrint.job_id, User.name).outerjoin(User, User.id == BadgePrint.by_id)
        .where(BadgePrint.badge_id == badge.id).order_by(BadgePrint.at.desc(), BadgePrint.id.desc()).limit(10)).all()
    return render_template(
        "badges/desk_badge.html", badge=badge, badge_type=badge.badge_type, qr_svg=_qr_svg(badge), prints=prints,
        holder_label=_holder_labels().get(badge.holder_kind, badge.holder_kind),
        print_form=print_form or PrintForm(formdata=None, locale=current_lang(), prefix="print"),
        reissue_form=reissue_form or ReasonForm(formdata=None, prefix="reissue"),
        revoke_form=revoke_form or ReasonForm(formdata=None, prefix="revoke")), status


@bp.post("/desk/badges/<int:badge_id>/print")
@allow(*DESK)
def print_badge(badge_id: int):
    """Print (the first time) or reprint (with a reason) one badge: the print is counted and the PDF answered
    inline, for the browser's print dialog. Nothing is counted unless the PDF is made."""
    expo = current_expo()
    badge = _badge_of_expo(expo, badge_id)
    form = PrintForm(locale=current_lang(), prefix="print")

    def do_print() -> bytes:
        services.reprint(current_user, badge, form.reason.data or "")
        return printing.pdf_of(expo, [badge], layout=form.layout.data or "")

    outcome = run_form(form, do_print)
    if outcome.ok:
        return _pdf(outcome.value, f"badge-{badge.confirmation}.pdf")
    return _badge_page(expo, badge, print_form=form, status=outcome.status)


@bp.post("/desk/badges/<int:badge_id>/reissue")
@allow(*DESK)
def reissue(badge_id: int):
    """A lost badge: a new code (the old one is refused from now on), to be printed next."""
    return _with_reason(badge_id, "reissue", services.revoke_and_reissue,
                        _("The badge has a new code; the old one is refused from now on. Print the new badge."))


@bp.post("/desk/badges/<int:badge_id>/revoke")
@allow(*DESK)
def revoke(badge_id: int):
    return _with_reason(badge_id, "revoke", services.revoke, _("The badge is revoked; its code is refused from now on."))


def _with_reason(badge_id: int, action: str, service, done: str):
    """Run ``service(user, badge, reason)`` from the badge page's ``action`` form (reissue or revoke)."""
    expo = current_expo()
    badge = _badge_of_expo(expo, badge_id)
    form = ReasonForm(prefix=action)
    outcome = run_form(form, lambda: service(current_user, badge, form.reason.data))
    if outcome.ok:
        flash(done, "success")
        return redirect(url_for("badge_desk.badge", badge_id=badge.id))
    return _badge_page(expo, badge, status=outcome.status, **{f"{action}_form": form})


# --- the kiosk -----------------------------------------------------------------------------------------------------

@bp.route("/kiosk/", methods=["GET", "POST"])
@allow(*DESK)
def kiosk():
    """A walk-in visitor registers on the kiosk (a device signed in as the print desk) and gets their badge."""
    if request.method == "GET":
        session.pop(_SESSION_KIOSK, None)  # the next visitor: the previous one's badge is no longer reachable here
    expo = current_expo()
    form = KioskForm(locale=current_lang())
    outcome = run_form(form, lambda: desk.register_visitor(
        current_user, expo, desk.VisitorData.from_mapping(form.data), channel=desk.KIOSK))
    if outcome.ok:
        session[_SESSION_KIOSK] = outcome.value.id
        return redirect(url_for("badge_desk.kiosk_done"))
    return render_template("badges/kiosk.html", form=form), outcome.status


@bp.get("/kiosk/done")
@allow(*DESK)
def kiosk_done():
    badge_id = session.get(_SESSION_KIOSK)
    badge = db.session.get(Badge, badge_id) if isinstance(badge_id, int) else None
    if badge is None or badge.expo_id != current_expo().id:
        return redirect(url_for("badge_desk.kiosk"))
    return render_template("badges/kiosk_done.html", badge=badge, reset_seconds=KIOSK_RESET_SECONDS)


@bp.get("/kiosk/badges/<int:badge_id>.pdf")
@allow(*DESK)
def kiosk_pdf(badge_id: int):
    """The badge of the visitor who just registered on this kiosk (and no other: reprints are the desk's, with a
    reason). The first fetch counts as the badge's first print; the viewer fetching it again (reload, print dialog)
    within the same visit is not counted again."""
    if session.get(_SESSION_KIOSK) != badge_id:
        abort(404)
    expo = current_expo()
    badge = _badge_of_expo(expo, badge_id)
    if badge.status != BadgeStatus.ACTIVE:
        abort(404)
    if badge.print_count == 0:
        services.reprint(current_user, badge, "")
    pdf = printing.pdf_of(expo, [badge])
    db.session.commit()
    return _pdf(pdf, f"badge-{badge.confirmation}.pdf")


# --- online visitor registration -----------------------------------------------------------------------------------

_registrations: dict[str, deque[float]] = {}
_registrations_lock = threading.Lock()


def _throttled(address: str) -> bool:
    """True when ``address`` registered too often lately. Counted in this process (a few workers each count their
    own: the limit is per worker, which still stops one address from filling the visitor list)."""
    limit = int(current_app.config.get("VISITOR_REGISTRATIONS_PER_IP", REGISTRATIONS_PER_IP))
    now = time.monotonic()
    with _registrations_lock:
        if len(_registrations) > 10_000:  # forget idle addresses now and then
            for key in [k for k, v in _registrations.items() if not v or now - v[-1] > REGISTRATION_WINDOW_SECONDS]:
                del _registrations[key]
        seen = _registrations.setdefault(address, deque())
        while seen and now - seen[0] > REGISTRATION_WINDOW_SECONDS:
            seen.popleft()
        return len(seen) >= limit


def _count_registration(address: str) -> None:
    with _registrations_lock:
        _registrations.setdefault(address, deque()).append(time.monotonic())


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="expo-visitor-badge")


def _visitor_badge_url(badge: Badge) -> str:
    """The visitor's own page with their QR code: signed (badge and serial), so it cannot be guessed, and a reissue
    retires the old link with the old code. Under ``BASE_URL`` when set (the link goes out by mail)."""
    token = _serializer().dumps([badge.id, badge.serial])
    base = (current_app.config.get("BASE_URL") or "").rstrip("/")
    if base:
        return base + url_for("badge_desk.visitor_badge", token=token)
    return url_for("badge_desk.visitor_badge", token=token, _external=True)


@bp.route("/visit/register", methods=["GET", "POST"])
@allow(PUBLIC)
def visit_register():
    """Online pre-registration of a trade visitor: a confirmation page with the code and QR, and the same by mail."""
    expo = current_expo()
    form = OnlineVisitorForm(locale=current_lang())
    address = request.remote_addr or "?"
    if request.method == "POST" and _throttled(address):
        return error_response(429, _("Too many registrations from your network. Please wait a few minutes and try "
                                     "again."), "throttled")

    def register():
        result = desk.register_online(expo, desk.VisitorData.from_mapping(form.data))
        desk.queue_confirmation(expo, result.visitor, result.badge, _visitor_badge_url(result.badge))
        return result

    outcome = run_form(form, register)
    if outcome.ok:
        _count_registration(address)
        if outcome.value.new:
            return redirect(_visitor_badge_url(outcome.value.badge))
        # Registered before: the confirmation went to that address again; whoever typed it learns nothing more.
        return render_template("badges/kiosk_online_sent.html", email=form.email.data)
    return render_template("badges/kiosk_online.html", form=form), outcome.status


@bp.get("/visit/badge/<token>")
@allow(PUBLIC)
def visitor_badge(token: str):
    """A visitor's confirmation: the code and the QR to show at the print desk (the link in their mail)."""
    try:
        badge_id, serial = _serializer().loads(token)
    except (BadSignature, TypeError, ValueError):
        abort(404)
    badge = db.session.get(Badge, badge_id) if isinstance(badge_id, int) and 0 < badge_id < 2**31 else None
    if badge is None or badge.serial != serial or badge.holder_kind != HolderKind.VISITOR \
            or badge.expo_id != current_expo().id:
        abort(404)
    response = make_response(render_template("badges/mine_badge.html", badge=badge, badge_type=badge.badge_type,
                                             qr_svg=_qr_svg(badge, 8), pdf_url=None, visitor=True))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- self-service --------------------------------------------------------------------------------------------------

def _my_exhibitor():
    if current_user.exhibitor is None:
        abort(403)
    return current_user.exhibitor


@bp.get("/exhibitor/badges")
@allow(Role.EXHIBITOR)
def exhibitor_badges():
    """The exhibitor's staff and their badges (issued when a PDF is first downloaded)."""
    expo = current_expo()
    exhibitor = _my_exhibitor()
    members = db.session.scalars(select(ExhibitorStaff).where(ExhibitorStaff.exhibitor_id == exhibitor.id)
                                 .order_by(ExhibitorStaff.id)).all()
    badges = {b.holder_id: b for b in db.session.scalars(select(Badge).where(
        Badge.expo_id == expo.id, Badge.holder_kind == str(HolderKind.EXHIBITOR_STAFF),
        Badge.holder_id.in_([m.id for m in members])))} if members else {}
    return render_template("badges/mine_exhibitor.html", members=members, badges=badges,
                           approved=desk._approved(expo, exhibitor.id))


@bp.get("/exhibitor/badges.pdf")
@allow(Role.EXHIBITOR)
def exhibitor_badges_pdf():
    expo = current_expo()
    exhibitor = _my_exhibitor()
    layout = _layout_arg()
    badges = desk.active(desk.staff_badges(current_user, expo, exhibitor))
    if not badges:
        db.session.rollback()
        flash(_("Add your staff first: each person gets a badge."), "error")
        return redirect(url_for("badge_desk.exhibitor_badges"))
    pdf = printing.pdf_of(expo, badges, layout=layout)
    db.session.commit()
    return _pdf(pdf, "badges.pdf")


@bp.get("/exhibitor/badges/<int:member_id>.pdf")
@allow(Role.EXHIBITOR)
def exhibitor_badge_pdf(member_id: int):
    expo = current_expo()
    exhibitor = _my_exhibitor()
    member = db.session.get(ExhibitorStaff, member_id)
    if member is None or member.exhibitor_id != exhibitor.id:  # another company's person: as if missing
        abort(404)
    layout = _layout_arg()
    badge = desk.staff_badge(current_user, expo, member)
    if badge.status != BadgeStatus.ACTIVE:
        return error_response(409, _("This badge is revoked. Ask at the print desk."), "revoked")
    pdf = printing.pdf_of(expo, [badge], layout=layout)
    db.session.commit()
    return _pdf(pdf, f"badge-{badge.confirmation}.pdf")


@bp.get("/leader/badges")
@allow(Role.DELEGATION_LEADER)
def leader_badges():
    expo = current_expo()
    delegations = access.led_delegations(current_user, expo)
    return render_template("badges/mine_leader.html", delegations=delegations)


@bp.get("/leader/delegations/<int:delegation_id>/badges.pdf")
@allow(Role.DELEGATION_LEADER)
def leader_badges_pdf(delegation_id: int):
    """The badges of the leader's delegation's members, issued on demand; another leader's delegation is 404."""
    expo = current_expo()
    delegation = access.delegation_for(current_user, expo, delegation_id)
    layout = _layout_arg()
    badges = desk.active(desk.member_badges(current_user, expo, delegation))
    if not badges:
        db.session.rollback()
        flash(_("The delegation has no members yet."), "error")
        return redirect(url_for("badge_desk.leader_badges"))
    pdf = printing.pdf_of(expo, badges, layout=layout)
    db.session.commit()
    return _pdf(pdf, f"delegation-{delegation.id}-badges.pdf")


def _own_badge() -> Badge:
    expo = current_expo()
    buyer = desk.buyer_of(current_user, expo)
    if buyer is None:
        abort(404)
    return desk.own_badge(current_user, expo, buyer)


@bp.get("/buyer/badge")
@allow(Role.BUYER)
def buyer_badge():
    """The buyer's badge on the phone: the QR large, to scan at the print desk or the gate."""
    badge = _own_badge()
    db.session.commit()
    response = make_response(render_template(
        "badges/mine_badge.html", badge=badge, badge_type=badge.badge_type, qr_svg=_qr_svg(badge, 8),
        pdf_url=url_for("badge_desk.buyer_badge_pdf"), visitor=False))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/buyer/badge.pdf")
@allow(Role.BUYER)
def buyer_badge_pdf():
    expo = current_expo()
    badge = _own_badge()
    if badge.status != BadgeStatus.ACTIVE:
        return error_response(409, _("This badge is revoked. Ask at the print desk."), "revoked")
    pdf = printing.pdf_of(expo, [badge], layout=_layout_arg())
    db.session.commit()
    return _pdf(pdf, f"badge-{badge.confirmation}.pdf")
