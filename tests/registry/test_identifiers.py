"""Validation of UAI, INE, mobiles and e-mail addresses; name folding; login bases."""

from __future__ import annotations

import pytest

from idp.registry.codes import level_from_mef, onde_relationship_code, relationship_name
from idp.registry.identifiers import (
    names_match,
    normalize_email,
    normalize_mobile,
    normalize_name,
    parse_date,
    uai_check_letter,
    username_base,
    validate_ine,
    validate_uai,
)


class TestUai:
    @pytest.mark.parametrize("uai", ["0932048W", "0790031E", "0310053P", "0110012D", "0211234C"])
    def test_real_uais_pass(self, uai):
        assert validate_uai(uai) == uai
        assert uai_check_letter(uai[:7]) == uai[7]

    def test_normalised_to_upper_case(self):
        assert validate_uai(" 0932048w ") == "0932048W"

    def test_wrong_check_letter(self):
        with pytest.raises(ValueError, match="devrait être W"):
            validate_uai("0932048A")

    def test_lenient_accepts_a_wrong_letter_but_not_a_wrong_shape(self):
        assert validate_uai("0750001A", lenient=True) == "0750001A"
        with pytest.raises(ValueError, match="7 chiffres"):
            validate_uai("075001A", lenient=True)


class TestIne:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("123456789ab", "123456789AB"),
            ("1234567890A", "1234567890A"),
            ("1234A56789B", "1234A56789B"),
        ],
    )
    def test_three_formats(self, value, expected):
        assert validate_ine(value) == expected

    @pytest.mark.parametrize("value", ["12345", "12345678901", "123456789A1", "1234B56789C"])
    def test_other_shapes(self, value):
        with pytest.raises(ValueError, match="INE"):
            validate_ine(value)


class TestMobile:
    @pytest.mark.parametrize(
        "value",
        ["06 12 34 56 78", "0612345678", "06.12.34.56.78", "+33 6 12 34 56 78", "0033612345678"],
    )
    def test_french_mobiles(self, value):
        assert normalize_mobile(value) == "+33612345678"

    def test_other_countries_through_phonenumbers(self):
        assert normalize_mobile("+32 470 12 34 56") == "+32470123456"

    @pytest.mark.parametrize("value", ["03 80 12 34 56", "+33 3 80 12 34 56", "0700000000"])
    def test_landlines_are_not_mobiles(self, value):
        with pytest.raises(ValueError, match="mobile"):
            normalize_mobile(value)

    @pytest.mark.parametrize("value", ["n/a", "06 12", "+33 6 12 34 56 78 99"])
    def test_garbage(self, value):
        with pytest.raises(ValueError):
            normalize_mobile(value)


class TestEmail:
    def test_domain_lower_cased_local_part_kept(self):
        assert normalize_email(" Jean.Dupont@Example.FR ") == "Jean.Dupont@example.fr"

    def test_unicode_goes_through_the_validator(self):
        assert normalize_email("léa@exemple.fr") == "léa@exemple.fr"

    @pytest.mark.parametrize(
        "value", ["jean", "jean@", "jean dupont@example.fr", "a@b", "x@y.test"]
    )
    def test_invalid(self, value):
        with pytest.raises(ValueError, match="adresse électronique"):
            normalize_email(value)


class TestNames:
    def test_folding(self):
        assert normalize_name("  Jean-Édouard   D’Arc ") == "jean edouard d'arc"
        assert normalize_name("LEFÈVRE-CŒUR") == "lefevre coeur"
        assert names_match("Zoé", "ZOE") and not names_match("Zoé", "Zoa")

    def test_username_base(self):
        assert username_base("Jeanne", "Martin") == "j.martin"
        assert username_base("Éloïse", "N'Diaye-Lefèvre") == "e.ndiayelefevre"
        assert username_base("", "道") == "x.compte"


class TestCodes:
    def test_dates(self):
        assert parse_date("03/09/2017").isoformat() == "2017-09-03"
        assert parse_date("2017-09-03").isoformat() == "2017-09-03"
        with pytest.raises(ValueError):
            parse_date("31/02/2012")

    def test_levels(self):
        assert (
            level_from_mef("10110001110", {"10110001110": "5EME BILANGUE"}, "5A") == "5EME BILANGUE"
        )
        assert level_from_mef("10310019110", {}, None) == "3EME"
        assert level_from_mef(None, {}, "4 B") == "4EME"
        assert level_from_mef(None, {}, "SEGPA") is None

    def test_relationships(self):
        assert onde_relationship_code("Mère") == "10" and onde_relationship_code("TUTEUR") == "50"
        assert onde_relationship_code("voisin") is None
        assert relationship_name("20") == "father" and relationship_name("77") == "other"
