"""QR codes for print and screen: one matrix (from the ``qrcode`` library), drawn as vector shapes.

Print draws each row's runs of dark modules as one rectangle each, all in one filled path: a few hundred
rectangles instead of thousands of squares, with no hairline seams between neighbouring modules inside a run, and
sharp at any printer resolution. Screens get the same matrix as an SVG path. No Flask here; letters and badges
alike call :func:`draw_qr`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import qrcode
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

#: The four error-correction levels by their letters (how much of the code may be soiled and still read).
LEVELS = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}
QUIET_ZONE = 4  # modules of white margin around the code that decoders expect

Matrix = Sequence[Sequence[bool]]
#: A matrix packed as :func:`pack` writes it: its size in one byte, then one bit per module, row by row. Badges keep
#: their code's modules this way, and the drawing functions here take either form.
Packed = bytes

_DARK_RUN = re.compile("1+")


def qr_matrix(data: str | bytes, level: str = "M", *, mask: int | None = None) -> list[list[bool]]:
    """The modules of the smallest QR code holding ``data``, without the quiet zone (True is dark).

    ``mask`` fixes the mask pattern (0–7) instead of trying all eight for the one with the fewest penalty points:
    about seven times faster, for codes computed by the thousand (badges); every mask scans."""
    code = qrcode.QRCode(error_correction=LEVELS[level], border=0, box_size=1, mask_pattern=mask)
    code.add_data(data)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def pack(matrix: Matrix) -> Packed:
    """A square matrix as bytes: its size, then one bit per module, row by row (the last byte padded with 0s)."""
    n = len(matrix)
    bits = "".join("1" if cell else "0" for row in matrix for cell in row)
    bits += "0" * (-len(bits) % 8)
    return bytes([n]) + int(bits or "0", 2).to_bytes(len(bits) // 8, "big")


def _bits(data: Packed) -> tuple[int, str]:
    """The size of a packed matrix and its modules as a string of "0" and "1", row after row."""
    n = data[0]
    return n, format(int.from_bytes(data[1:], "big"), f"0{8 * (len(data) - 1)}b")


def unpack(data: Packed) -> list[list[bool]]:
    n, bits = _bits(data)
    return [[c == "1" for c in bits[r * n:(r + 1) * n]] for r in range(n)]


def matrix_size(matrix: Matrix | Packed) -> int:
    return matrix[0] if isinstance(matrix, bytes | bytearray) else len(matrix)


def runs(matrix: Matrix | Packed) -> Iterator[tuple[int, int, int]]:
    """``(row, first column, length)`` for every horizontal run of dark modules."""
    if isinstance(matrix, bytes | bytearray):
        # A regular expression finds the runs in C: some ten times faster than walking the modules in Python,
        # which was the largest part of drawing a badge in a batch of thousands.
        n, bits = _bits(matrix)
        for r in range(n):
            start = r * n
            for m in _DARK_RUN.finditer(bits, start, start + n):
                yield r, m.start() - start, m.end() - m.start()
        return
    for r, row in enumerate(matrix):
        c, n = 0, len(row)
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                yield r, start, c - start
            else:
                c += 1


def path_ops(matrix: Matrix | Packed) -> list[str]:
    """PDF path operators, one ``column row length 1 re`` per run of dark modules (module units, first row 0)."""
    if not isinstance(matrix, bytes | bytearray):
        return [f"{c} {r} {length} 1 re" for r, c, length in runs(matrix)]
    # The batch-printing path, per badge: one regular-expression scan of the bits in C and one f-string per run,
    # with no generator in between (a generator's per-run overhead was as large as the rest together).
    n, bits = _bits(matrix)
    ops: list[str] = []
    append = ops.append
    finditer = _DARK_RUN.finditer
    for r in range(n):
        start = r * n
        for m in finditer(bits, start, start + n):
            first, end = m.span()
            append(f"{first - start} {r} {end - first} 1 re")
    return ops


def draw_qr(canvas, matrix: Matrix | Packed, x: float, y: float, size: float, *, quiet: bool = True, colour=None) -> None:
    """Draw ``matrix`` on a reportlab canvas as one filled path, its bottom-left corner at (``x``, ``y``) and
    ``size`` points wide and high, including the white quiet zone unless ``quiet`` is False (the caller then keeps
    the margin clear itself)."""
    from reportlab.lib.colors import black, white

    n = matrix_size(matrix)
    if n == 0:
        return
    margin = QUIET_ZONE if quiet else 0
    module = size / (n + 2 * margin)
    canvas.saveState()
    if quiet:
        canvas.setFillColor(white)
        canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(colour or black)
    # In module units, with the first row at the top: every run is then "column row length 1 re" in small
    # integers, written straight into the page's stream. Through reportlab's path object each of the ~350 runs of
    # a badge-size code costs four float formattings; this way the whole code is one string join.
    canvas.transform(module, 0, 0, -module, x + margin * module, y + size - margin * module)
    ops = path_ops(matrix)
    if ops:
        ops.append("f")
        canvas.addLiteral("\n".join(ops))
    canvas.restoreState()


def svg(matrix: Matrix | Packed, *, module_px: int = 4, quiet: bool = True) -> str:
    """The matrix as a standalone SVG image (for screens): one path of run rectangles on white."""
    margin = QUIET_ZONE if quiet else 0
    n = matrix_size(matrix) + 2 * margin
    d = "".join(f"M{c + margin},{r + margin}h{length}v1h-{length}z" for r, c, length in runs(matrix))
    side = n * module_px
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{side}" height="{side}" '
            f'shape-rendering="crispEdges"><rect width="{n}" height="{n}" fill="#fff"/>'
            f'<path d="{d}" fill="#000"/></svg>')
