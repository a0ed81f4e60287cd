"""Loopback fake of Discord's gateway and REST API for end-to-end tests with the real discord.py."""

from . import payloads
from .server import API_PREFIX, FakeDiscordServer, GatewayConnection, GatewayFrame, RestCall, UploadedFile

__all__ = [
    "API_PREFIX",
    "FakeDiscordServer",
    "GatewayConnection",
    "GatewayFrame",
    "RestCall",
    "UploadedFile",
    "payloads",
]
