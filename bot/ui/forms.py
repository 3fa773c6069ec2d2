"""Forms (Discord modals) that are answered from their custom_id alone.

discord.py answers a form only while the Modal object it sent is still in memory, so a form
opened before a restart, or kept open past the modal's timeout, would be submitted into
silence. A TakeTwo form instead carries what it is about in its custom_id
(`taketwo:form:take:42`), is never left in discord.py's store (`open_form` stops it before
sending), and every submission goes one way, through `answer`: the form is rebuilt from its
kind and key, each input is checked against the form's own bounds again (the client enforces
them, a forged submission does not), and the form's `submit` runs with the checked values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import discord
from discord import ui

from bot.errors import UserFacingError
from bot.ui import replies
from bot.ui.errors import ensure_accepting, send_error
from bot.ui.validation import check_text

PREFIX = "taketwo:form:"
_CUSTOM_ID = re.compile(r"taketwo:form:(?P<kind>[a-z][a-z-]{0,31}):(?P<key>[0-9]{1,18})")
EXPIRED = "This form has expired; nothing was saved."
_KINDS: dict[str, type[Form]] = {}


class Form(ui.Modal):
    """A form about one thing (a video), named by `key` in its custom_id.

    Subclasses set `kind` (unique, in the custom_id) and `command` (what opens the form),
    give every TextInput a fixed custom_id, and implement `rebuild` and `submit`."""

    kind: ClassVar[str]
    command: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _KINDS[cls.kind] = cls

    def __init__(self, *, title: str, key: int) -> None:
        super().__init__(title=title, custom_id=f"{PREFIX}{self.kind}:{key}", timeout=None)

    @classmethod
    async def rebuild(cls, interaction: discord.Interaction, key: int) -> Self | None:
        """The form as it is opened for `key`, or None when what it is about is gone."""
        raise NotImplementedError

    async def submit(self, interaction: discord.Interaction, values: dict[str, str]) -> None:
        """Act on the values, by input custom_id, each stripped and within its bounds."""
        raise NotImplementedError

    def inputs(self) -> list[ui.TextInput[Any]]:
        return [item for item in self.walk_children() if isinstance(item, ui.TextInput)]

    def checked(self, sent: Mapping[str, Any]) -> dict[str, str]:
        """Each input's value, stripped, once it fits what the input declares."""
        inputs = self.inputs()
        if not set(sent) <= {item.custom_id for item in inputs}:
            raise UserFacingError(f"{EXPIRED} Run {self.command} again.")  # an older form
        values = {}
        for item in inputs:
            value = sent.get(item.custom_id, "")
            # What the member sees above the input (TextInput.label warns it is deprecated).
            label = item.to_component_dict().get("label") or item.custom_id
            if not isinstance(value, str):
                raise UserFacingError(f"{EXPIRED} Run {self.command} again.")
            paragraph = item.style is discord.TextStyle.paragraph
            value = check_text(value, label, paragraph=paragraph).strip()
            if not value and item.required:
                raise UserFacingError(f"{label} can't be empty.")
            if item.max_length is not None and len(value) > item.max_length:
                raise UserFacingError(f"{label} must be at most {item.max_length} characters long.")
            if value and item.min_length is not None and len(value) < item.min_length:
                raise UserFacingError(
                    f"{label} must be at least {item.min_length} characters long."
                )
            values[item.custom_id] = value
        return values


async def open_form(interaction: discord.Interaction, form: Form) -> None:
    # A stopped form is not kept by discord.py, so its submission always reaches `answer`.
    form.stop()
    await replies.send_form(interaction, form)


async def answer(interaction: discord.Interaction) -> None:
    """Answer a submitted form (a form no longer known says it expired); every other kind
    of interaction is left alone."""
    data: Any = interaction.data
    if interaction.type is not discord.InteractionType.modal_submit or not isinstance(data, dict):
        return
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id.startswith(PREFIX):
        # Every form TakeTwo opens has such an id: this one comes from an older version,
        # and nothing else would ever answer it.
        await send_error(interaction, UserFacingError(EXPIRED))
        return
    try:
        ensure_accepting(interaction)
        match = _CUSTOM_ID.fullmatch(custom_id)
        kind = _KINDS.get(match["kind"]) if match else None
        if match is None or kind is None:
            raise UserFacingError(EXPIRED)
        form = await kind.rebuild(interaction, int(match["key"]))
        if form is None:
            raise UserFacingError(f"{EXPIRED} Run {kind.command} again.")
        await form.submit(interaction, form.checked(submitted_values(data.get("components"))))
    except Exception as error:
        await send_error(interaction, error)


def submitted_values(components: Any) -> dict[str, Any]:
    """custom_id → value of each input in a submission, in action rows or in labels."""
    values: dict[str, Any] = {}
    pending = list(components) if isinstance(components, list) else []
    while pending:
        component = pending.pop()
        if not isinstance(component, dict):
            continue
        custom_id = component.get("custom_id")
        if "value" in component and isinstance(custom_id, str):
            if custom_id in values:
                raise UserFacingError(EXPIRED)
            values[custom_id] = component["value"]
        children = component.get("components")
        pending.extend(children if isinstance(children, list) else [])
        pending.append(component.get("component"))
    return values
