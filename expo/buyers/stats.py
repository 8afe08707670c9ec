"""Buyer statistics for the organizer: by country and world region, by product interest, by hosted-buyer status
and purchase volume. Aggregated in SQL (GROUP BY), so a few statements at any number of buyers; the charts are
drawn by :func:`expo.charts.bar_chart` from what these return.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from expo.buyers import regions
from expo.buyers.models import Buyer, BuyerStatus, Delegation, HostedStatus, VolumeBand, buyer_categories
from expo.categories.models import ProductCategory
from expo.extensions import db
from expo.venue.models import Expo


@dataclass
class CountryRow:
    country: str
    buyers: int = 0
    delegations: int = 0


@dataclass
class RegionRow:
    region: str
    countries: list[CountryRow] = field(default_factory=list)

    @property
    def buyers(self) -> int:
        return sum(c.buyers for c in self.countries)

    @property
    def delegations(self) -> int:
        return sum(c.delegations for c in self.countries)


@dataclass
class BuyerFacets:
    """How the buyers of an expo divide up."""

    total: int = 0
    countries: list[CountryRow] = field(default_factory=list)  # most buyers first
    status: dict[str, int] = field(default_factory=dict)
    hosted: dict[str, int] = field(default_factory=dict)
    volume: dict[str, int] = field(default_factory=dict)  # "" for not stated
    in_delegation: int = 0
    delegations: int = 0

    @property
    def country_count(self) -> int:
        """The number of countries and regions counted (those with at least one buyer or delegation)."""
        return len(self.countries)


def facets(expo: Expo) -> BuyerFacets:
    """Buyers and delegations per country; buyers per status, hosted status and volume band; delegation members.

    Three statements, whatever the number of buyers: a GROUP BY country (the (expo_id, country) index gives the
    groups in order), one pass of filtered counts (``count(*) FILTER (WHERE ...)``, no sort at all: a GROUP BY over
    several columns would sort every buyer), and a GROUP BY over the delegations."""
    out = BuyerFacets()
    by_country = {country: CountryRow(country, buyers=n) for country, n in db.session.execute(
        select(Buyer.country, func.count()).where(Buyer.expo_id == expo.id).group_by(Buyer.country))}
    buckets = ([("status", s.value, Buyer.status == s.value) for s in BuyerStatus]
               + [("hosted", h.value, Buyer.hosted_status == h.value) for h in HostedStatus]
               + [("volume", v.value, Buyer.purchase_volume == v.value) for v in VolumeBand]
               + [("in_delegation", "", Buyer.delegation_id.is_not(None))])
    counts = db.session.execute(select(func.count(), *(func.count().filter(cond) for _k, _v, cond in buckets))
                                .where(Buyer.expo_id == expo.id)).one()
    out.total = counts[0]
    for (kind, value, _cond), n in zip(buckets, counts[1:], strict=True):
        if kind == "in_delegation":
            out.in_delegation = n
        else:
            getattr(out, kind)[value] = n
    out.volume[""] = out.total - sum(out.volume.values())
    for country, n in db.session.execute(select(Delegation.country, func.count()).where(Delegation.expo_id == expo.id)
                                         .group_by(Delegation.country)):
        by_country.setdefault(country, CountryRow(country)).delegations = n
        out.delegations += n
    out.countries = sorted(by_country.values(), key=lambda r: (-r.buyers, -r.delegations, r.country))
    return out


def by_region(countries: list[CountryRow]) -> list[RegionRow]:
    """The country rows grouped by world region, in the regions' order, each region's countries as given."""
    grouped: dict[str, RegionRow] = {}
    for row in countries:
        region = regions.region_of(row.country)
        grouped.setdefault(region, RegionRow(region)).countries.append(row)
    return sorted(grouped.values(), key=lambda r: (-r.buyers, regions.codes().index(r.region)))


def interests(expo: Expo) -> list[tuple[ProductCategory, int]]:
    """Product categories with the number of buyers interested in each, most wanted first (active categories
    nobody chose included, at 0). A buyer counts once per category they chose."""
    stmt = select(buyer_categories.c.category_id, func.count()).group_by(buyer_categories.c.category_id)
    # Usually every buyer in the database belongs to this expo: then the counts come from the (category_id,
    # buyer_id) index alone, without matching hundreds of thousands of buyer ids to their expo.
    if db.session.scalar(select(Buyer.id).where(Buyer.expo_id != expo.id).limit(1)) is not None:
        stmt = stmt.where(buyer_categories.c.buyer_id.in_(select(Buyer.id).where(Buyer.expo_id == expo.id)))
    counts = dict(db.session.execute(stmt).all())
    cats = db.session.scalars(select(ProductCategory).order_by(ProductCategory.sort, ProductCategory.id))
    return sorted(((c, counts.get(c.id, 0)) for c in cats if c.active or counts.get(c.id)),
                  key=lambda pair: -pair[1])
