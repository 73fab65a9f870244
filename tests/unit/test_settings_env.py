"""FXP_ environment variables: a misspelled one is a startup error, a bad value names
the variable it came from, and every variable the project mentions is a known one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.settings import OTHER_VARIABLES, SettingsError, known_variables, settings_from_env

ROOT = Path(__file__).resolve().parents[2]


def test_values_reach_their_fields():
    settings = settings_from_env({"FXP_PORT": "9001", "FXP_WORKERS__MAX_RETRIES": "3",
                                  "FXP_PROVIDERS__STRIPE__SECRET_KEY": "sk_x", "PATH": "/bin"})
    assert settings.api.port == 9001 and settings.workers.max_retries == 3
    assert settings.providers.stripe == {"secret_key": "sk_x"}


@pytest.mark.parametrize(("name", "hint"), [
    ("FXP_DATABSE_URL", "did you mean FXP_DATABASE_URL?"),
    ("FXP_API__PORTX", "did you mean FXP_API__PORT?"),
    ("FXP_VAULT__KEY", "did you mean FXP_VAULT__KEYS?"),
    ("FXP_API__PORT__EXTRA", ""),
    ("FXP_API", ""),
    ("FXP_NOTHING_LIKE_IT", "config/settings.py"),
])
def test_an_unknown_variable_is_an_error(name, hint):
    with pytest.raises(SettingsError) as refused:
        settings_from_env({name: "1"})
    assert str(refused.value).startswith(f"unknown setting {name}: ")
    assert hint in str(refused.value)


@pytest.mark.parametrize(("env", "message"), [
    ({"FXP_PORT": "eighty"}, "FXP_PORT='eighty' is invalid: expected an integer"),
    ({"FXP_API__PORT": "1.5"}, "FXP_API__PORT='1.5' is invalid: expected an integer"),
    ({"FXP_FRAUD__ENABLED": "maybe"}, "FXP_FRAUD__ENABLED='maybe' is invalid: expected true or false"),
    ({"FXP_PAYMENTS__PENDING_TIMEOUT_S": "soon"},
     "FXP_PAYMENTS__PENDING_TIMEOUT_S='soon' is invalid: expected a number"),
])
def test_a_bad_value_names_the_environment_variable(env, message):
    with pytest.raises(SettingsError) as refused:
        settings_from_env(env)
    assert str(refused.value) == message
    assert "$." not in str(refused.value)


def test_variables_read_elsewhere_are_known():
    settings_from_env(dict.fromkeys(OTHER_VARIABLES, "1"))


def test_every_variable_the_project_mentions_is_known():
    """Code, tests, benchmarks, deployment files and docs: none names a variable that
    settings would now refuse (a prefix such as `FXP_API__TLS_*` is documentation)."""
    mentioned: dict[str, str] = {}
    paths = [*ROOT.glob("app/**/*.py"), *ROOT.glob("config/**/*.py"), *ROOT.glob("tests/**/*.py"),
             *ROOT.glob("benchmarks/**/*"), *ROOT.glob("deploy/**/*"), *ROOT.glob("sandbox_gateway/**/*.py"),
             *ROOT.glob("*.md"), ROOT / "Makefile", ROOT / "Dockerfile", ROOT / "fusionxpay"]
    for path in paths:
        if path.is_file() and path.name not in (Path(__file__).name, "test_cli.py"):  # they misspell on purpose
            for name in re.findall(r"\bFXP_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(errors="replace")):
                mentioned.setdefault(name, str(path.relative_to(ROOT)))
    assert len(mentioned) > 40
    known = set(known_variables())
    unknown = {name: where for name, where in mentioned.items()
               if name not in known and not name.startswith("FXP_PROVIDERS__")}
    assert unknown == {}
    for name in mentioned:  # providers' own keys: accepted as they are
        if name.startswith("FXP_PROVIDERS__") and name.count("__") == 2:
            settings_from_env({name: "x"})
