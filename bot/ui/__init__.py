"""Discord-facing pieces shared by the cogs: embeds, persistent components, option types."""
