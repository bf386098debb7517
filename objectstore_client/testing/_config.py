"""Configuration of the local server: the settings, their validation, and `OS__*` parsing.

The environment follows the real server's (spec §15): variables prefixed `OS__`, `__`
separating nesting levels, values in figment's map syntax (`{name=value,...}`, `[a,b]`,
optionally double-quoted strings). Unknown keys are ignored, as the real server does.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

PERMISSIONS = ("object.read", "object.write", "object.delete")

Semantics = Literal["production", "filesystem"]
StorageKind = Literal["filesystem", "memory"]


class ConfigError(ValueError):
    """An invalid setting; the message is one line and names the setting."""


@dataclass(frozen=True)
class AuthKey:
    """A key id's verification keys and the most its tokens may be granted (spec §13.1)."""

    public_keys: tuple[str, ...]
    """Ed25519 public keys in PEM `PUBLIC KEY` form, tried in order (several = rotation)."""

    max_permissions: frozenset[str] = frozenset(PERMISSIONS)
    """Upper bound of every token's permissions. Defaults to all three (read, write, delete)
    so that `AuthKey(public_pem)` lets a first test pass; pass `frozenset()` for a key that
    may do nothing, which is what the real server gives a key configured without
    `max_permissions` (`OS__AUTH__KEYS` keeps that default here too)."""

    def __post_init__(self) -> None:
        if isinstance(self.public_keys, str):
            object.__setattr__(self, "public_keys", (self.public_keys,))
        object.__setattr__(self, "max_permissions", frozenset(self.max_permissions))
        unknown = sorted(set(self.max_permissions) - set(PERMISSIONS))
        if unknown:
            raise ConfigError(f"max_permissions: unknown permission(s) {unknown}")
        if not self.public_keys:
            raise ConfigError("public_keys: at least one public key is required")


@dataclass(frozen=True)
class UsecasePolicy:
    """Which expiration policies a usecase accepts on writes (spec §9.6).

    The real server's config field names are not in the spec; these are ours.
    """

    allow_manual: bool = True
    allow_ttl: bool = True
    max_ttl: timedelta | None = None
    allow_tti: bool = True
    max_tti: timedelta | None = None


@dataclass(frozen=True)
class Killswitch:
    """Blocks matching requests with 403 (spec §14); a killswitch with no fields blocks all."""

    usecase: str | None = None
    scopes: Mapping[str, str] = field(default_factory=dict)
    service: str | None = None
    """Glob matched against `x-downstream-service` after stripping a Kubernetes pod suffix."""


@dataclass(frozen=True)
class ServerConfig:
    """Every setting of the local server. See `LocalServer` for the meaning of each."""

    host: str = "127.0.0.1"
    port: int = 0
    storage: StorageKind = "filesystem"
    data_dir: Path | None = None
    auth_keys: Mapping[str, AuthKey] = field(default_factory=dict)
    enforce_auth: bool | None = None
    semantics: Semantics = "production"
    usecases: Mapping[str, UsecasePolicy] = field(default_factory=dict)
    killswitches: Sequence[Killswitch] = ()
    rate_limit_rps: float | None = None
    extend_expiry: bool = False
    max_requests: int = 10_000
    max_concurrency: int = 500

    def __post_init__(self) -> None:
        if self.storage not in ("filesystem", "memory"):
            raise ConfigError(f"storage: expected 'filesystem' or 'memory', got {self.storage!r}")
        if self.semantics not in ("production", "filesystem"):
            raise ConfigError(
                f"semantics: expected 'production' or 'filesystem', got {self.semantics!r}"
            )
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port: {self.port} is not a TCP port")
        if self.max_requests < 1 or self.max_concurrency < 1:
            raise ConfigError("max_requests and max_concurrency must be at least 1")
        if self.enforce_auth and not self.auth_keys:
            # The real server refuses to start in this state (spec §13.1).
            raise ConfigError(
                "auth.enforce (OS__AUTH__ENFORCE): enforcement needs at least one key in "
                "auth.keys (OS__AUTH__KEYS or --auth-key)"
            )
        if self.rate_limit_rps is not None and self.rate_limit_rps <= 0:
            raise ConfigError("rate_limit_rps: must be positive")

    @property
    def auth_active(self) -> bool:
        """Whether tokens are looked at at all (keys configured, or enforcement asked for)."""
        return bool(self.auth_keys)

    @property
    def auth_enforced(self) -> bool:
        """Whether auth failures are errors (else they are only logged, spec §13.1)."""
        if not self.auth_keys:
            return False
        return True if self.enforce_auth is None else self.enforce_auth


# --- figment-style environment parsing ------------------------------------------------------

Value = str | list["Value"] | dict[str, "Value"]


class _MapParser:
    """Parses figment's environment value syntax: `{k=v,...}`, `[a,b]`, `"str"`, bare words."""

    def __init__(self, text: str, setting: str) -> None:
        self.text = text
        self.pos = 0
        self.setting = setting

    def fail(self, what: str) -> ConfigError:
        return ConfigError(f"{self.setting}: {what} at offset {self.pos} of {self.text!r}")

    def parse(self) -> Value:
        value = self.value()
        self.ws()
        if self.pos != len(self.text):
            raise self.fail("unexpected trailing text")
        return value

    def ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def value(self) -> Value:
        self.ws()
        if self.pos >= len(self.text):
            raise self.fail("missing value")
        char = self.text[self.pos]
        if char == "{":
            return self.mapping()
        if char == "[":
            return self.array()
        if char == '"':
            return self.quoted()
        return self.bare(stops=",]}")

    def mapping(self) -> dict[str, Value]:
        self.pos += 1
        result: dict[str, Value] = {}
        self.ws()
        if self.text.startswith("}", self.pos):
            self.pos += 1
            return result
        while True:
            self.ws()
            key = self.quoted() if self.text.startswith('"', self.pos) else self.bare(stops="=,}")
            if not key:
                raise self.fail("empty key")
            self.ws()
            if not self.text.startswith("=", self.pos):
                raise self.fail(f"expected '=' after key {key!r}")
            self.pos += 1
            result[key.lower()] = self.value()
            self.ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("}", self.pos):
                self.pos += 1
                return result
            raise self.fail("expected ',' or '}'")

    def array(self) -> list[Value]:
        self.pos += 1
        result: list[Value] = []
        self.ws()
        if self.text.startswith("]", self.pos):
            self.pos += 1
            return result
        while True:
            result.append(self.value())
            self.ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("]", self.pos):
                self.pos += 1
                return result
            raise self.fail("expected ',' or ']'")

    def quoted(self) -> str:
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\" and self.pos < len(self.text):
                out.append(self.text[self.pos])
                self.pos += 1
            elif char == '"':
                return "".join(out)
            else:
                out.append(char)
        raise self.fail("unterminated string")

    def bare(self, stops: str) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in stops:
            self.pos += 1
        return self.text[start : self.pos].strip()


def parse_env_value(text: str, setting: str) -> Value:
    """Parses one `OS__*` value in figment's syntax; raises `ConfigError` naming `setting`."""
    return _MapParser(text, setting).parse()


def _as_bool(value: Value, setting: str) -> bool:
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
        return False
    raise ConfigError(f"{setting}: expected a boolean, got {value!r}")


def _as_int(value: Value, setting: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ConfigError(f"{setting}: expected a whole number, got {value!r}")


def parse_http_addr(text: str, setting: str = "OS__HTTP_ADDR") -> tuple[str, int]:
    """Splits `host:port` / `[v6]:port` as the real server's socket address syntax."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not port_text.isdigit() or int(port_text) > 65535:
        raise ConfigError(f"{setting}: expected HOST:PORT, got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host != "localhost":
            raise ConfigError(f"{setting}: {host!r} is not an IP address") from None
    return host, int(port_text)


def read_public_key_file(path: str, setting: str) -> str:
    """Reads one PEM key file, failing with the setting's name rather than a traceback."""
    try:
        text = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(f"{setting}: cannot read key file {path!r}: {reason}") from None
    if "-----BEGIN PUBLIC KEY-----" not in text:
        raise ConfigError(f"{setting}: key file {path!r} is not a PEM PUBLIC KEY")
    return text


def parse_auth_keys(value: Value, setting: str = "OS__AUTH__KEYS") -> dict[str, AuthKey]:
    """Turns the `auth.keys` map (kid → {key_files, max_permissions}) into `AuthKey`s."""
    if not isinstance(value, dict):
        raise ConfigError(f"{setting}: expected a map of key id to key settings")
    keys: dict[str, AuthKey] = {}
    for kid, entry in value.items():
        where = f"{setting}.{kid}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected {{key_files=[...],max_permissions=[...]}}")
        files = entry.get("key_files")
        if isinstance(files, str):
            files = [files]
        if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
            raise ConfigError(f"{where}.key_files: expected a non-empty list of paths")
        perms = entry.get("max_permissions", [])
        if isinstance(perms, str):
            perms = [perms]
        if not isinstance(perms, list) or not all(isinstance(p, str) for p in perms):
            raise ConfigError(f"{where}.max_permissions: expected a list of permissions")
        unknown = sorted({str(p) for p in perms} - set(PERMISSIONS))
        if unknown:
            raise ConfigError(f"{where}.max_permissions: unknown permission(s) {unknown}")
        pems = tuple(read_public_key_file(str(f), f"{where}.key_files") for f in files)
        keys[kid] = AuthKey(public_keys=pems, max_permissions=frozenset(str(p) for p in perms))
    return keys


def config_from_env(env: Mapping[str, str], base: ServerConfig) -> ServerConfig:
    """Overlays the real server's `OS__*` variables (spec §15) onto `base`.

    Unknown `OS__*` keys are ignored, as the real server ignores unknown config keys.
    """
    found = {k.upper(): v for k, v in env.items() if k.upper().startswith("OS__")}
    settings: dict[str, object] = {}
    if "OS__HTTP_ADDR" in found:
        settings["host"], settings["port"] = parse_http_addr(found["OS__HTTP_ADDR"])
    if "OS__STORAGE__TYPE" in found:
        kind = found["OS__STORAGE__TYPE"].strip().strip('"')
        if kind not in ("filesystem", "memory"):
            raise ConfigError(
                f"OS__STORAGE__TYPE: only 'filesystem' and 'memory' are emulated, got {kind!r}"
            )
        settings["storage"] = kind
    if "OS__STORAGE__PATH" in found:
        settings["data_dir"] = Path(found["OS__STORAGE__PATH"].strip().strip('"'))
    if "OS__AUTH__ENFORCE" in found:
        settings["enforce_auth"] = _as_bool(found["OS__AUTH__ENFORCE"].strip(), "OS__AUTH__ENFORCE")
    if "OS__AUTH__KEYS" in found:
        raw = parse_env_value(found["OS__AUTH__KEYS"], "OS__AUTH__KEYS")
        settings["auth_keys"] = parse_auth_keys(raw)
    for name, field_name in (
        ("OS__HTTP__MAX_REQUESTS", "max_requests"),
        ("OS__SERVICE__MAX_CONCURRENCY", "max_concurrency"),
    ):
        if name in found:
            settings[field_name] = _as_int(parse_env_value(found[name], name), name)
    return overlay(base, settings)


def overlay(base: ServerConfig, settings: Mapping[str, object]) -> ServerConfig:
    """A copy of `base` with `settings` replaced (and validated again)."""
    merged = {**_config_fields(base), **settings}
    return ServerConfig(**merged)  # type: ignore[arg-type]


def _config_fields(config: ServerConfig) -> dict[str, object]:
    return {name: getattr(config, name) for name in ServerConfig.__dataclass_fields__}
