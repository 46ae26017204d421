"""Service settings, read from the environment with the JZT_ prefix.

Development keys are generated into the data directory on first start (mode 0600) and
never committed; with JZT_ENV=production every key must be given and nothing is generated.
"""

import base64
import json
import os
import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KEY_FILE = "keys.json"


class Env(StrEnum):
    development = "development"
    production = "production"


class SettingsError(RuntimeError):
    pass


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JZT_", extra="ignore")

    env: Env = Env.development
    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("jiuzhutong")))
    database_url: str | None = None  # default: SQLite file in data_dir
    encryption_key: SecretStr | None = None  # base64 of 32 bytes (AES-256-GCM)
    hmac_key: SecretStr | None = None  # base64 of 32 bytes (blind index, link tokens)
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    login_max_failures: int = 5
    login_window_seconds: int = 60
    standards_file: Path | None = None  # default: the shipped 示例 table
    public_base_url: str = "http://127.0.0.1:8765"
    link_minutes: float = 30  # lifetime of a remote authorization link
    link_max_failures: int = 20  # failed token look-ups per client address ...
    link_window_seconds: int = 60  # ... within this window, then 429
    link_sweep_seconds: float = 30  # how often a server marks ran-out links 已过期
    sse_keepalive_seconds: float = 15  # comment line on a quiet event stream
    # economic check (issue 3): simulated source latency, and per source: timeout of one
    # attempt, retries after a failure or timeout, back-off before retry n (× n)
    economic_latency_s: float = Field(default=0.0, ge=0)
    economic_timeout_s: float = Field(default=10.0, gt=0)
    economic_retries: int = Field(default=2, ge=0, le=10)
    economic_backoff_s: float = Field(default=0.2, ge=0)
    log_level: str = "INFO"

    @field_validator("encryption_key", "hmac_key")
    @classmethod
    def _key_is_32_bytes(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            _decode_key(v.get_secret_value())
        return v

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        if self.env is Env.production:
            raise SettingsError("JZT_DATABASE_URL is required when JZT_ENV=production")
        return f"sqlite:///{self.data_dir / 'jiuzhutong.sqlite3'}"

    @cached_property
    def keys(self) -> tuple[bytes, bytes]:
        """(encryption key, HMAC key), loading or generating development keys as needed."""
        enc = self.encryption_key.get_secret_value() if self.encryption_key else None
        mac = self.hmac_key.get_secret_value() if self.hmac_key else None
        if enc and mac:
            return _decode_key(enc), _decode_key(mac)
        if self.env is Env.production:
            raise SettingsError(
                "JZT_ENCRYPTION_KEY and JZT_HMAC_KEY are required when JZT_ENV=production"
            )
        stored = _load_or_create_dev_keys(self.data_dir / KEY_FILE)
        return (
            _decode_key(enc or stored["encryption_key"]),
            _decode_key(mac or stored["hmac_key"]),
        )


def _decode_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("key must be base64 of 32 bytes") from exc
    if len(raw) != 32:
        raise ValueError("key must be base64 of 32 bytes")
    return raw


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _load_or_create_dev_keys(path: Path) -> dict[str, str]:
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = {"encryption_key": new_key(), "hmac_key": new_key()}
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(keys, f)
    try:
        os.link(tmp, path)  # atomic create: a concurrent first start keeps one set of keys
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return json.loads(path.read_text())
