"""/papers: this week's arXiv papers ranked for you (or your group); /topics: your own extra keywords."""

from __future__ import annotations

from bot.core.commands.plan import current
from bot.core.context import Context
from bot.core.markup import bold, join, plain
from bot.core.papers import DEFAULT_COUNT, MAX_COUNT, MAX_TOPIC_CHARS, MAX_TOPICS, papers_reply
from bot.core.ports import PaperRepo
from bot.core.registry import ArgSpec, Registry
from bot.core.types import Reply

TOPIC_ACTIONS = ("add", "remove", "list")


def paper_repo(ctx: Context) -> PaperRepo:
    """Wired in bot/app.py; a missing repo is a wiring bug, answered by the dispatcher's apology."""
    repo: PaperRepo = ctx.services.papers
    return repo


def _topic_text(ctx: Context) -> str:
    """The registry hands a trailing `text` argument the whole line; drop the subcommand word."""
    raw: str = ctx.args.get("topic") or ""
    parts = raw.split(None, 1)
    if parts and parts[0].lower() in TOPIC_ACTIONS:
        raw = parts[1] if len(parts) > 1 else ""
    return " ".join(raw.split())


def register(registry: Registry) -> None:
    @registry.command(
        "papers",
        en="This week's arXiv papers ranked for you (default 5)",
        zh="本周与你的学习内容最相关的 arXiv 论文（默认 5 篇）",
        args=[
            ArgSpec(
                "N",
                "int",
                {"en": f"how many papers, 1 to {MAX_COUNT}", "zh": f"显示几篇，1 到 {MAX_COUNT}"},
                minimum=1,
                maximum=MAX_COUNT,
            )
        ],
    )
    async def papers(ctx: Context) -> Reply:
        repo = paper_repo(ctx)
        _enrolment, day = await current(ctx)
        # In a group the list is the cohort's: ranked for its week, without one member's topics.
        topics = [] if ctx.in_group else await repo.list_topics(ctx.user.id)
        count = ctx.args.get("N") or DEFAULT_COUNT
        return await papers_reply(repo, ctx.plan, day, ctx.lang, ctx.today(), topics, count)

    @registry.command(
        "topics",
        en="Your own paper topics: add, remove or list",
        zh="你自己的论文关注主题：添加、删除或列出",
        args=[
            ArgSpec(
                "action",
                "choice",
                {"en": "add, remove or list (default list)", "zh": "add（添加）、remove（删除）或 list（列出）"},
                choices=TOPIC_ACTIONS,
            ),
            ArgSpec(
                "topic",
                "text",
                {
                    "en": f"a topic in English, at most {MAX_TOPIC_CHARS} characters",
                    "zh": f"英文主题词，最多 {MAX_TOPIC_CHARS} 个字符",
                },
                max_length=4096,  # checked below against MAX_TOPIC_CHARS with a clearer message
            ),
        ],
    )
    async def topics(ctx: Context) -> Reply:
        _ = ctx._
        repo = paper_repo(ctx)
        action = ctx.args.get("action") or "list"
        topic = _topic_text(ctx)
        user_id = ctx.user.id  # personal, also when sent in a group
        ephemeral = ctx.in_group
        if action == "list":
            if topic:
                return Reply(plain(_("/topics list takes nothing after it.")), ephemeral=True)
            have = await repo.list_topics(user_id)
            if not have:
                return Reply(
                    plain(_("You have no topics yet. Add one with /topics add graph neural networks.")),
                    ephemeral=ephemeral,
                )
            lines = [bold(_("Your topics ({count} of {limit}):", count=len(have), limit=MAX_TOPICS))]
            lines += [plain(f"• {t}") for t in have]
            return Reply(join(lines), ephemeral=ephemeral)
        if not topic:
            return Reply(
                plain(_("Which topic? For example: /topics {action} graph neural networks", action=action)),
                ephemeral=True,
            )
        if len(topic) > MAX_TOPIC_CHARS:
            return Reply(plain(_("A topic can be at most {limit} characters.", limit=MAX_TOPIC_CHARS)), ephemeral=True)
        if action == "remove":
            if await repo.remove_topic(user_id, topic):
                return Reply(plain(_("Removed the topic “{topic}”.", topic=topic)), ephemeral=ephemeral)
            return Reply(
                plain(_("You have no topic “{topic}”. /topics list shows yours.", topic=topic)), ephemeral=True
            )
        outcome = await repo.add_topic(user_id, topic, MAX_TOPICS)
        if outcome == "duplicate":
            return Reply(plain(_("You already have the topic “{topic}”.", topic=topic)), ephemeral=True)
        if outcome == "full":
            return Reply(
                plain(
                    _(
                        "You already keep {limit} topics, the most I keep. Remove one with /topics remove.",
                        limit=MAX_TOPICS,
                    )
                ),
                ephemeral=True,
            )
        return Reply(plain(_("Added the topic “{topic}”. /papers now ranks it in.", topic=topic)), ephemeral=ephemeral)
