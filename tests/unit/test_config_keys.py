"""Keys: read from the environment, required in production, generated once (mode 0600) in development,
and named by key ids so that old keys keep working during a rotation."""
from __future__ import annotations

import stat

import pytest

from tracker import config


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "instance")
    for name in ("TRACKER_SECRET_KEY", "TRACKER_AUDIT_KEY", "TRACKER_OLD_SECRET_KEYS", "TRACKER_OLD_AUDIT_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TRACKER_ENV", raising=False)
    return tmp_path / "instance"


@pytest.mark.parametrize("variable", ["TRACKER_SECRET_KEY", "TRACKER_AUDIT_KEY"])
def test_production_refuses_to_start_without_either_key(instance, monkeypatch, variable):
    monkeypatch.setenv("TRACKER_ENV", "production")
    other = {"TRACKER_SECRET_KEY": "TRACKER_AUDIT_KEY", "TRACKER_AUDIT_KEY": "TRACKER_SECRET_KEY"}[variable]
    monkeypatch.setenv(other, "x" * 48)
    with pytest.raises(RuntimeError, match=variable):
        config.from_environment()
    monkeypatch.setenv(variable, "y" * 48)
    settings = config.from_environment()
    assert not instance.exists()  # nothing generated in production
    assert {settings["SECRET_KEY"], settings["TRACKER_AUDIT_KEY"]} == {"x" * 48, "y" * 48}


def test_development_generates_each_key_once_readable_by_the_owner_only(instance):
    first = config.from_environment()
    second = config.from_environment()
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and first["TRACKER_AUDIT_KEY"] == second["TRACKER_AUDIT_KEY"]
    assert first["SECRET_KEY"] != first["TRACKER_AUDIT_KEY"] and len(first["TRACKER_AUDIT_KEY"]) >= 48
    for name in ("secret_key", "audit_key"):
        assert stat.S_IMODE((instance / name).stat().st_mode) == 0o600


def test_keyrings_name_every_accepted_key_and_the_current_one_signs(instance, monkeypatch):
    monkeypatch.setenv("TRACKER_SECRET_KEY", "new-signing-key")
    monkeypatch.setenv("TRACKER_OLD_SECRET_KEYS", " old-one ,, older-one ")
    monkeypatch.setenv("TRACKER_AUDIT_KEY", "new-audit-key")
    settings = config.finish(config.from_environment())
    assert list(settings["TRACKER_JWT_KEYS"].values()) == ["new-signing-key", "old-one", "older-one"]
    assert settings["TRACKER_JWT_KEYS"][settings["TRACKER_JWT_KID"]] == "new-signing-key"
    assert settings["TRACKER_AUDIT_KEYS"] == {settings["TRACKER_AUDIT_KID"]: "new-audit-key"}
    assert (settings["JWT_ALGORITHM"], settings["JWT_DECODE_ALGORITHMS"]) == ("HS256", ["HS256"])
    # One secret used for both purposes still gets two unrelated ids.
    assert config.key_id("same", "jwt") != config.key_id("same", "audit")
    assert len(config.key_id("same", "jwt")) == 16
