"""Organizations: names and the generated primary domain (ZITADEL's `NewIAMDomainName`)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bergfried.domain.orgs import generated_org_domain, org_domain_label, validate_org_name
from bergfried.errors import InvalidArgument

RULE = "spec/management-api.md §4"


@pytest.mark.rule(RULE)
@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("ZITADEL", "zitadel"),
        ("ACME Corp", "acme-corp"),
        ("ACME  Corp", "acme--corp"),  # each space becomes its own '-'
        ("Foo_Bar.Baz!", "foobarbaz"),
        ("Müller & Söhne GmbH", "müller--söhne-gmbh"),
        ("Café", "café"),
        ("e\u0301clair", "e\u0301clair"),  # combining mark (category Mn) is kept
        ("東京 Team", "東京-team"),
        ("Org 2024", "org-2024"),
        ("pre-existing-hyphens", "pre-existing-hyphens"),
    ],
)
def test_label_replaces_spaces_drops_other_characters_and_lower_cases(name: str, label: str) -> None:
    assert org_domain_label(name) == label


@pytest.mark.rule(RULE)
@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("  ACME  ", "acme"),
        ("- ACME -", "acme"),
        ("!!!ACME???", "acme"),
        ("-", ""),
    ],
)
def test_label_strips_hyphens_from_both_ends(name: str, label: str) -> None:
    assert org_domain_label(name) == label


@pytest.mark.rule(RULE)
def test_label_is_cut_to_63_characters() -> None:
    assert org_domain_label("a" * 100) == "a" * 63


@pytest.mark.rule(RULE)
def test_label_is_cut_before_the_hyphens_are_stripped() -> None:
    # 62 letters, then " b": the cut at 63 leaves a trailing '-', which is then stripped.
    assert org_domain_label("a" * 62 + " b") == "a" * 62


@pytest.mark.rule(RULE)
def test_label_counts_removed_characters_out_before_cutting() -> None:
    assert org_domain_label("!" * 70 + "abc") == "abc"


@pytest.mark.rule("spec/management-api.md §4; zitadel internal/domain/org_domain.go [^\\p{L}\\p{M}0-9-]")
@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Team \u0663", "team"),  # ARABIC-INDIC DIGIT THREE
        ("Team \uff11", "team"),  # FULLWIDTH DIGIT ONE
        ("Team \u0967", "team"),  # DEVANAGARI DIGIT ONE
    ],
)
def test_label_keeps_only_ascii_digits(name: str, label: str) -> None:
    assert org_domain_label(name) == label


@pytest.mark.rule(RULE)
@pytest.mark.rule("spec/management-api.md §4; Go strings.ToLower maps rune by rune")
def test_label_lower_cases_character_by_character() -> None:
    assert org_domain_label("İstanbul") == "istanbul"
    assert len(org_domain_label("İ" * 63)) == 63


@pytest.mark.rule(RULE)
def test_generated_domain_is_label_dot_instance_domain() -> None:
    assert generated_org_domain("ACME Corp", "localhost") == "acme-corp.localhost"
    assert generated_org_domain("Road Runner Inc.", "auth.example.com") == "road-runner-inc.auth.example.com"


def test_generated_domain_falls_back_to_instance_domain_when_label_is_empty() -> None:
    assert generated_org_domain("!!!", "auth.example.com") == "auth.example.com"


def _allowed(ch: str) -> bool:
    return ch == "-" or ch in "0123456789" or unicodedata.category(ch)[0] in ("L", "M")


@pytest.mark.rule(RULE)
@given(st.text())
@example("İ" * 63)
@example("-" * 10 + "a" * 70 + "-" * 10)
def test_label_property_only_allowed_characters_never_hyphen_at_ends(name: str) -> None:
    label = org_domain_label(name)
    assert all(_allowed(ch) for ch in label)
    assert not label.startswith("-")
    assert not label.endswith("-")
    assert " " not in label
    assert label == label.lower()
    assert len(label) <= 63


@pytest.mark.rule(RULE)
@given(st.text())
def test_label_property_is_idempotent(name: str) -> None:
    label = org_domain_label(name)
    assert org_domain_label(label) == label


@pytest.mark.rule(RULE)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126)))
def test_label_property_ascii_names_give_dns_label_characters(name: str) -> None:
    label = org_domain_label(name)
    assert re.fullmatch(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?", label)


@pytest.mark.rule(RULE)
@pytest.mark.parametrize("name", ["A", "ACME", "x" * 200, "  padded  "])
def test_org_name_of_1_to_200_characters_is_accepted_after_trimming(name: str) -> None:
    assert validate_org_name(name) == name.strip()


@pytest.mark.rule(RULE)
@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_org_name_empty_or_longer_than_200_is_invalid(name: str) -> None:
    with pytest.raises(InvalidArgument):
        validate_org_name(name)
