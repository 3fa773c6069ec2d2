"""One extension per feature. Each parses an interaction, calls the data layer, renders a reply."""
