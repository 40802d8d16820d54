"""Timestamps. geryon writes fixed-width UTC times so text order is time order (Q33)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_micro(moment: datetime | None = None) -> str:
    """``2026-01-02T03:04:05.000000Z``: always six fraction digits."""
    moment = moment or utc_now()
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_seconds(moment: datetime | None = None) -> str:
    """``2026-01-02T03:04:05Z``."""
    moment = moment or utc_now()
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def compact_stamp(moment: datetime | None = None) -> str:
    """``20260102T030405Z``, for run ids."""
    moment = moment or utc_now()
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_iso(text: str) -> datetime:
    """Parse any ISO-8601 UTC time geryon or upstream wrote (``Z`` suffix, optional fraction)."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text).astimezone(UTC)
