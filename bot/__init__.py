"""TakeTwo: a Discord bot for sharing takes on music videos."""
