"""/quote random, /quote add, /quote remove and the "Save as quote" message menu.

Discord does not let a command that has subcommands be run on its own, so the random quote
is `/quote random [video:]` beside `/quote add` and `/quote remove`.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import TakeTwoBot
from bot.clock import now
from bot.db.models import CATALOG_GUILD
from bot.errors import UserFacingError
from bot.ui import embeds, replies
from bot.ui.context import guild_id
from bot.ui.validation import check_text
from bot.ui.video_option import VideoOption

MAX_QUOTE = 1000
MAX_SAID_BY = 200


def _clean(text: str, what: str, limit: int) -> str:
    text = check_text(text, f"The {what}", then="it can't be saved", paragraph=True).strip()
    if not text:
        raise UserFacingError(f"The {what} is empty: write something to save.")
    if len(text) > limit:
        raise UserFacingError(f"The {what} is {len(text)} characters long; the limit is {limit}.")
    return text


@app_commands.guild_only()
class Quotes(commands.GroupCog, group_name="quote", group_description="Quotes about music videos"):
    def __init__(self, bot: TakeTwoBot) -> None:
        self.bot = bot
        self.save_menu = app_commands.ContextMenu(
            name="Save as quote", callback=self.save_message, extras={"reply": "public"}
        )
        app_commands.guild_only(self.save_menu)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.save_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.save_menu.name, type=self.save_menu.type)

    @app_commands.command(
        name="random",
        description="A random quote, about one video if you pick it",
        extras={"reply": "public"},
    )
    @app_commands.describe(video="Only quotes about this video")
    async def random_quote(
        self, interaction: discord.Interaction, video: VideoOption | None = None
    ) -> None:
        async with self.bot.db.lookup() as session:
            quote = await session.quotes.random(guild_id(interaction), video.id if video else None)
        if quote is None:
            about = f" about “{video.title[:80]}”" if video else ""
            raise UserFacingError(f"There are no quotes{about} yet: save one with /quote add.")
        await replies.send(interaction, embed=embeds.quote_embed(quote))

    @app_commands.command(
        name="add", description="Save a quote for this server", extras={"reply": "public"}
    )
    @app_commands.describe(
        text="The quote itself",
        video="The video it is about, if any",
        said_by="Who said or wrote it",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        text: app_commands.Range[str, 1, MAX_QUOTE],
        video: VideoOption | None = None,
        said_by: app_commands.Range[str, 1, MAX_SAID_BY] | None = None,
    ) -> None:
        text = _clean(text, "quote", MAX_QUOTE)
        author = _clean(said_by, "name in said_by", MAX_SAID_BY) if said_by else None
        self.bot.write_limits.check("quote", guild_id(interaction), interaction.user.id)
        async with self.bot.db.transaction() as tx:
            quote = await tx.quotes.add(
                guild_id=guild_id(interaction),
                text=text,
                said_by=author,
                video_id=video.id if video else None,
                saved_by=interaction.user.id,
                created_at=now(),
            )
        await replies.send(
            interaction,
            f"Saved as quote #{quote.id}.",
            embed=embeds.quote_embed(quote),
        )

    @app_commands.command(name="remove", description="Remove a quote you saved (moderators: any)")
    @app_commands.describe(id="The quote's number, shown in its footer", reason="Why (moderators)")
    async def remove(
        self,
        interaction: discord.Interaction,
        id: app_commands.Range[int, 1, 2**53 - 1],
        reason: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        async with self.bot.db.transaction() as tx:
            quote = await tx.quotes.in_guild(guild_id(interaction), id)
            if quote.guild_id == CATALOG_GUILD:
                raise UserFacingError(
                    f"Quote #{id} comes with the catalog shared by every server; "
                    "it can't be removed from one server."
                )
            moderator = interaction.permissions.manage_messages
            if quote.saved_by != interaction.user.id and not moderator:
                raise UserFacingError(
                    f"Quote #{id} was saved by someone else: only they or members with "
                    "Manage Messages can remove it."
                )
            await tx.quotes.remove(id)
            await tx.members.log_removal(
                guild_id=quote.guild_id,
                kind="quote",
                item_id=id,
                author_id=quote.author_id,
                removed_by=interaction.user.id,
                reason=reason,
                now=now(),
            )
        await replies.send(interaction, f"Removed quote #{id}.", ephemeral=True)

    async def save_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        if not message.content.strip():
            raise UserFacingError("That message has no text to save as a quote.")
        text = _clean(message.content, "message", MAX_QUOTE)
        # The message comes whole from the interaction, which a modified client can forge.
        name = message.author.display_name
        said_by = check_text(name, "The author's name", then="it can't be saved")[:MAX_SAID_BY]
        self.bot.write_limits.check("quote", guild_id(interaction), interaction.user.id)
        async with self.bot.db.transaction() as tx:
            if await tx.members.no_quotes(guild_id(interaction), message.author.id):
                if message.author.id == interaction.user.id:
                    raise UserFacingError(
                        "You have asked not to be quoted here: run /privacy no-quotes to allow it."
                    )
                raise UserFacingError(f"{said_by[:80]} has asked not to be quoted here.")
            saved = await tx.quotes.of_message(
                guild_id(interaction), message.author.id, message.jump_url
            )
            if saved is not None:
                raise UserFacingError(f"That message is already saved, as quote #{saved.id}.")
            quote = await tx.quotes.add(
                guild_id=guild_id(interaction),
                text=text,
                said_by=said_by,
                author_id=message.author.id,
                source_url=message.jump_url,
                saved_by=interaction.user.id,
                created_at=now(),
            )
        await replies.send(
            interaction,
            f"Saved as quote #{quote.id}.",
            embed=embeds.quote_embed(quote),
        )


async def setup(bot: TakeTwoBot) -> None:
    await bot.add_cog(Quotes(bot))
