"""Logo uploads, on the registration page and on the company profile.

- Real PNG, JPEG, WebP and GIF images are accepted and re-encoded: what is stored is a PNG we produced (metadata
  such as a text chunk with a script in it is gone), at most LOGO_SIZE_PX on its longer side.
- Anything else is refused with a clear message, a 4xx, and nothing saved: HTML renamed .png, a PNG signature in
  front of HTML, SVG, a truncated image, a decompression bomb (huge dimensions in a tiny file), other image formats,
  an empty file.
- A file over MAX_UPLOAD_BYTES is refused with a friendly, translated page (413), also when the whole request is over
  Flask's MAX_CONTENT_LENGTH and Werkzeug refuses it before any view runs.
- The logo is served as image/png with ``X-Content-Type-Options: nosniff`` and a sandboxing CSP, never as HTML —
  even if the stored bytes were HTML.
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from flask_babel import force_locale, gettext
from PIL import Image, PngImagePlugin
from sqlalchemy import func, select

from expo.exhibitors.models import Exhibitor
from expo.extensions import db
from expo.uploads import ACCEPTED_FORMATS
from tests.conftest import csrf_token
from tests.factories import PASSWORD, user

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SCRIPT = b"<script>alert(document.cookie)</script>"
UNREADABLE = "The file is not an image we can read (PNG, JPEG, WebP or GIF)."
TOO_MANY_PIXELS = "The logo has too many pixels."
EMPTY = "The uploaded file is empty."


# --- files ----------------------------------------------------------------------------------------------------------

def image_bytes(fmt: str, size=(1200, 600), *, noise: bool = False, **save) -> bytes:
    """A colour gradient, or noise (which does not compress, so cutting the file really loses pixels)."""
    if noise:
        bands = [Image.effect_noise(size, 64) for _ in range(3)]
    else:
        gradient = Image.linear_gradient("L")
        bands = [gradient.resize(size), gradient.rotate(90).resize(size), Image.new("L", size, 90)]
    img = Image.merge("RGB", bands)
    buf = io.BytesIO()
    img.save(buf, format=fmt, **save)
    return buf.getvalue()


def png_with_script() -> bytes:
    """A valid PNG that carries a script in a text chunk: acceptable, but only once re-encoded."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SCRIPT.decode())
    return image_bytes("PNG", pnginfo=info)


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def crafted_png(width: int, height: int, rows: bytes | None = None) -> bytes:
    """A 1-bit greyscale PNG of any size, built by hand; all-zero rows compress to almost nothing."""
    if rows is None:
        rows = (b"\x00" + bytes((width + 7) // 8)) * height
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


HTML = b"<!doctype html><html><body>" + SCRIPT + b"</body></html>"
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)">'
       + SCRIPT + b"</svg>")

BAD_FILES = {
    "html renamed .png": (HTML, "logo.png", "image/png", UNREADABLE),
    "png signature + html": (PNG_SIGNATURE + HTML, "logo.png", "image/png", UNREADABLE),
    "png header chunk + html": (PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)) + HTML,
                                "logo.png", "image/png", UNREADABLE),
    "svg": (SVG, "logo.svg", "image/svg+xml", UNREADABLE),
    "svg named .png": (SVG, "logo.png", "image/png", UNREADABLE),
    "truncated png": (lambda: image_bytes("PNG", (300, 300), noise=True)[:40_000], "logo.png", "image/png",
                      UNREADABLE),
    "truncated jpeg": (lambda: image_bytes("JPEG", (300, 300), noise=True)[:5_000], "logo.jpg", "image/jpeg",
                       UNREADABLE),
    # Over Pillow's own bomb limit (2 × 89 million pixels): refused while reading the header.
    "decompression bomb": (crafted_png(100_000, 100_000, rows=bytes(1000)), "logo.png", "image/png",
                           TOO_MANY_PIXELS),
    # Under Pillow's limit but over ours (LOGO_MAX_PIXELS): a valid 36-megapixel image in a few kilobytes.
    "36 megapixels in a tiny file": (lambda: crafted_png(6000, 6000), "logo.png", "image/png", TOO_MANY_PIXELS),
    "bmp": (lambda: image_bytes("BMP", (64, 64)), "logo.bmp", "image/bmp", None),
    "tiff": (lambda: image_bytes("TIFF", (64, 64)), "logo.tif", "image/tiff", None),
    "eps": (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n", "logo.eps", "application/postscript",
            None),
    "empty": (b"", "logo.png", "image/png", EMPTY),
}
OTHER_FORMAT = ("The logo must be a PNG, JPEG, WebP or GIF image.", UNREADABLE)  # either says it clearly


def bad_file(name: str) -> tuple[bytes, str, str, str | None]:
    content, filename, mimetype, message = BAD_FILES[name]
    return (content() if callable(content) else content), filename, mimetype, message


def upload(content: bytes, filename: str = "logo.png", mimetype: str = "image/png"):
    return (io.BytesIO(content), filename, mimetype)


def post(client, url: str, **kw):
    """POST a large body. The test client spools bodies over 500 kB to a temporary file and, unless it follows
    redirects, leaves closing it to the caller."""
    r = client.post(url, **kw)
    r.get_data()
    r.close()
    r.request.input_stream.close()
    return r


def registration(email: str = "logo@example.com", **overrides):
    data = {"email": email, "password": PASSWORD, "password_confirm": PASSWORD,
            "name_zh": "晋江标志鞋业有限公司", "name_en": "Jinjiang Logo Footwear Co., Ltd.", "country": "CN",
            "province": "福建", "city": "晋江", "address": "", "website": "", "contact_name": "林芳",
            "contact_phone": "+86 139 1234 5678", "contact_email": "sales@logo.example.com", "description": "",
            "space_kind": "standard", "booths_requested": "2", "raw_space_m2": "", "preferred_area_id": "0",
            "preferred_pavilion_id": "0", "corner_preference": "none", "years_exhibited": "0", "competitors": "",
            "notes": ""}
    data.update(overrides)
    return data


def profile_form(app, **overrides):
    with app.app_context():
        ex = user("exhibitor@expo.test").exhibitor
        data = {k: getattr(ex, k) or "" for k in ("name_zh", "name_en", "country", "province", "city", "address",
                                                 "website", "contact_name", "contact_phone", "contact_email",
                                                 "description")}
        data["categories"] = [c.id for c in ex.categories]
    data.update(overrides)
    return data


def stored_logo(app, email: str) -> tuple[bytes | None, object]:
    with app.app_context():
        u = user(email)
        if u is None:
            return None, None
        return u.exhibitor.logo_png, u.exhibitor.logo_updated_at


def exhibitor_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Exhibitor.id)))


@pytest.fixture
def exhibitor_client(client):
    r = client.post("/login", data={"email": "exhibitor@expo.test", "password": "expo-demo-2026"})
    assert r.status_code == 302
    return client


def assert_our_png(app, stored: bytes, original: bytes) -> Image.Image:
    """``stored`` is a PNG we wrote: a fresh encoding, nothing carried over, no larger than LOGO_SIZE_PX."""
    assert stored.startswith(PNG_SIGNATURE)
    assert stored != original
    assert SCRIPT not in stored and b"Comment" not in stored
    img = Image.open(io.BytesIO(stored))
    img.load()
    assert img.format == "PNG"
    assert max(img.size) <= app.config["LOGO_SIZE_PX"]
    assert not {k for k in img.info if k not in ("dpi", "gamma", "srgb")}, img.info  # no text chunks kept
    return img


# --- accepted -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,size", [("PNG", (1200, 600)), ("JPEG", (800, 1000)), ("WEBP", (300, 200)),
                                      ("GIF", (700, 700))])
def test_registration_accepts_and_reencodes_a_real_image(app, client, fmt, size):
    original = image_bytes(fmt, size)
    r = client.post("/register", data={**registration(), "logo": upload(original, f"logo.{fmt.lower()}",
                                                                         f"image/{fmt.lower()}")})
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    stored, updated_at = stored_logo(app, "logo@example.com")
    assert updated_at is not None
    img = assert_our_png(app, stored, original)
    longest = app.config["LOGO_SIZE_PX"]
    expected = size if max(size) <= longest else \
        tuple(round(n * longest / max(size)) for n in size)
    assert abs(img.size[0] - expected[0]) <= 1 and abs(img.size[1] - expected[1]) <= 1


def test_metadata_with_a_script_does_not_survive(app, client):
    original = png_with_script()
    assert SCRIPT in original
    r = client.post("/register", data={**registration(), "logo": upload(original)})
    assert r.status_code == 302
    stored, _at = stored_logo(app, "logo@example.com")
    assert_our_png(app, stored, original)


def test_profile_accepts_and_reencodes_a_logo(app, exhibitor_client):
    original = image_bytes("JPEG", (2000, 1000))
    r = exhibitor_client.post("/exhibitor/profile", data={**profile_form(app), "logo": upload(original, "l.jpg",
                                                                                            "image/jpeg")})
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    stored, _at = stored_logo(app, "exhibitor@expo.test")
    img = assert_our_png(app, stored, original)
    assert img.size == (512, 256)
    # The profile page then shows it.
    with app.app_context():
        ex_id = user("exhibitor@expo.test").exhibitor_id
    assert f"/exhibitors/{ex_id}/logo.png" in exhibitor_client.get("/exhibitor/profile").get_data(as_text=True)


def test_small_logo_is_not_enlarged(app, client):
    r = client.post("/register", data={**registration(), "logo": upload(image_bytes("PNG", (120, 40)))})
    assert r.status_code == 302
    stored, _at = stored_logo(app, "logo@example.com")
    assert Image.open(io.BytesIO(stored)).size == (120, 40)


# --- refused --------------------------------------------------------------------------------------------------------

def _assert_refused(r, message: str | None):
    assert 400 <= r.status_code < 500, r.status_code
    body = r.get_data(as_text=True)
    assert r.mimetype == "text/html"
    if message is None:
        assert any(m in body for m in OTHER_FORMAT), body[:3000]
    else:
        assert message in body, body[:3000]
    assert SCRIPT.decode() not in body  # nothing of the file is echoed back


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_registration_refuses_a_bad_logo_and_saves_nothing(app, client, name):
    content, filename, mimetype, message = bad_file(name)
    before = exhibitor_count(app)
    r = client.post("/register", data={**registration(), "logo": upload(content, filename, mimetype)})
    _assert_refused(r, message)
    assert r.status_code == 400
    assert exhibitor_count(app) == before
    assert stored_logo(app, "logo@example.com") == (None, None)
    assert client.get("/exhibitor/").status_code == 302  # not signed in either


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_profile_refuses_a_bad_logo_and_keeps_everything(app, exhibitor_client, name):
    good = image_bytes("PNG", (300, 300))
    assert exhibitor_client.post("/exhibitor/profile", data={**profile_form(app), "logo": upload(good)}
                                 ).status_code == 302
    before = stored_logo(app, "exhibitor@expo.test")
    content, filename, mimetype, message = bad_file(name)
    r = exhibitor_client.post("/exhibitor/profile", data={**profile_form(app, city="石狮"),
                                                          "logo": upload(content, filename, mimetype)})
    _assert_refused(r, message)
    assert stored_logo(app, "exhibitor@expo.test") == before
    with app.app_context():
        assert user("exhibitor@expo.test").exhibitor.city != "石狮"  # the rest of the form was not saved either


@pytest.mark.parametrize("name", ["bmp", "tiff", "eps"])
def test_only_the_accepted_decoders_see_the_bytes(app, client, monkeypatch, name):
    """Pillow has parsers for dozens of formats (EPS even runs Ghostscript); an upload meets only the four we take."""
    seen = []
    Image.init()
    for fmt, (factory, accept) in list(Image.OPEN.items()):
        if fmt in ACCEPTED_FORMATS:
            continue

        def spy(fp, filename=None, *, _factory=factory, _fmt=fmt):
            seen.append(_fmt)
            return _factory(fp, filename)

        monkeypatch.setitem(Image.OPEN, fmt, (spy, accept))
    content, filename, mimetype, _message = bad_file(name)
    r = client.post("/register", data={**registration(), "logo": upload(content, filename, mimetype)})
    assert r.status_code == 400
    assert seen == []


def test_logo_just_over_the_limit_is_refused_with_a_message(app, client):
    limit = app.config["MAX_UPLOAD_BYTES"]
    content = image_bytes("PNG", (64, 64)) + bytes(limit)  # valid PNG, padded past the limit
    assert limit < len(content) + 4096 < app.config["MAX_CONTENT_LENGTH"]
    before = exhibitor_count(app)
    r = post(client, "/register", data={**registration(), "logo": upload(content)})
    assert r.status_code == 413
    assert f"The logo is larger than {round(limit / 1024 / 1024, 1)} MB." in r.get_data(as_text=True)
    assert exhibitor_count(app) == before


@pytest.mark.parametrize("csrf", [False, True])
def test_request_over_max_content_length_gets_a_friendly_page(app, client, csrf):
    """Werkzeug refuses the body before the view runs (in the CSRF check when it is on): still our own page."""
    app.config["WTF_CSRF_ENABLED"] = csrf
    data = registration()
    if csrf:
        data["csrf_token"] = csrf_token(client.get("/register").get_data(as_text=True))
    huge = bytes(app.config["MAX_CONTENT_LENGTH"] + 1)
    before = exhibitor_count(app)
    r = post(client, "/register", data={**data, "logo": upload(huge)})
    assert r.status_code == 413
    assert r.mimetype == "text/html"
    body = r.get_data(as_text=True)
    assert '<html lang="en">' in body and "Register as exhibitor" in body  # our layout, not a bare error
    mb = round(app.config["MAX_UPLOAD_BYTES"] / 1024 / 1024, 1)
    assert f"at most {mb} MB" in body
    assert exhibitor_count(app) == before
    # And in Chinese for a Chinese browser.
    r = post(client, "/register", data={**data, "logo": upload(huge)}, headers={"Accept-Language": "zh-CN"})
    english = "The upload is too large: a file may be at most %(mb)s MB."
    with app.test_request_context(), force_locale("zh"):
        chinese = gettext(english, mb=mb)
    assert chinese != english % {"mb": mb}, "the Chinese catalog has no translation for the 413 message"
    body = r.get_data(as_text=True)
    assert r.status_code == 413 and 'lang="zh-Hans"' in body and chinese in body


def test_api_request_over_max_content_length_gets_json(app, client):
    r = post(client, "/api/v1/registrations", data=bytes(app.config["MAX_CONTENT_LENGTH"] + 1),
                    content_type="application/json")
    assert r.status_code == 413
    assert r.is_json and r.get_json()["error"] == "request_entity_too_large"


# --- served -----------------------------------------------------------------------------------------------------------

def test_logo_is_served_as_png_with_protective_headers(app, client):
    r = client.post("/register", data={**registration(), "logo": upload(png_with_script())})
    assert r.status_code == 302
    with app.app_context():
        ex = user("logo@example.com").exhibitor
        ex_id, stored = ex.id, ex.logo_png
    r = client.get(f"/exhibitors/{ex_id}/logo.png")
    assert r.status_code == 200
    assert r.mimetype == "image/png"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp
    assert r.data == stored and r.data.startswith(PNG_SIGNATURE)


def test_logo_is_never_served_as_html(app, client):
    """Even bytes that are HTML (written past the upload check, say by a bad import) go out as an inert PNG."""
    with app.app_context():
        ex = user("exhibitor@expo.test").exhibitor
        ex.logo_png = HTML
        ex.logo_updated_at = ex.created_at
        db.session.commit()
        ex_id = ex.id
    r = client.get(f"/exhibitors/{ex_id}/logo.png", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert r.mimetype == "image/png" and "html" not in r.headers["Content-Type"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in r.headers["Content-Security-Policy"]


def test_missing_logo_is_a_404(app, client):
    with app.app_context():
        ex_id = user("exhibitor@expo.test").exhibitor_id
    assert client.get(f"/exhibitors/{ex_id}/logo.png").status_code == 404
    assert client.get("/exhibitors/999999/logo.png").status_code == 404
