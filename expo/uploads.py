"""Uploaded images: checked by content (not by name or declared type), size-capped, and re-encoded to PNG so that
what we store and serve is an image we produced ourselves."""

from __future__ import annotations

import io
import warnings

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

from expo.errors import ExpoError

ACCEPTED_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}


class UploadError(ExpoError):
    code = "bad_upload"


def reencode_logo(stream, *, max_bytes: int | None = None, max_pixels: int | None = None,
                  size_px: int | None = None) -> bytes:
    """Read an uploaded logo and return it as a PNG no larger than ``size_px`` on its longer side."""
    cfg = current_app.config
    max_bytes = max_bytes or int(cfg["MAX_UPLOAD_BYTES"])
    max_pixels = max_pixels or int(cfg["LOGO_MAX_PIXELS"])
    size_px = size_px or int(cfg["LOGO_SIZE_PX"])
    raw = stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise UploadError(_l("The logo is larger than %(mb)s MB.", mb=round(max_bytes / 1024 / 1024, 1)),
                          status=413, field="logo")
    if not raw:
        raise UploadError(_l("The uploaded file is empty."), field="logo")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only the decoders of the accepted formats ever see the bytes (no EPS through Ghostscript, etc.).
            with Image.open(io.BytesIO(raw), formats=sorted(ACCEPTED_FORMATS)) as img:
                if img.format not in ACCEPTED_FORMATS:
                    raise UploadError(_l("The logo must be a PNG, JPEG, WebP or GIF image."), field="logo")
                if img.width * img.height > max_pixels:
                    raise UploadError(_l("The logo has too many pixels."), field="logo")
                img.load()
                img.seek(0)
                out = img.convert("RGBA")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadError(_l("The logo has too many pixels."), field="logo") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise UploadError(_l("The file is not an image we can read (PNG, JPEG, WebP or GIF)."), field="logo") from exc
    out.thumbnail((size_px, size_px))
    buf = io.BytesIO()
    out.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
