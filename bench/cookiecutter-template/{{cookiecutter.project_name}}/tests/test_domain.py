{% from "includes/regions.jinja" import region %}
"""Tests of the domain logic, without the web layer."""

from __future__ import annotations

{% set details = [
    cookiecutter.description ~ ("" if cookiecutter.description.rstrip()[-1:] in ".!?" else "."),
    'The module is src/' ~ cookiecutter.__package_name ~ '/domain.py. The region is the whole test module body after `from __future__ import annotations`: imports at its top (from ' ~ cookiecutter.__package_name ~ '.domain, and DomainError from ' ~ cookiecutter.__package_name ~ '.errors).',
    "Cover the happy paths, boundary values and every rule that raises DomainError (`pytest.raises(DomainError, match=...)`); use `pytest.mark.parametrize` for tables of cases.",
    "Plain test functions annotated `-> None`; no app, no network, no sleeping.",
    "Full type hints (mypy --strict), ruff-clean, lines <= 100 characters.",
] | join(' ') %}
{% call region("domain-tests", ["Write pytest tests for the domain module of this service, described as:"] + (details | wordwrap(88, break_on_hyphens=False)).split("\n")) %}
import pytest

from {{ cookiecutter.__package_name }}.domain import (
    MAX_DISCOUNT_PERCENT,
    MAX_QUANTITY,
    LineItem,
    quote,
)
from {{ cookiecutter.__package_name }}.errors import DomainError


def test_quote_adds_up_line_items() -> None:
    result = quote([LineItem("apple", 120, 3), LineItem("pear", 95, 2)])

    assert result.subtotal_cents == 550
    assert result.discount_cents == 0
    assert result.total_cents == 550


@pytest.mark.parametrize(
    ("subtotal", "percent", "discount"),
    [(1000, 10, 100), (999, 10, 100), (994, 10, 99), (1, 50, 1), (1000, 0, 0)],
)
def test_discount_rounds_half_up_to_the_cent(subtotal: int, percent: int, discount: int) -> None:
    result = quote([LineItem("box", subtotal, 1)], discount_percent=percent)

    assert result.discount_cents == discount
    assert result.total_cents == subtotal - discount


def test_limits_are_inclusive() -> None:
    result = quote([LineItem("bulk", 1, MAX_QUANTITY)], discount_percent=MAX_DISCOUNT_PERCENT)

    assert result.total_cents == MAX_QUANTITY // 2


def test_a_quote_needs_items() -> None:
    with pytest.raises(DomainError, match="at least one"):
        quote([])


def test_each_sku_appears_once() -> None:
    with pytest.raises(DomainError, match="only once"):
        quote([LineItem("apple", 120, 1), LineItem("apple", 120, 2)])


@pytest.mark.parametrize("percent", [-1, MAX_DISCOUNT_PERCENT + 1])
def test_discount_out_of_range(percent: int) -> None:
    with pytest.raises(DomainError, match="discount"):
        quote([LineItem("apple", 120, 1)], discount_percent=percent)


@pytest.mark.parametrize(
    ("sku", "price", "quantity", "message"),
    [
        (" ", 100, 1, "blank"),
        ("apple", -1, 1, "negative"),
        ("apple", 100, 0, "quantity"),
        ("apple", 100, MAX_QUANTITY + 1, "quantity"),
    ],
)
def test_invalid_line_items(sku: str, price: int, quantity: int, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        LineItem(sku, price, quantity)


{% endcall %}
