"""The two-letter spec grammar and the config around it: parsing, validation, profiles, round trips."""

import pytest
from pydantic import ValidationError

from skyssl.augment import AugmentConfig, SpecError, parse_spec
from skyssl.augment.spec import DEFAULT_SPEC, PAPER_FAITHFUL_SPEC
from skyssl.errors import SkysslError


def test_parse_the_papers_specs():
    assert parse_spec("grrrssgbjcgnrg") == ("gr", "rr", "ss", "gb", "jc", "gn", "rg")
    assert parse_spec(DEFAULT_SPEC) == ("gr", "rr", "ss", "gb", "jc", "gn")
    assert parse_spec("ccrg") == ("cc", "rg")
    assert parse_spec(" cc ") == ("cc",)


@pytest.mark.parametrize("spec, message", [
    ("", "empty"),
    ("grr", "odd length 3"),
    ("grxxjc", "unknown augmentation code 'xx' at position 2"),
    ("rrrrjc", "'rr' appears twice"),
    ("jccc", "both 'jc' and 'cc'"),
    ("grrr", "no crop"),
    ("gnjc", "'gn' comes before 'jc'"),
    ("rrgrjc", "'gr' comes after 'rr'"),
    ("jcgb", "'gb' comes after 'jc'"),
    ("ccrggn", "'gn' comes after 'rg'"),
])
def test_bad_specs_raise_one_line_spec_errors(spec, message):
    with pytest.raises(SpecError, match=message) as info:
        parse_spec(spec)
    assert isinstance(info.value, SkysslError) and isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_default_config_is_the_corrected_training_chain():
    config = AugmentConfig()
    assert config.to_spec() == DEFAULT_SPEC
    assert (config.ebv_old, config.sigma_true, config.ebv_new, config.sigma_final) == ("catalog", "catalog", "prior", "prior")
    assert config.input_stretch == "asinh" and config.size_scale_mode == "isotropic"
    assert config.crop_px is None and config.jitter_px == 7 and config.scale_range == (0.9, 1.1)


def test_paper_faithful_reproduces_the_published_dr9_choices():
    config = AugmentConfig.paper_faithful()
    assert config.to_spec() == PAPER_FAITHFUL_SPEC
    assert config.profile == "paper_faithful"
    assert (config.ebv_new, config.ebv_uniform_max_mag, config.ebv_old) == ("uniform", 1.0, "random")
    assert (config.sigma_true, config.sigma_final) == ("random", "uniform")
    assert config.size_scale_mode == "one_axis_legacy" and config.input_stretch == "legacy_torgb"
    assert config.padding == "zeros" and not config.track_noise_true


def test_profile_alone_gives_the_whole_published_chain():
    assert AugmentConfig(profile="paper_faithful") == AugmentConfig.paper_faithful()
    assert AugmentConfig.paper_faithful(sigma_true="catalog").sigma_true == "catalog"


def test_profile_fills_only_fields_not_given():
    config = AugmentConfig.from_spec(DEFAULT_SPEC, profile="paper_faithful", sigma_true="catalog")
    assert config.sigma_true == "catalog" and config.sigma_final == "uniform"
    assert config.input_stretch == "asinh"  # no 'rg' in the spec: the stretch follows the spec


def test_rg_and_legacy_stretch_stay_in_step():
    assert AugmentConfig.from_spec("ccrg").input_stretch == "legacy_torgb"
    assert AugmentConfig.from_spec("cc", input_stretch="legacy_torgb").to_spec() == "ccrg"
    assert AugmentConfig(ops="grjc").ops == ("gr", "jc")
    with pytest.raises(SpecError, match="contradicts input_stretch='asinh'"):
        AugmentConfig.from_spec("ccrg", input_stretch="asinh")


def test_round_trip_through_spec_and_dump():
    config = AugmentConfig.from_spec("grrrjcgn", crop_px=64, jitter_px=4, scale_range=(0.95, 1.05))
    assert AugmentConfig.from_spec(config.to_spec(), crop_px=64, jitter_px=4, scale_range=(0.95, 1.05)) == config
    assert AugmentConfig.model_validate(config.model_dump()) == config


@pytest.mark.parametrize("overrides, message", [
    ({"scale_range": (1.1, 0.9)}, "scale_range"),
    ({"jitter_px": -1}, "jitter_px"),
    ({"ebv_new": "lognormal"}, "ebv_new"),
    ({"colour": "red"}, "colour"),
    ({"asinh_scale_nmgy": (0.01, -1.0, 0.02)}, "asinh_scale_nmgy"),
])
def test_bad_fields_are_one_line_spec_errors(overrides, message):
    with pytest.raises(SpecError, match=message) as info:
        AugmentConfig.from_spec(DEFAULT_SPEC, **overrides)
    assert "\n" not in str(info.value)


def test_config_is_frozen_and_forbids_extra_fields():
    config = AugmentConfig()
    with pytest.raises(ValidationError):
        config.jitter_px = 3
    with pytest.raises(ValidationError):
        AugmentConfig(unknown=1)
