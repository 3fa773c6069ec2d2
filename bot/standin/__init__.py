"""A local stand-in for Discord, for end-to-end tests and the playground.

It serves the REST routes and the gateway websocket that TakeTwo uses on 127.0.0.1, checks
every body the bot sends against the models generated from Discord's OpenAPI spec, and lets
a test (or a person at the playground prompt) act as a member's client.
"""
