"""`studybuddy run` (a real process) fans out pushes to Discord DMs while the fake gateway drops the bot's
socket twice (abruptly, then with a resumable close): discord.py reconnects and resumes, pushes go on over
REST, each learner gets exactly one push, slash commands keep being answered, and the one shared budget
keeps every send under the fake's flood limit (no 429)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.botproc import bot_env, start_bot, stop_bot
from tests.due_pushes import seed_database
from tests.fakes.discord import FakeDiscordServer, RestCall, payloads

TOKEN = "discord-chaos-token"
USERS = 400
FIRST_ID = 910_000_000_000_000_000
RATE = 190  # DELIVERY_RATE_PER_SECOND
FAKE_LIMIT = 200


def pushes_by_recipient(server: FakeDiscordServer) -> Counter[str]:
    """Messages the fake accepted in each DM, by the DM's recipient."""
    recipient = {cid: c["recipients"][0]["id"] for cid, c in server.dm_channels.items()}
    return Counter(
        recipient[call.path.split("/")[2]]
        for call in server.rest("POST", "/channels/")
        if call.path.endswith("/messages") and call.status == 200 and call.path.split("/")[2] in recipient
    )


async def ask_today(server: FakeDiscordServer) -> RestCall:
    interaction = payloads.application_command_interaction(application_id=server.application_id, name="today")
    await server.send_interaction(interaction)
    return await server.wait_for_callback(interaction, timeout=20)


async def wait_for_pushes(server: FakeDiscordServer, at_least: int, within: float = 60) -> None:
    await server.wait_for_rest("POST", "/channels/", count=at_least, timeout=within)


async def test_pushes_survive_gateway_drops_and_commands_keep_answering(database_url: str, tmp_path: Path) -> None:
    await seed_database(database_url, USERS, FIRST_ID, platform="discord")
    async with FakeDiscordServer(token=TOKEN, heartbeat_interval_ms=1000) as server:
        server.rate_limit(per_second=FAKE_LIMIT)
        env = bot_env(
            tmp_path,
            DATABASE_URL=database_url,
            DISCORD_BOT_TOKEN=TOKEN,
            DISCORD_API_URL=server.api_url,
            DISCORD_GATEWAY_URL=server.gateway_url,
            DELIVERY_RATE_PER_SECOND=str(RATE),
            LOG_LEVEL="WARNING",
        )
        bot = await start_bot(tmp_path, env)
        answers: list[RestCall] = []
        try:
            await wait_for_pushes(server, USERS // 5)
            await server.drop_socket(code=None)  # abrupt: no close frame
            assert len(pushes_by_recipient(server)) < USERS, "the drop came too late to be mid fan-out"
            answers.append(await ask_today(server))  # answered while the gateway reconnects or right after
            await server.wait_for_resumed_sent(timeout=30)
            await wait_for_pushes(server, USERS // 2)
            await server.drop_socket(code=4000)  # resumable close
            await server.wait_for_resumed_sent(count=2, timeout=30)
            answers.append(await ask_today(server))
            while len(pushes_by_recipient(server)) < USERS:
                await wait_for_pushes(server, len(server.rest("POST", "/channels/")) + 1)
            answers.append(await ask_today(server))
        finally:
            code, output = await stop_bot(bot)
        assert code == 0, output[-3000:]

    per_recipient = pushes_by_recipient(server)
    assert set(per_recipient) == {str(FIRST_ID + n) for n in range(USERS)}
    assert set(per_recipient.values()) == {1}  # exactly once each
    assert all(answer.status in (200, 204) for answer in answers)
    assert server.rejected_429 == 0
    assert TOKEN not in output
