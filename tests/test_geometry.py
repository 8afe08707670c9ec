"""Pure geometry: open sides, kinds, neighbours, facing booths and the block layout generator, checked against
properties computed independently from the rectangles (brute force), on hand-made and hypothesis-made layouts."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from expo.venue import geometry, layout
from expo.venue.geometry import Rect
from expo.venue.models import BoothKind


def _grid(cols: int, rows: int, x0: float = 10, y0: float = 10, size: float = 3) -> dict[tuple[int, int], Rect]:
    return {(c, r): Rect(x0 + c * size, y0 + r * size, size, size) for c in range(cols) for r in range(rows)}


def test_double_row_block_has_corners_at_the_ends_and_inline_booths_between():
    block = _grid(5, 2)
    sides = geometry.open_sides(block, 100, 100)
    for (c, r), s in sides.items():
        expected = ("N" if r == 0 else "S") + ("W" if c == 0 else "") + ("E" if c == 4 else "")
        assert sorted(s) == sorted(expected)
        kind = geometry.kind_for(s)
        assert kind == (BoothKind.CORNER if c in (0, 4) else BoothKind.STANDARD)


def test_single_booth_is_an_island_unless_against_a_wall_or_obstacle():
    lone = {"x": Rect(40, 40, 6, 6)}
    assert geometry.kind_for(geometry.open_sides(lone, 100, 100)["x"]) == BoothKind.ISLAND
    on_wall = {"x": Rect(0, 40, 6, 6)}
    assert geometry.open_sides(on_wall, 100, 100)["x"] == "NES"
    assert geometry.kind_for("NES") == BoothKind.PENINSULA
    # An obstacle covering most of the east side closes it; a sliver does not.
    assert "E" not in geometry.open_sides(lone, 100, 100, [Rect(46, 40, 1, 5)])["x"]
    assert "E" in geometry.open_sides(lone, 100, 100, [Rect(46, 40, 1, 1)])["x"]
    assert geometry.kind_for("NESW", raw_space=True) == BoothKind.RAW
    assert geometry.kind_for("NS") == BoothKind.STANDARD  # open front and back: a through booth, not a corner


def test_neighbours_are_booths_sharing_a_wall():
    block = _grid(3, 2)
    adjacency = geometry.neighbours(block)
    for a, b in itertools.permutations(block, 2):
        shares = abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1  # grid cells side by side or back to back
        assert (b in adjacency[a]) == shares
    assert geometry.contiguous([(0, 0), (1, 0), (1, 1)], adjacency)
    assert not geometry.contiguous([(0, 0), (2, 0)], adjacency)


def test_facing_is_the_first_row_across_an_aisle():
    north = _grid(3, 1, y0=10)  # a row
    south = {(c, "s"): Rect(11.5 + c * 3, 16, 3, 3) for c in range(3)}  # across a 3 m aisle, half a booth east
    far = {(c, "far"): Rect(10 + c * 3, 19, 3, 3) for c in range(3)}  # behind the southern row
    rects = {**north, **south, **far}
    across = geometry.facing(rects)
    assert across[(1, 0)] == {(0, "s"), (1, "s")}  # spans overlapping by ≥ 1 m face each other
    assert across[(0, 0)] == {(0, "s")}
    assert across[(2, "s")] == {(2, 0)}
    assert not any(k[1] == "far" for k in across[(1, 0)])  # hidden behind the first row
    aligned = {**north, **{(c, "s"): Rect(10 + c * 3, 16, 3, 3) for c in range(3)}}
    assert geometry.facing(aligned)[(1, 0)] == {(1, "s")}
    wide = {"a": Rect(0, 0, 3, 3), "b": Rect(0, 3 + geometry.MAX_FACING_AISLE_M + 1, 3, 3)}
    assert geometry.facing(wide)["a"] == set()


def _brute_overlap(rects: list[Rect]) -> bool:
    return any(a.overlaps(b) for a, b in itertools.combinations(rects, 2))


@settings(max_examples=60, deadline=None)
@given(
    width=st.integers(10, 80), depth=st.integers(10, 60), per_row=st.integers(1, 12), rows=st.integers(1, 3),
    aisle=st.sampled_from([2.0, 3.0, 4.5]), columns=st.lists(st.tuples(st.integers(0, 79), st.integers(0, 59)),
                                                               max_size=6),
)
def test_generator_fills_the_region_without_overlaps(width, depth, per_row, rows, aisle, columns):
    region = Rect(0, 0, width, depth)
    obstacles = [Rect(x, y, 1, 1) for x, y in columns]
    spec = layout.BlockLayout(region, prefix="H-", booths_per_row=per_row, rows_per_block=rows, aisle_m=aisle,
                              cross_aisle_m=aisle)
    booths = layout.generate(spec, obstacles)
    rects = [b.rect for b in booths]
    assert all(r.inside(width, depth) for r in rects)
    assert not _brute_overlap(rects)
    assert not any(r.overlaps(o) for r in rects for o in obstacles)
    numbers = [b.number for b in booths]
    assert len(set(numbers)) == len(numbers) and numbers == sorted(numbers)
    if not obstacles:
        # Without obstacles the count follows from the arithmetic of blocks and aisles.
        def fit(length: float, size: float, group: int, gap: float) -> int:
            n, pos = 0, 0.0
            while pos + size <= length + 1e-9:
                k = min(group, int((length - pos) // size + 1e-9))
                n += k
                pos += k * size + gap
            return n
        assert len(booths) == fit(width, 3, per_row, aisle) * fit(depth, 3, rows, aisle)


def test_generator_keeps_entrances_clear_and_stops_at_max():
    zones = layout.entrance_zones([{"side": "W", "offset_m": 10, "width_m": 6}], 60, 40)
    assert zones == [Rect(0, 10, layout.ENTRANCE_CLEARANCE_M, 6)]
    booths = layout.generate(layout.BlockLayout(Rect(0, 0, 60, 40), prefix="A-"), zones)
    assert not any(b.rect.overlaps(zones[0]) for b in booths)
    capped = layout.generate(layout.BlockLayout(Rect(0, 0, 60, 40), prefix="A-", first_number=7, max_booths=5))
    assert [b.number for b in capped] == ["A-007", "A-008", "A-009", "A-010", "A-011"]
