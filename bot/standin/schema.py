"""What Discord checks in a request body, and how it says no.

The stand-in refuses what Discord would refuse: the checks the OpenAPI spec leaves out (total
embed length, lowercase names, link buttons) are here; the checks against the spec's own
models are in spec_check.py, imported only by a stand-in that validates, because its models
(the `discordopenapi` package, part of the test extra) take over a second to import.
Failures come back in Discord's nested error shape:
{"embeds": {"0": {"title": {"_errors": [{"code": ..., "message": ...}]}}}}.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Path = tuple[str | int, ...]
Problem = tuple[Path, str, str]
# (model name, body, path) -> every way the body breaks that model of the spec.
SpecCheck = Callable[[str, Any, Path], list[Problem]]

# The spec's model each request body must match, by its generated class name.
COMMAND_MODEL = "ApplicationCommandCreateRequest"
MESSAGE_CREATE_MODEL = "MessageCreateRequest"
WEBHOOK_EXECUTE_MODEL = "IncomingWebhookRequestPartial"
WEBHOOK_EDIT_MODEL = "IncomingWebhookUpdateRequestPartial"
CALLBACK_MODELS = {
    1: "PongInteractionCallbackRequest",
    4: "CreateMessageInteractionCallbackRequest",
    5: "CreateMessageInteractionCallbackRequest",
    6: "UpdateMessageInteractionCallbackRequest",
    7: "UpdateMessageInteractionCallbackRequest",
    8: "ApplicationCommandAutocompleteCallbackRequest",
    9: "ModalInteractionCallbackRequest",
}

_SLASH_NAME = re.compile(r"^[-_\w]{1,32}$")


class SpecChecksMissing(RuntimeError):
    """The schema checks were asked for but `discordopenapi` is not installed."""


def load_spec_check() -> SpecCheck:
    """The check of a body against the spec's models (spec_check.validate), imported now."""
    try:
        from bot.standin.spec_check import validate
    except ImportError as exc:
        raise SpecChecksMissing(
            "The stand-in's schema checks need the discordopenapi package, which is part of "
            "the test extra: pip install -e '.[test]' (StandIn(validate=False) runs without it)."
        ) from exc
    return validate


def embed_length(embed: dict[str, Any]) -> int:
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for f in embed.get("fields") or []:
        total += len(f.get("name") or "") + len(f.get("value") or "")
    return total


def message_rules(body: dict[str, Any], path: Path = ()) -> list[Problem]:
    problems: list[Problem] = []
    embeds = body.get("embeds") or []
    if sum(embed_length(e) for e in embeds if isinstance(e, dict)) > 6000:
        problems.append(
            (
                (*path, "embeds"),
                "MAX_EMBED_SIZE_EXCEEDED",
                "Embed size exceeds maximum size of 6000",
            )
        )
    for r, row in enumerate(body.get("components") or []):
        if not isinstance(row, dict) or row.get("type") != 1:
            continue
        children = row.get("components") or []
        buttons = [c for c in children if isinstance(c, dict) and c.get("type") == 2]
        selects = [c for c in children if isinstance(c, dict) and c.get("type") in (3, 5, 6, 7, 8)]
        if len(buttons) > 5 or (selects and len(children) > 1):
            problems.append(
                (
                    (*path, "components", r, "components"),
                    "BASE_TYPE_MAX_LENGTH",
                    "An action row holds up to 5 buttons or one select menu.",
                )
            )
        for c, child in enumerate(children):
            where = (*path, "components", r, "components", c)
            if not isinstance(child, dict):
                continue
            if child.get("type") == 2:
                link = child.get("style") == 5
                if link and (not child.get("url") or child.get("custom_id")):
                    problems.append(
                        (
                            where,
                            "COMPONENT_LAYOUT_INVALID",
                            "A link button needs a url and no custom_id.",
                        )
                    )
                if (
                    not link
                    and child.get("style") != 6
                    and (not child.get("custom_id") or child.get("url"))
                ):
                    problems.append(
                        (
                            where,
                            "COMPONENT_LAYOUT_INVALID",
                            "A non-link button needs a custom_id and no url.",
                        )
                    )
            custom_id = child.get("custom_id")
            if custom_id is not None and not 1 <= len(str(custom_id)) <= 100:
                problems.append(
                    (
                        (*where, "custom_id"),
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 100 in length.",
                    )
                )
    return problems


def command_rules(command: dict[str, Any], path: Path = ()) -> list[Problem]:
    problems: list[Problem] = []
    kind = command.get("type", 1)
    name = str(command.get("name", ""))
    if kind == 1 and (not _SLASH_NAME.match(name) or name != name.lower()):
        problems.append(
            ((*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        )

    def options(opts: Any, where: Path) -> None:
        for i, option in enumerate(opts or []):
            if not isinstance(option, dict):
                continue
            option_name = str(option.get("name", ""))
            if not _SLASH_NAME.match(option_name) or option_name != option_name.lower():
                problems.append(
                    (
                        (*where, i, "name"),
                        "APPLICATION_COMMAND_INVALID_NAME",
                        "Command name is invalid",
                    )
                )
            if option.get("autocomplete") and option.get("choices"):
                problems.append(
                    (
                        (*where, i),
                        "APPLICATION_COMMAND_OPTION_INVALID",
                        "Autocomplete cannot be used with choices.",
                    )
                )
            options(option.get("options"), (*where, i, "options"))

    options(command.get("options"), (*path, "options"))
    return problems


def error_body(problems: list[Problem]) -> dict[str, Any]:
    """Discord's 50035 Invalid Form Body, with errors nested by field path."""
    errors: dict[str, Any] = {}
    for where, code, message in problems:
        node = errors
        for part in where:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
    return {"code": 50035, "errors": errors, "message": "Invalid Form Body"}
