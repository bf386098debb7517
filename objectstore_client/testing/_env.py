"""The real server's environment (protocol §15) read into a `ServerConfig`.

Variables are prefixed `OS__`, `__` separates nesting levels, values use figment's map syntax
(`{name=value,...}`, `[a,b]`, optionally double-quoted strings). Unknown keys are ignored, as
the real server does.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path

from objectstore_client.testing._config import (
    PERMISSIONS,
    AuthKey,
    ConfigError,
    ServerConfig,
    overlay,
)

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
    """Overlays the real server's `OS__*` variables (protocol §15) onto `base`.

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
